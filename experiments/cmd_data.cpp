// `oblivio data`: inspect a dataset (counts per split and class, channel means / stds).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "experiments/commands.h"

namespace obl::cli {

namespace {

constexpr const char* kDataUsage =
    "usage: oblivio data info --dataset NAME [--root DIR] [options]\n"
    "\n"
    "Prints, for each split, the number of samples, the count per class and the per-channel\n"
    "pixel mean and std (pixels scaled to [0, 1]; std over all pixels, population).\n"
    "\n"
    "  --dataset NAME   cifar10 | cifar100 | fmnist | mnist | tinyimagenet | folder\n"
    "  --root DIR       the dataset directory, e.g. ../shared/data/cifar-10-batches-bin\n"
    "                   (default for fmnist: /usr/share/datasets/fashion-mnist)\n"
    "  --split S        train | test | all (default all; tinyimagenet's test is val/)\n"
    "  --size N         tinyimagenet/folder: resize images to N x N on load\n"
    "  --no-stats       counts only (skip reading the pixels)\n"
    "  --workers N      threads reading the pixels (default 2)\n"
    "  --help           this text\n";

// Prints "error: <msg>" on one line and returns the usage/bad-data status.
int fail(const std::string& msg) {
    std::string line = msg;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "error: %s\n", line.c_str());
    return 2;
}

bool parse_int(const std::string& s, int64_t lo, int64_t hi, int64_t& out) {
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi) return false;
    out = v;
    return true;
}

void print_split(const Dataset& ds, const DatasetSummary& s, DataSplit split, bool stats) {
    const Shape shape = ds.sample_shape();
    std::printf("%s: %lld samples, %d classes, sample shape %s\n", split_name(split),
                static_cast<long long>(s.samples), ds.num_classes(), shape.str().c_str());
    const std::vector<std::string> names = ds.class_names();
    for (size_t k = 0; k < s.class_counts.size(); ++k)
        std::printf("  class %3zu %-24s %8lld\n", k, names[k].c_str(),
                    static_cast<long long>(s.class_counts[k]));
    if (!stats) return;
    std::printf("  channel mean");
    for (double m : s.mean) std::printf(" %.4f", m);
    std::printf("\n  channel std ");
    for (double v : s.std) std::printf(" %.4f", v);
    std::printf("\n");
}

int data_info(int argc, char** argv) {
    std::string name, root, split = "all";
    bool stats = true;
    int64_t size = 0, workers = 2;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        std::string v;
        if (arg == "--help" || arg == "-h") {
            std::fputs(kDataUsage, stdout);
            return 0;
        } else if (arg == "--dataset") {
            if (!value(name)) return fail("--dataset needs a value (see oblivio data --help)");
        } else if (arg == "--root") {
            if (!value(root)) return fail("--root needs a directory");
        } else if (arg == "--split") {
            if (!value(split) || (split != "train" && split != "test" && split != "all"))
                return fail("--split must be train, test or all");
        } else if (arg == "--size") {
            if (!value(v) || !parse_int(v, 1, 4096, size))
                return fail("--size needs an integer in [1, 4096]");
        } else if (arg == "--workers") {
            if (!value(v) || !parse_int(v, 0, 64, workers))
                return fail("--workers needs an integer in [0, 64]");
        } else if (arg == "--no-stats") {
            stats = false;
        } else {
            return fail("unknown option '" + arg + "' for oblivio data info (see --help)");
        }
    }
    if (name.empty()) return fail("oblivio data info needs --dataset (see oblivio data --help)");
    if (root.empty()) root = default_dataset_root(name);
    if (root.empty()) return fail("dataset " + name + " has no default root: pass --root DIR");

    ImageFolderOptions image;
    image.height = image.width = size;
    std::printf("dataset %s at %s\n", name.c_str(), root.c_str());
    for (DataSplit s : dataset_splits(name, root)) {
        if (split != "all" && split != split_name(s)) continue;
        std::shared_ptr<const Dataset> ds = open_dataset(name, root, s, image);
        print_split(*ds, summarize(ds, stats, static_cast<int>(workers)), s, stats);
    }
    return 0;
}

}  // namespace

int cmd_data(int argc, char** argv) {
    try {
        if (argc < 2)
            return fail("oblivio data needs a subcommand: info (see oblivio data --help)");
        if (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
            std::fputs(kDataUsage, stdout);
            return 0;
        }
        const std::string sub = argv[1];
        if (sub == "info") return data_info(argc, argv);
        return fail("unknown subcommand 'data " + sub + "' (see oblivio data --help)");
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace obl::cli
