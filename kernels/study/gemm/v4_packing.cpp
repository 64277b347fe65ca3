// GEMM study v4 (packing + cache blocking, the GotoBLAS / BLIS loop nest): v3's 8 x 32 register
// tile, now fed from packed copies that stay in cache while they are reused:
//   for jc in N by NC                                   (panel of B: KC x NC floats, 1 MB, L2/L3)
//     for pc in K by KC
//       pack B(pc, jc) into 32-wide k-major strips
//       for ic in M by MC
//         pack A(ic, pc) into 8-tall k-major strips     (MC x KC floats, 128 KB: stays in L2)
//         for each B strip (KC x 32, 32 KB: L1), for each A strip: the micro-kernel
// The micro-kernel reads both operands with unit stride (a[p * 8 + i], b[p * 32 + j]) instead of
// striding through A and B in memory, and every byte it touches was brought close by the packing.
// Packing zero-pads the edge strips, so the k loop needs no masks; only the store is masked. The
// first K block writes C, the later ones add to it. Pack buffers are allocated per call (fine for
// a study; the production kernel keeps grow-only per-thread buffers).
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/study/gemm/gemm_study.h"

#define OBL_STUDY_AVX512 __attribute__((target("avx512f")))

namespace obl::kernels::study {

namespace {

constexpr int kMr = 8, kNr = 32;  // register tile (as v3)
constexpr int64_t kKc = 256;      // depth of one pass: an A strip is 8 KB, a B strip 32 KB
constexpr int64_t kMc = 128;      // rows of the packed A block (a multiple of kMr)
constexpr int64_t kNc = 1024;     // columns of the packed B panel (a multiple of kNr)

OBL_STUDY_AVX512 __mmask16 lane_mask(int cols, int col) {
    const int r = cols - col;
    if (r >= 16) return static_cast<__mmask16>(0xFFFF);
    if (r <= 0) return 0;
    return static_cast<__mmask16>((1u << r) - 1u);
}

// C tile (rows x cols, row stride ldc) = [C +] packed A strip (kc x 8) times packed B strip
// (kc x 32).
OBL_STUDY_AVX512 void micro_kernel(float* c, int64_t ldc, const float* ap, const float* bp,
                                   int64_t kc, int rows, int cols, bool accumulate) {
    __m512 acc[kMr][2];
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; ++p) {
        const __m512 b0 = _mm512_loadu_ps(bp + p * kNr);
        const __m512 b1 = _mm512_loadu_ps(bp + p * kNr + 16);
#pragma GCC unroll 8
        for (int i = 0; i < kMr; ++i) {
            const __m512 ai = _mm512_set1_ps(ap[p * kMr + i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    const __mmask16 m0 = lane_mask(cols, 0), m1 = lane_mask(cols, 16);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
        if (i < rows) {
            float* ci = c + i * ldc;
            if (accumulate) {
                acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(m0, ci));
                acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(m1, ci + 16));
            }
            _mm512_mask_storeu_ps(ci, m0, acc[i][0]);
            _mm512_mask_storeu_ps(ci + 16, m1, acc[i][1]);
        }
    }
}

// A (rows x kc, row stride lda) -> 8-tall strips: ap[s * kc * 8 + p * 8 + i] = A(8 s + i, p).
void pack_a(float* ap, const float* a, int64_t lda, int64_t rows, int64_t kc) {
    for (int64_t s = 0; s * kMr < rows; ++s)
        for (int64_t p = 0; p < kc; ++p)
            for (int i = 0; i < kMr; ++i) {
                const int64_t r = s * kMr + i;
                ap[(s * kc + p) * kMr + i] = r < rows ? a[r * lda + p] : 0.f;
            }
}

// B (kc x cols, row stride ldb) -> 32-wide strips: bp[s * kc * 32 + p * 32 + j] = B(p, 32 s + j).
void pack_b(float* bp, const float* b, int64_t ldb, int64_t kc, int64_t cols) {
    for (int64_t s = 0; s * kNr < cols; ++s)
        for (int64_t p = 0; p < kc; ++p)
            for (int j = 0; j < kNr; ++j) {
                const int64_t col = s * kNr + j;
                bp[(s * kc + p) * kNr + j] = col < cols ? b[p * ldb + col] : 0.f;
            }
}

}  // namespace

void gemm_v4(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k) {
    if (k == 0) {
        std::fill(c, c + m * n, 0.f);
        return;
    }
    std::vector<float> ap(static_cast<size_t>(kMc * kKc)), bp(static_cast<size_t>(kKc * kNc));
    for (int64_t jc = 0; jc < n; jc += kNc) {
        const int64_t nc = std::min(kNc, n - jc);
        for (int64_t pc = 0; pc < k; pc += kKc) {
            const int64_t kc = std::min(kKc, k - pc);
            pack_b(bp.data(), b + pc * n + jc, n, kc, nc);
            for (int64_t ic = 0; ic < m; ic += kMc) {
                const int64_t mc = std::min(kMc, m - ic);
                pack_a(ap.data(), a + ic * k + pc, k, mc, kc);
                for (int64_t jr = 0; jr < nc; jr += kNr) {
                    for (int64_t ir = 0; ir < mc; ir += kMr) {
                        micro_kernel(c + (ic + ir) * n + jc + jr, n, ap.data() + ir * kc,
                                     bp.data() + jr * kc, kc,
                                     static_cast<int>(std::min<int64_t>(kMr, mc - ir)),
                                     static_cast<int>(std::min<int64_t>(kNr, nc - jr)), pc > 0);
                    }
                }
            }
        }
    }
}

}  // namespace obl::kernels::study
