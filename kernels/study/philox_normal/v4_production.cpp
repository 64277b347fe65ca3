// Philox normal study v4 (production): calls kernels/random.h's fill_normal_fast_cpu, never a copy
// of it. Over v3 it adds the vectorised Box-Muller: ln u from getexp/getmant and an atanh series,
// sin/cos of 2 pi u from a quadrant reduction and Taylor polynomials, 8 doubles per instruction,
// no libm call per element; a 4 x 16 in-register transpose back to element order; an AVX2 twin;
// and OpenMP over fixed chunks (results independent of the thread count).
#include "kernels/study/philox_normal/philox_normal_study.h"

namespace obl::kernels::study {

void philox_normal_v4(float* y, RandomDims d) { fill_normal_fast_cpu(y, d, 0.0, 1.0); }

}  // namespace obl::kernels::study
