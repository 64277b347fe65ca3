// `oblivio embed`: real embeddings of a dataset split at a cut of a zoo model (data/embed.h),
// written to a file or to the content-keyed cache `oblivio run` uses.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "data/catalog.h"
#include "data/embed.h"
#include "experiments/cli_util.h"
#include "experiments/commands.h"
#include "models/split.h"
#include "models/zoo.h"
#include "nn/cuda_context.h"

namespace obl::cli {

namespace {

constexpr const char* kEmbedUsage =
    "usage: oblivio embed --model M.safetensors --arch NAME --cut P --dataset NAME\n"
    "                     (--out FILE.safetensors | --cache DIR) [options]\n"
    "\n"
    "Runs every image of a dataset split through the model's body (the stages before the cut),\n"
    "deterministically: no augmentation, resize to the zoo entry's input size, normalise with its\n"
    "mean/std, eval mode. Writes x (N, embedding dims) f32 and y (N) i64 as safetensors, with\n"
    "metadata naming the model (a digest of its weights), arch, cut stage, dataset, split and\n"
    "val_per_class. With --cache the file is <DIR>/<key>.safetensors, key = a hash of all that:\n"
    "an existing valid file is reused, a corrupt one recomputed (oblivio run uses\n"
    "<out>/cache/embeddings, so this command can fill its cache ahead of a run).\n"
    "\n"
    "  --root DIR            dataset location (default: the dataset's default root)\n"
    "  --split S             train (default) | test | val (the declared validation split: the\n"
    "                        last --val-per-class train images of each class)\n"
    "  --val-per-class N     held out of train for val (default 0; val needs N >= 1)\n"
    "  --input-size N        resize images to N x N (default: the zoo entry's input size; use\n"
    "                        the size the model was trained at)\n"
    "  --device D            cpu (default) | cuda\n";

int run_embed_cmd(int argc, char** argv) {
    std::string model_path, arch, cut, dataset, root, which = "train", out, cache, v;
    std::string device = "cpu";
    int64_t val_per_class = 0, input_size = 0;
    for (ArgCursor args(argc, argv, "embed"); args.next();) {
        const std::string arg = args.current();
        if (arg == "--help" || arg == "-h") {
            std::fputs(kEmbedUsage, stdout);
            return 0;
        } else if (arg == "--model") {
            if (!args.value(model_path)) return fail("--model needs a safetensors file");
        } else if (arg == "--arch") {
            if (!args.value(arch)) return fail("--arch needs a zoo name (see oblivio models)");
        } else if (arg == "--cut") {
            if (!args.value(cut)) return fail("--cut needs a split point");
        } else if (arg == "--dataset") {
            if (!args.value(dataset)) return fail("--dataset needs a name (see oblivio data)");
        } else if (arg == "--root") {
            if (!args.value(root)) return fail("--root needs a directory");
        } else if (arg == "--split") {
            if (!args.value(which) || (which != "train" && which != "test" && which != "val"))
                return fail("--split must be train, test or val");
        } else if (arg == "--val-per-class") {
            if (!args.value(v) || !parse_int(v, 0, int64_t(1) << 32, val_per_class))
                return fail("--val-per-class needs a non-negative integer");
        } else if (arg == "--input-size") {
            if (!args.value(v) || !parse_int(v, 1, 1 << 16, input_size))
                return fail("--input-size needs a positive integer");
        } else if (arg == "--out") {
            if (!args.value(out)) return fail("--out needs a file name");
        } else if (arg == "--cache") {
            if (!args.value(cache)) return fail("--cache needs a directory");
        } else if (arg == "--device") {
            if (!args.value(device) || (device != "cpu" && device != "cuda"))
                return fail("--device must be cpu or cuda");
        } else {
            return fail("unknown option '" + arg + "' for oblivio embed (see --help)");
        }
    }
    if (model_path.empty()) return fail("oblivio embed needs --model FILE.safetensors");
    if (arch.empty()) return fail("oblivio embed needs --arch (see oblivio models)");
    if (cut.empty()) return fail("oblivio embed needs --cut (e.g. pre_logits, last_block)");
    if (dataset.empty()) return fail("oblivio embed needs --dataset (see oblivio data)");
    if (out.empty() == cache.empty())
        return fail("oblivio embed needs one of --out FILE, --cache DIR");
    if (which == "val" && val_per_class < 1)
        return fail("--split val needs --val-per-class N >= 1");
    if (which == "test" && val_per_class > 0)
        return fail("--val-per-class applies to the train and val splits, not test");
    if (device == "cuda" && !cuda_available())
        return fail("--device cuda: no usable CUDA device in this build/machine");
    const Device dev = device == "cuda" ? Device::cuda(0) : Device::cpu();
    if (root.empty()) root = default_dataset_root(dataset);
    if (root.empty()) return fail("dataset " + dataset + " has no default root: pass --root DIR");

    const ZooEntry& entry = zoo_entry(arch);
    const LoadedModel loaded = load_zoo_model(model_path, arch);
    Classifier& model = *loaded.model;
    EmbedKey key;
    key.model_digest = state_digest(model);
    key.arch = arch;
    key.cut = model.stages()[model.resolve(cut)].name;  // aliases share cache entries
    key.dataset = dataset;
    key.split = which;
    key.val_per_class = val_per_class;
    if (input_size == 0) input_size = entry.input_size;
    key.input_size = input_size;

    auto compute = [&] {
        std::shared_ptr<const Dataset> images =
            open_dataset(dataset, root, which == "test" ? DataSplit::Test : DataSplit::Train);
        if (which == "val")
            images = split_train_val(images, val_per_class).val;
        else if (which == "train" && val_per_class > 0)
            images = split_train_val(images, val_per_class).train;
        model.to(dev);
        Split sp = split(model, cut, Shape{entry.in_channels, input_size, input_size});
        EmbedOptions eo;
        eo.input_size = input_size;
        eo.mean = entry.mean;
        eo.std = entry.std;
        eo.device = dev;
        std::printf("embedding %s %s (%lld images) at %s of %s ...\n", dataset.c_str(),
                    which.c_str(), static_cast<long long>(images->size()), key.cut.c_str(),
                    arch.c_str());
        std::fflush(stdout);
        return embed(*sp.body, images, eo);
    };
    std::shared_ptr<TensorDataset> data;
    std::string path = out;
    bool hit = false;
    if (!cache.empty()) {
        const CachedEmbeddings c = cached_embeddings(cache, key, compute, [](const std::string& w) {
            std::fprintf(stderr, "%s\n", w.c_str());
        });
        data = c.data;
        path = c.path;
        hit = c.hit;
    } else {
        data = compute();
        write_embeddings(out, *data, key);
    }
    std::printf("%s %s: x %s, y [%lld] (key %s)\n", hit ? "cache hit" : "wrote", path.c_str(),
                data->x().shape().str().c_str(), static_cast<long long>(data->size()),
                key.hash().c_str());
    return 0;
}

}  // namespace

int cmd_embed(int argc, char** argv) {
    try {
        return run_embed_cmd(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace obl::cli
