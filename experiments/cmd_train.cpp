// `oblivio train`: trains an original, or an oracle without some classes, from a recipe YAML
// (experiments/train.h), resumable from its per-epoch checkpoint; reports the final model's test
// accuracy (reporting only: nothing is chosen on it) and the wall time.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "experiments/cli_util.h"
#include "experiments/commands.h"
#include "experiments/train.h"
#include "models/zoo.h"
#include "nn/cuda_context.h"

namespace obl::cli {

namespace {

constexpr const char* kTrainUsage =
    "usage: oblivio train --recipe FILE.yaml --out MODEL.safetensors [options]\n"
    "\n"
    "Trains a zoo model from a recipe (experiments/recipes/*.yaml): SGD with momentum, a\n"
    "per-epoch learning-rate schedule, fixed epochs (no early stopping, no checkpoint chosen on\n"
    "test data). After every epoch the full state goes atomically to MODEL.safetensors.ckpt; run\n"
    "the same command again to resume after a kill (same recipe hash), bit-identically on the\n"
    "CPU. The final model is written atomically with its recipe in the metadata, then the\n"
    "checkpoint is removed. At the end: test accuracy (top-1 and per class) when the dataset has\n"
    "a test split, and the wall time.\n"
    "\n"
    "  --recipe FILE     the recipe YAML (a flat map of the fields below)\n"
    "  --out FILE        the trained model (safetensors; its directory must exist)\n"
    "  --root DIR        dataset directory (default: the dataset's default root, if any)\n"
    "  --set key=value   override a recipe field (repeatable, applied after the file in order),\n"
    "                    e.g. --set epochs=1 --set lr=0.05 --set milestones=30,60\n"
    "  --exclude C[,C]   oracle: train without these classes (the head keeps every class);\n"
    "                    the same as --set exclude_classes=C,C, applied last\n"
    "  --init FILE       start from these weights, matched by tensor name (e.g. converted\n"
    "                    torchvision ImageNet weights); tensors of another shape (a head of\n"
    "                    another class count, a CIFAR stem's conv1) keep the recipe seed's\n"
    "                    fresh values and are listed\n"
    "  --device D        cpu | cuda (default cpu)\n"
    "  --help            this text\n"
    "\n"
    "Recipe fields (name, type, default, meaning):\n";

bool is_tty() { return ::isatty(::fileno(stdout)) == 1; }

int run_train(int argc, char** argv) {
    std::string recipe_path, out, root, init, exclude, device = "cpu", v;
    Overrides overrides;
    for (ArgCursor args(argc, argv, "train"); args.next();) {
        const std::string arg = args.current();
        if (arg == "--help" || arg == "-h") {
            std::fputs(kTrainUsage, stdout);
            for (const FieldInfo& f : describe_fields(TrainRecipe{}))
                std::printf(
                    "  %-16s %-8s %-15s %s%s\n", f.name.c_str(), f.type.c_str(),
                    f.value.empty() ? "\"\"" : f.value.c_str(), f.doc.c_str(),
                    f.range.empty() || f.range == "any" ? "" : (" (" + f.range + ")").c_str());
            return 0;
        } else if (arg == "--recipe") {
            if (!args.value(recipe_path)) return fail("--recipe needs a YAML file");
        } else if (arg == "--out") {
            if (!args.value(out)) return fail("--out needs a file name");
        } else if (arg == "--root") {
            if (!args.value(root)) return fail("--root needs a directory");
        } else if (arg == "--set") {
            if (!args.value(v)) return fail("--set needs key=value");
            overrides.push_back(parse_key_value(v));
        } else if (arg == "--exclude") {
            if (!args.value(exclude)) return fail("--exclude needs a class list like 3 or 3,5");
        } else if (arg == "--init") {
            if (!args.value(init)) return fail("--init needs a safetensors file");
        } else if (arg == "--device") {
            if (!args.value(device) || (device != "cpu" && device != "cuda"))
                return fail("--device must be cpu or cuda");
        } else {
            return fail("unknown option '" + arg + "' for oblivio train (see --help)");
        }
    }
    if (recipe_path.empty()) return fail("oblivio train needs --recipe FILE.yaml");
    if (out.empty()) return fail("oblivio train needs --out MODEL.safetensors");
    if (!exclude.empty()) overrides.push_back({"exclude_classes", exclude});
    if (device == "cuda" && !cuda_available())
        return fail("--device cuda: no usable CUDA device in this build/machine");
    if (!init.empty() && !std::filesystem::is_regular_file(init))
        return fail("--init: no such file " + init);
    if (const std::string bad = output_path_problem("--out", out); !bad.empty()) return fail(bad);
    // The output (and its checkpoint <out>.ckpt) must not overwrite an input.
    for (const std::string& input : {recipe_path, init})
        if (!input.empty() && (same_file(input, out) || same_file(input, out + ".ckpt")))
            return fail("--out " + out + " would overwrite the input " + input);

    // Everything that can be checked before training is: recipe, data, arch vs data.
    const TrainRecipe recipe = load_recipe(recipe_path, overrides);
    if (root.empty()) root = default_dataset_root(recipe.dataset);
    if (root.empty())
        return fail("dataset " + recipe.dataset + " has no default root: pass --root DIR");
    // The test split (reported at the end) is opened, and so validated, before training: a
    // corrupt or missing test file must not surface only after the model has been written.
    std::shared_ptr<const Dataset> test;
    for (DataSplit s : dataset_splits(recipe.dataset, root))
        if (s == DataSplit::Test) test = open_dataset(recipe.dataset, root, DataSplit::Test);

    TrainOptions options;
    options.device = device == "cuda" ? Device::cuda(0) : Device::cpu();
    options.init_weights = init;
    const bool tty = is_tty();
    auto last_plain = std::chrono::steady_clock::now() - std::chrono::hours(1);
    options.progress = [&](const std::string& line, bool keep) {
        if (tty) {
            std::printf("\r%s\033[K%s", line.c_str(), keep ? "\n" : "");
        } else {
            // Logs get every kept line and a status line at most every 30 s.
            const auto now = std::chrono::steady_clock::now();
            if (!keep && now - last_plain < std::chrono::seconds(30)) return;
            if (!keep) last_plain = now;
            std::printf("%s\n", line.c_str());
        }
        std::fflush(stdout);
    };

    std::printf(
        "train %s on %s (%s) for %d epochs, batch %lld, lr %g (%s), seed %lld%s\n",
        recipe.arch.c_str(), recipe.dataset.c_str(), root.c_str(), recipe.epochs,
        static_cast<long long>(recipe.batch_size), recipe.lr, recipe.schedule.c_str(),
        static_cast<long long>(recipe.seed),
        recipe.exclude_classes.empty()
            ? ""
            : (", without classes " + detail::format_field(recipe.exclude_classes)).c_str());
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    TrainOutcome result = train_model(recipe, root, out, options);
    std::printf("wrote %s (recipe hash %s)\n", out.c_str(), result.recipe_hash.c_str());

    if (test) {
        const Accuracy acc =
            evaluate_accuracy(*result.model, test, eval_transforms(recipe), options.device, 256, 1);
        std::printf("test accuracy (reported only): top-1 %.2f%% on %lld images\n", 100 * acc.top1,
                    static_cast<long long>(test->size()));
        const std::vector<std::string> names = test->class_names();
        for (int c = 0; c < result.model->num_classes(); ++c) {
            const size_t i = static_cast<size_t>(c);
            std::printf("  %3d %-20s %7.2f%% (%lld/%lld)\n", c,
                        i < names.size() ? names[i].c_str() : "", 100 * acc.per_class(c),
                        static_cast<long long>(acc.correct[i]),
                        static_cast<long long>(acc.count[i]));
        }
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wall time %.1f s (training %.1f s%s)\n", wall, result.seconds,
                result.resumed_from_epoch >= 0
                    ? (", resumed after epoch " + std::to_string(result.resumed_from_epoch)).c_str()
                    : "");
    return 0;
}

}  // namespace

int cmd_train(int argc, char** argv) {
    try {
        return run_train(argc, argv);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        if (is_tty()) std::printf("\n");  // end a progress line redrawn in place
        return fail(e.what());
    }
}

}  // namespace obl::cli
