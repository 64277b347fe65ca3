// GEMM study v5 (production): calls kernels/gemm.h's gemm_fast_cpu, never a copy of it. Over v4
// it adds: a 14 x 32 register tile (28 of the 32 zmm registers), KC = 512 and MC = 160 tuned on
// this CPU, grow-only per-thread pack buffers, in-register 16 x 16 transposes for the transposed
// packs, paths that skip packing for skinny shapes (a 10-class head), an AVX2 kernel chosen at
// run time on CPUs without AVX-512, and OpenMP over tiles (bit-identical for any thread count).
#include "kernels/gemm.h"
#include "kernels/study/gemm/gemm_study.h"

namespace obl::kernels::study {

void gemm_v5(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k) {
    gemm_fast_cpu(c, a, b, GemmDims{1, m, n, k, false, false});
}

}  // namespace obl::kernels::study
