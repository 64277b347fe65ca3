// libFuzzer target: the safetensors reader (nn/io/safetensors.h), through read_safetensors — the
// function `oblivio inspect`, Module::load_safetensors and the zoo loader call.
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "kernels/common/check.h"
#include "nn/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static obl::fuzz::MemFile file("fuzz.safetensors");
    try {
        const obl::SafetensorsFile f = obl::read_safetensors(file.write(data, size));
        // Touch every loaded byte so that a tensor shorter than its shape shows up under ASan.
        uint64_t sum = 0;
        for (const auto& [name, t] : f.tensors) {
            const auto* p = static_cast<const uint8_t*>(t.raw());
            for (uint64_t i = 0; i < t.nbytes(); ++i) sum += p[i];
        }
        volatile uint64_t sink = sum;
        (void)sink;
    } catch (const obl::Error&) {
    }
    return 0;
}
