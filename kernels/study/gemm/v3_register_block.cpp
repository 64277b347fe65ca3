// GEMM study v3 (register blocking): a micro-kernel keeps an 8 x 32 tile of C in 16 AVX-512
// registers (8 rows x 2 vectors of 16 floats) for the WHOLE k loop and stores it once.
// Per k step: 2 vector loads of a row of B, 8 broadcasts of A(i, k), 16 FMAs. Each loaded value
// now feeds 2 or 8 FMAs instead of one, C no longer travels to memory per k, and 16 independent
// accumulators cover the FMA latency (4 cycles) so the FMA pipe can issue every cycle.
// A and B are still read where they lie: A(i, k) with stride K between the 8 rows, B's rows with
// stride N, so the K x 32 panel of B streams from L2 once per 8 rows of C (v4 fixes that).
// Edges: masked loads/stores for the last columns; rows past M alias row 0 (computed, not stored).
#include <immintrin.h>

#include "kernels/study/gemm/gemm_study.h"

#define OBL_STUDY_AVX512 __attribute__((target("avx512f")))

namespace obl::kernels::study {

namespace {

constexpr int kMr = 8;   // rows of the register tile
constexpr int kNr = 32;  // columns of the register tile: two vectors of 16 floats

// The lanes of the 16 columns starting at `col` that lie below `cols`, as a load/store mask.
OBL_STUDY_AVX512 __mmask16 lane_mask(int64_t cols, int col) {
    const int64_t r = cols - col;
    if (r >= 16) return static_cast<__mmask16>(0xFFFF);
    if (r <= 0) return 0;
    return static_cast<__mmask16>((1u << r) - 1u);
}

// The tile C[0, rows) x [0, cols) at c (row stride n) = A (rows, k) at a (row stride k) times
// B (k, cols) at b (row stride n). rows <= kMr; cols may exceed kNr (only kNr are computed).
OBL_STUDY_AVX512 void tile_8x32(float* c, const float* a, const float* b, int rows, int64_t cols,
                                int64_t n, int64_t k) {
    const __mmask16 m0 = lane_mask(cols, 0), m1 = lane_mask(cols, 16);
    const float* arow[kMr];
    for (int i = 0; i < kMr; ++i) arow[i] = a + (i < rows ? i : 0) * k;
    __m512 acc[kMr][2];
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; ++p) {
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + p * n);
        const __m512 b1 = _mm512_maskz_loadu_ps(m1, b + p * n + 16);
#pragma GCC unroll 8
        for (int i = 0; i < kMr; ++i) {
            const __m512 ai = _mm512_set1_ps(arow[i][p]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    // Unrolled with a test rather than a loop to `rows`: a run-time index would force the
    // accumulators out of registers into an array on the stack.
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
        if (i < rows) {
            _mm512_mask_storeu_ps(c + i * n, m0, acc[i][0]);
            _mm512_mask_storeu_ps(c + i * n + 16, m1, acc[i][1]);
        }
    }
}

}  // namespace

void gemm_v3(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k) {
    for (int64_t i = 0; i < m; i += kMr) {
        const int rows = static_cast<int>(m - i < kMr ? m - i : kMr);
        for (int64_t j = 0; j < n; j += kNr)
            tile_8x32(c + i * n + j, a + i * k, b + j, rows, n - j, n, k);
    }
}

}  // namespace obl::kernels::study
