// `oblivio inspect FILE.safetensors`: validates a weights file and lists what it holds.
#include <cstdio>
#include <cstring>

#include "experiments/commands.h"
#include "nn/io/safetensors.h"

namespace obl::cli {

int cmd_inspect(int argc, char** argv) {
    if (argc == 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
        std::puts("usage: oblivio inspect FILE.safetensors\n"
                  "Validates the file (header, offsets, dtypes, shapes) and prints its metadata "
                  "and each tensor's dtype and shape.");
        return 0;
    }
    if (argc != 2) {
        std::fputs("error: usage: oblivio inspect FILE.safetensors\n", stderr);
        return 2;
    }
    const SafetensorsFile f = read_safetensors(argv[1]);
    for (const auto& [k, v] : f.metadata) std::printf("meta %s = %s\n", k.c_str(), v.c_str());
    int64_t total = 0;
    for (const auto& name : f.order) {
        const Tensor& t = f.tensors.at(name);
        total += t.numel();
        std::printf("%-48s %-4s %s\n", name.c_str(), dtype_name(t.dtype()), t.shape().str().c_str());
    }
    std::printf("%zu tensors, %lld elements\n", f.order.size(), static_cast<long long>(total));
    return 0;
}

}  // namespace obl::cli
