// `oblivio`: the command line. The only main() and the only place that catches obl::Error:
// bad input (files, shapes, arguments) prints "error: <message>" and exits 2; anything else
// unexpected exits 1.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "experiments/cmd_forget.h"
#include "experiments/commands.h"
#include "kernels/common/check.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "nn/cuda_context.h"
#include "nn/device.h"

namespace {

constexpr const char* kUsage =
    "oblivio — source-free class unlearning (C++/CUDA)\n"
    "\n"
    "usage: oblivio <command> [options]      (oblivio <command> --help for each)\n"
    "\n"
    "commands:\n"
    "  selfcheck   train a small MLP with oblivio's autodiff and check that it learns\n"
    "  forget      make a model forget classes, source-free (synthetic embeddings)\n"
    "  explain     dry run of forget: the split, where the draws land, settings, time estimate\n"
    "  methods     list the unlearning methods and their settings (-v: every field)\n"
    "  train       train an original (or an oracle without some classes) from a recipe YAML\n"
    "  embed       compute (and cache) real embeddings of a dataset at a cut\n"
    "  run         run an experiment YAML (resumable; one JSON line per result row)\n"
    "  report      tables (Markdown, CSV, LaTeX) and SVG plots of an experiment's results\n"
    "  models      list the model zoo (input size, parameters, split points)\n"
    "  eval        top-1 and per-class accuracy of a converted model on a dataset\n"
    "  data info   counts per split and class, channel means/stds of a dataset\n"
    "  inspect F   validate a safetensors file and list its tensors and metadata\n"
    "  info        print the build and machine facts (ISA, threads, CUDA)\n";

int cmd_info() {
    std::printf("oblivio build: CUDA %s, CPU ISA %s, %d OpenMP threads\n",
                OBL_WITH_CUDA ? "on" : "off", obl::cpu_isa_name(obl::cpu_isa()),
                obl::num_threads());
    if (obl::cuda_available()) {
        std::printf("GPU: %s (%d SMs)\n", obl::cuda_context().device_name().c_str(),
                    obl::cuda_context().sm_count());
    } else {
        std::printf("GPU: none available\n");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
            std::fputs(kUsage, argc < 2 ? stderr : stdout);
            return argc < 2 ? 2 : 0;
        }
        const std::string cmd = argv[1];
        // Each subcommand sees its own name as argv[0].
        if (cmd == "info") return cmd_info();
        if (cmd == "selfcheck") return obl::cli::cmd_selfcheck(argc - 1, argv + 1);
        if (cmd == "data") return obl::cli::cmd_data(argc - 1, argv + 1);
        if (cmd == "inspect") return obl::cli::cmd_inspect(argc - 1, argv + 1);
        if (cmd == "models") return obl::cli::cmd_models(argc - 1, argv + 1);
        if (cmd == "eval") return obl::cli::cmd_eval(argc - 1, argv + 1);
        if (cmd == "forget") return obl::cli::cmd_forget(argc - 1, argv + 1);
        if (cmd == "explain") return obl::cli::cmd_explain(argc - 1, argv + 1);
        if (cmd == "methods") return obl::cli::cmd_methods(argc - 1, argv + 1);
        if (cmd == "train") return obl::cli::cmd_train(argc - 1, argv + 1);
        if (cmd == "embed") return obl::cli::cmd_embed(argc - 1, argv + 1);
        if (cmd == "run") return obl::cli::cmd_run(argc - 1, argv + 1);
        if (cmd == "report") return obl::cli::cmd_report(argc - 1, argv + 1);
        std::fprintf(stderr, "error: unknown command '%s' (see oblivio --help)\n", cmd.c_str());
        return 2;
    } catch (const obl::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
