// libFuzzer target: the experiment YAML loader (experiments/config.h), through load_experiment —
// the function `oblivio run` reads its experiment file with (parsing, validation and the class-set
// expansion it does against the dataset's class count).
#include <cstdint>

#include "experiments/config.h"
#include "fuzz/fuzz_util.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static obl::fuzz::MemFile file("fuzz_experiment.yaml");
    try {
        obl::load_experiment(file.write(data, size));
    } catch (const obl::Error&) {
    }
    return 0;
}
