// libFuzzer target: the training-recipe YAML loader (experiments/train.h), through load_recipe —
// the function `oblivio train --recipe` and the experiment runner read recipes with.
#include <cstdint>

#include "experiments/train.h"
#include "fuzz/fuzz_util.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static obl::fuzz::MemFile file("fuzz_recipe.yaml");
    try {
        obl::load_recipe(file.write(data, size));
    } catch (const obl::Error&) {
    }
    return 0;
}
