// `oblivio run <experiment.yaml>`: one experiment file (experiments/config.h) run row by row
// (experiments/runner.h), each finished row appended as one JSON line to
// <out>/<name>/results.jsonl; a rerun skips the rows already there.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "data/catalog.h"
#include "experiments/cli_util.h"
#include "experiments/commands.h"
#include "experiments/config.h"
#include "experiments/runner.h"
#include "nn/cuda_context.h"

namespace obl::cli {

namespace {

constexpr const char* kRunUsage =
    "usage: oblivio run EXPERIMENT.yaml [--root DIR] [--models DIR] [--out DIR]\n"
    "                   [--only key=value ...] [--dry-run] [--device cpu|cuda]\n"
    "\n"
    "Runs an experiment file (schema: experiments/README.md): for each forget class set, the\n"
    "original and the oracle (retrained without the classes), then every cut x method x source\n"
    "x seed (x ablation value) unlearning run, each measured on real train/test data (reporting\n"
    "only: nothing is chosen on test data). One JSON line per row is appended to\n"
    "<out>/<name>/results.jsonl; rerunning skips rows already there, so a killed run resumes.\n"
    "Embeddings are cached in <out>/cache/embeddings, trained models in <out>/cache/models.\n"
    "\n"
    "  --root DIR          dataset location (default: the dataset's default root, if any)\n"
    "  --root NAME=DIR     location of dataset NAME (experiments over several datasets)\n"
    "  --models DIR        folder holding the weight files the experiment names\n"
    "  --out DIR           output folder (default runs)\n"
    "  --only key=value    run only matching rows; keys: dataset, kind (original|oracle|\n"
    "                      unlearn), method, source, cut, classes (3 or 3,5), seed, k,\n"
    "                      samples_per_class, dist, sigma. Repeat a key for alternatives;\n"
    "                      different keys must all match. Original/oracle rows have no\n"
    "                      method/source/cut/seed.\n"
    "  --dry-run           list the rows (done / todo) and their ids; run nothing\n"
    "  --device D          cpu (default) | cuda\n"
    "Exit status: 0 when every selected row is done, 1 when some row failed, 2 on bad input.\n";

int run_cmd(int argc, char** argv) {
    std::string file;
    RunOptions opt;
    std::string device = "cpu", v;
    for (ArgCursor args(argc, argv, "run"); args.next();) {
        const std::string arg = args.current();
        if (arg == "--help" || arg == "-h") {
            std::fputs(kRunUsage, stdout);
            return 0;
        } else if (arg == "--root") {
            if (!args.value(v)) return fail("--root needs a directory (or DATASET=DIR)");
            const size_t eq = v.find('=');
            const auto& names = dataset_names();
            if (eq != std::string::npos &&
                std::find(names.begin(), names.end(), v.substr(0, eq)) != names.end())
                opt.data_roots[v.substr(0, eq)] = v.substr(eq + 1);
            else
                opt.data_root = v;
        } else if (arg == "--models") {
            if (!args.value(opt.models_dir)) return fail("--models needs a directory");
        } else if (arg == "--out") {
            if (!args.value(opt.out_dir)) return fail("--out needs a directory");
        } else if (arg == "--only") {
            if (!args.value(v)) return fail("--only needs key=value");
            opt.only.push_back(parse_key_value(v));
        } else if (arg == "--dry-run") {
            opt.dry_run = true;
        } else if (arg == "--device") {
            if (!args.value(device) || (device != "cpu" && device != "cuda"))
                return fail("--device must be cpu or cuda");
        } else if (!arg.empty() && arg[0] == '-') {
            return fail("unknown option '" + arg + "' for oblivio run (see --help)");
        } else if (file.empty()) {
            file = arg;
        } else {
            return fail("oblivio run takes one experiment file, got '" + file + "' and '" + arg +
                        "'");
        }
    }
    if (file.empty()) return fail("oblivio run needs an experiment file (see --help)");
    if (device == "cuda" && !cuda_available())
        return fail("--device cuda: no usable CUDA device in this build/machine");
    opt.device = device == "cuda" ? Device::cuda(0) : Device::cpu();
    const ExperimentConfig cfg = load_experiment(file);
    filter_rows({}, opt.only);  // an unknown --only key fails before any work
    const RunSummary s = run_experiment(cfg, opt);
    if (opt.dry_run) {
        std::printf("%lld rows: %lld done, %lld to run\n", static_cast<long long>(s.rows),
                    static_cast<long long>(s.skipped), static_cast<long long>(s.rows - s.skipped));
        return 0;
    }
    std::printf("%s: %lld rows ran, %lld were already done, %lld failed -> %s\n", cfg.name.c_str(),
                static_cast<long long>(s.ran), static_cast<long long>(s.skipped),
                static_cast<long long>(s.failed), s.results_path.c_str());
    return s.failed > 0 ? 1 : 0;
}

}  // namespace

int cmd_run(int argc, char** argv) {
    try {
        return run_cmd(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace obl::cli
