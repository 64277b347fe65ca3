// `oblivio models`: the zoo (models/zoo.h) with input size, class count, parameters and split
// points. `oblivio eval`: top-1 and per-class accuracy of a safetensors checkpoint on a dataset
// (inputs scaled to [0, 1], resized to the model's input size when they differ, normalised with
// the zoo entry's mean/std), with a progress bar on stderr when it is a terminal (so that in logs
// stderr holds nothing but a possible one-line "error: ...").
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "experiments/cli_util.h"
#include "experiments/commands.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops.h"

namespace obl::cli {

namespace {

constexpr const char* kModelsUsage =
    "usage: oblivio models\n"
    "\n"
    "Lists the model zoo: name, input size, default class count, parameters (at that class\n"
    "count), split points (stage boundaries, then aliases) and the default split point.\n";

constexpr const char* kEvalUsage =
    "usage: oblivio eval --model FILE.safetensors --arch NAME --dataset NAME [options]\n"
    "\n"
    "Top-1 and per-class accuracy of converted weights (tools/convert_checkpoint.py) on a\n"
    "dataset split. The file's metadata 'arch' must equal --arch and its num_classes the\n"
    "dataset's class count.\n"
    "\n"
    "  --model FILE     safetensors weights\n"
    "  --arch NAME      a zoo name (see oblivio models), e.g. cifar_resnet20\n"
    "  --dataset NAME   cifar10 | cifar100 | fmnist | mnist | tinyimagenet | folder\n"
    "  --root DIR       the dataset directory, e.g. ../shared/data/cifar-10-batches-bin\n"
    "  --split S        train | test (default test)\n"
    "  --batch N        batch size (default 256)\n"
    "  --device D       cpu | cuda (default cpu)\n"
    "  --help           this text\n";

// 11689512 -> "11,689,512".
std::string grouped(int64_t v) {
    std::string s = std::to_string(v), out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i && (s.size() - i) % 3 == 0) out += ',';
        out += s[i];
    }
    return out;
}

std::string clock_time(double seconds) {
    const long s = static_cast<long>(std::max(0.0, seconds) + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
    return buf;
}

bool stderr_is_tty() { return ::isatty(::fileno(stderr)) == 1; }

// One line, redrawn in place: "eval [######------]  4096/10000  1234.5 img/s  ETA 0:05".
void progress(int64_t done, int64_t total, double elapsed_s) {
    if (!stderr_is_tty()) return;
    constexpr int kWidth = 30;
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const int filled = static_cast<int>(frac * kWidth);
    const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    std::fprintf(stderr, "\reval [%s%s] %6lld/%lld  %8.1f img/s  ETA %s ",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), '-').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate,
                 clock_time(eta).c_str());
    std::fflush(stderr);
}

int run_eval(int argc, char** argv) {
    std::string model_path, arch, dataset, root, split = "test", device = "cpu", v;
    int64_t batch = 256;
    for (int i = first_option(argc, argv, "eval"); i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(kEvalUsage, stdout);
            return 0;
        } else if (arg == "--model") {
            if (!value(model_path)) return fail("--model needs a safetensors file");
        } else if (arg == "--arch") {
            if (!value(arch)) return fail("--arch needs a zoo name (see oblivio models)");
        } else if (arg == "--dataset") {
            if (!value(dataset)) return fail("--dataset needs a name (see oblivio eval --help)");
        } else if (arg == "--root") {
            if (!value(root)) return fail("--root needs a directory");
        } else if (arg == "--split") {
            if (!value(split) || (split != "train" && split != "test"))
                return fail("--split must be train or test");
        } else if (arg == "--batch") {
            if (!value(v) || !parse_int(v, 1, 1 << 16, batch))
                return fail("--batch needs an integer in [1, 65536]");
        } else if (arg == "--device") {
            if (!value(device) || (device != "cpu" && device != "cuda"))
                return fail("--device must be cpu or cuda");
        } else {
            return fail("unknown option '" + arg + "' for oblivio eval (see --help)");
        }
    }
    if (model_path.empty()) return fail("oblivio eval needs --model FILE.safetensors");
    if (arch.empty()) return fail("oblivio eval needs --arch (see oblivio models)");
    if (dataset.empty()) return fail("oblivio eval needs --dataset (see oblivio eval --help)");
    if (root.empty()) root = default_dataset_root(dataset);
    if (root.empty()) return fail("dataset " + dataset + " has no default root: pass --root DIR");
    if (device == "cuda" && !cuda_available())
        return fail("--device cuda: no usable CUDA device in this build/machine");
    const Device dev = device == "cuda" ? Device::cuda(0) : Device::cpu();

    const LoadedModel loaded = load_zoo_model(model_path, arch);
    Classifier& model = *loaded.model;
    const ZooEntry& entry = *loaded.entry;
    const DataSplit which = split == "train" ? DataSplit::Train : DataSplit::Test;
    std::shared_ptr<const Dataset> data = open_dataset(dataset, root, which);
    if (data->num_classes() != model.num_classes())
        return fail(model_path + " has " + std::to_string(model.num_classes()) + " classes but " +
                    dataset + " has " + std::to_string(data->num_classes()));
    const Shape sample = data->sample_shape();
    if (sample.size() != 3 || sample[0] != entry.in_channels)
        return fail(arch + " takes " + std::to_string(entry.in_channels) + "-channel (" +
                    std::to_string(entry.in_channels) + ", H, W) images; " + dataset +
                    " samples are " + sample.str());

    std::vector<TransformPtr> transforms;
    if (sample[1] != entry.input_size || sample[2] != entry.input_size)
        transforms.push_back(resize(entry.input_size, entry.input_size, InterpMode::Bilinear));
    transforms.push_back(normalize(entry.mean, entry.std));
    LoaderOptions options;
    options.batch_size = batch;
    options.shuffle = false;
    options.num_workers = 1;
    options.transforms = std::make_shared<Compose>(transforms);
    DataLoader loader(data, options);
    model.to(dev);

    std::printf("model %s (%s, %s params) on %s %s: %lld images, %s, batch %lld\n",
                model_path.c_str(), arch.c_str(), grouped(model.num_parameters()).c_str(),
                dataset.c_str(), split.c_str(), static_cast<long long>(data->size()),
                device.c_str(), static_cast<long long>(batch));
    std::printf("inputs: %s\n", options.transforms->describe().c_str());
    std::fflush(stdout);

    const int k = model.num_classes();
    std::vector<int64_t> correct(static_cast<size_t>(k), 0), count(static_cast<size_t>(k), 0);
    const int64_t total = data->size();
    int64_t done = 0;
    NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    const auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    loader.start_epoch(0);
    progress(0, total, 0.0);
    Batch b;
    while (loader.next(b)) {
        const std::vector<int64_t> pred =
            argmax(model.forward(b.x.to(dev)), 1).to_vector<int64_t>();
        const std::vector<int64_t> y = b.y.to_vector<int64_t>();
        for (size_t i = 0; i < y.size(); ++i) {
            count[static_cast<size_t>(y[i])] += 1;
            correct[static_cast<size_t>(y[i])] += pred[i] == y[i];
        }
        done += static_cast<int64_t>(y.size());
        progress(done, total, seconds());
    }
    const double elapsed = seconds();
    if (stderr_is_tty()) std::fprintf(stderr, "\n");

    int64_t hits = 0;
    for (int64_t c : correct) hits += c;
    std::printf("top-1 %.2f%% (%lld/%lld) in %.1f s, %.1f img/s\n",
                total ? 100.0 * static_cast<double>(hits) / static_cast<double>(total) : 0.0,
                static_cast<long long>(hits), static_cast<long long>(total), elapsed,
                elapsed > 0 ? static_cast<double>(total) / elapsed : 0.0);
    std::printf("per-class accuracy:\n");
    const std::vector<std::string> names = data->class_names();
    for (int c = 0; c < k; ++c) {
        const size_t i = static_cast<size_t>(c);
        std::printf("  %3d %-20s %7.2f%% (%lld/%lld)\n", c, names[i].c_str(),
                    count[i]
                        ? 100.0 * static_cast<double>(correct[i]) / static_cast<double>(count[i])
                        : 0.0,
                    static_cast<long long>(correct[i]), static_cast<long long>(count[i]));
    }
    return 0;
}

int run_models(int argc, char** argv) {
    for (int i = first_option(argc, argv, "models"); i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kModelsUsage, stdout);
            return 0;
        }
        return fail("unknown option '" + arg + "' for oblivio models (see --help)");
    }
    std::printf("%-16s %-9s %7s %12s  %s\n", "name", "input", "classes", "params", "description");
    for (const ZooEntry& e : zoo()) {
        std::shared_ptr<Classifier> m = make_model(e.name);
        const std::string input = std::to_string(e.input_size) + "x" + std::to_string(e.input_size);
        std::printf("%-16s %-9s %7d %12s  %s\n", e.name.c_str(), input.c_str(),
                    e.default_num_classes, grouped(m->num_parameters()).c_str(),
                    e.description.c_str());
        std::string points;
        for (size_t i = 1; i < m->stages().size(); ++i) points += " " + m->stages()[i].name;
        std::string aliases;
        for (const auto& [alias, target] : m->aliases())
            aliases += (aliases.empty() ? " " : ", ") + alias + " -> " + target;
        std::printf("    split points:%s\n    aliases:%s (default split: %s)\n", points.c_str(),
                    aliases.c_str(), e.default_split.c_str());
    }
    return 0;
}

}  // namespace

int cmd_models(int argc, char** argv) {
    try {
        return run_models(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

int cmd_eval(int argc, char** argv) {
    try {
        return run_eval(argc, argv);
    } catch (const std::exception& e) {
        if (stderr_is_tty()) std::fprintf(stderr, "\r\033[K");  // erase a progress line
        return fail(e.what());
    }
}

}  // namespace obl::cli
