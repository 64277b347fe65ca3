// `oblivio`: the command line. The only main() and the only place that catches obl::Error.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "kernels/common/check.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/io/safetensors.h"

namespace obl::cli {
int cmd_selfcheck(int argc, char** argv);
}

namespace {

constexpr const char* kUsage =
    "oblivio — source-free class unlearning (C++/CUDA)\n"
    "\n"
    "usage: oblivio <command> [options]\n"
    "\n"
    "commands:\n"
    "  info        print the build and machine facts (ISA, threads, CUDA)\n"
    "  selfcheck   train a small MLP with oblivio's autodiff and check that it learns\n"
    "  inspect F   list the tensors and metadata of a safetensors file (validates it)\n"
    "  --help      this text\n";

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

int cmd_inspect(int argc, char** argv) {
    if (argc != 3 || !std::strcmp(argv[2], "--help")) {
        std::fputs("usage: oblivio inspect FILE.safetensors\n"
                   "Validates the file and prints its metadata and each tensor's dtype, shape and "
                   "element count.\n",
                   argc == 3 ? stdout : stderr);
        return argc == 3 ? 0 : 2;
    }
    const obl::SafetensorsFile f = obl::read_safetensors(argv[2]);
    for (const auto& [k, v] : f.metadata) std::printf("meta %s = %s\n", k.c_str(), v.c_str());
    int64_t total = 0;
    for (const auto& name : f.order) {
        const obl::Tensor& t = f.tensors.at(name);
        total += t.numel();
        std::printf("%-48s %-4s %s\n", name.c_str(), obl::dtype_name(t.dtype()),
                    t.shape().str().c_str());
    }
    std::printf("%zu tensors, %lld elements\n", f.order.size(), static_cast<long long>(total));
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
        if (cmd == "info") return cmd_info();
        if (cmd == "inspect") return cmd_inspect(argc, argv);
        if (cmd == "selfcheck") return obl::cli::cmd_selfcheck(argc, argv);
        std::fprintf(stderr, "error: unknown command '%s' (see oblivio --help)\n", cmd.c_str());
        return 2;
    } catch (const obl::Error& e) {  // bad input (files, shapes, arguments): exit code 2
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
