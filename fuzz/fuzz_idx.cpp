// libFuzzer target: the IDX reader of MNIST / Fashion-MNIST (data/mnist.h), through read_idx_file
// — the function load_mnist (and so `oblivio train` / `run` on fmnist) reads all four files with.
// Inputs may be gzipped or plain (zlib's gz* API reads both).
#include <cstdint>

#include "data/mnist.h"
#include "fuzz/fuzz_util.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static obl::fuzz::MemFile file("fuzz_idx");
    try {
        obl::read_idx_file(file.write(data, size));
    } catch (const obl::Error&) {
    }
    return 0;
}
