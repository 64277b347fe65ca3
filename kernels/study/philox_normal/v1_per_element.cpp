// Philox normal study v1 (per element): each element computes its own normal straight from the
// stream contract: Philox4x32-10 of block e / 4 (10 rounds of two 32x32 -> 64-bit multiplies),
// then Box-Muller on the element's pair of words in double with libm (log, sqrt, cos or sin).
// Simple, and wasteful: the 4 elements of a block each redo the same Philox call, and the 2
// elements of a pair each redo the same log and sqrt.
#include "kernels/common/philox.h"
#include "kernels/study/philox_normal/philox_normal_study.h"

namespace obl::kernels::study {

void philox_normal_v1(float* y, RandomDims d) {
    for (int64_t i = 0; i < d.n; ++i)
        y[i] = static_cast<float>(philox_normal(d.offset + static_cast<uint64_t>(i), d.seed));
}

}  // namespace obl::kernels::study
