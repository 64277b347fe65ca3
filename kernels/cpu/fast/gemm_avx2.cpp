// AVX2 + FMA GEMM micro-kernels: the fallback for x86-64 CPUs without AVX-512 (compiled with
// -mavx2 -mfma; chosen at run time by kernels/cpu/fast/gemm.cpp). Same contract as the AVX-512
// kernels (gemm_internal.h), with the classic 6 x 16 register tile of BLIS's Haswell kernel:
// 12 ymm accumulators + 2 for the B row + 1 broadcast = 15 of the 16 ymm registers; per k step
// 12 FMAs for 2 vector loads and 6 broadcasts.
#include <immintrin.h>

#include "kernels/cpu/fast/gemm_internal.h"

namespace obl::kernels::gemm_detail {

namespace {

// Lanes [8 v, 8 v + 8) of a row that lie below n, as a maskload/maskstore mask (sign bit set).
inline __m256i lane_mask(int n, int v) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8 * v), lane);
}

// MR rows x NV vectors of 8 columns; kPackedA as in gemm_avx512.cpp. AVX2 has no mask
// registers: edge columns use vmaskmovps with an integer lane mask (loads of masked-off lanes
// read nothing, so B used in place is never read past column n), and rows >= m alias row 0.
template <int MR, int NV, bool kPackedA>
void micro_kernel(const Tile& t) {
    __m256 acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();

    __m256i mask[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) mask[v] = lane_mask(t.n, v);

    // Row pointers for both layouts: packed A is the strided case with a_rs = 1, a_ks = MR.
    const float* b = t.b;
    const float* row[MR];
    int64_t a_rs = 1, a_ks = MR;
    if constexpr (!kPackedA) {
        a_rs = t.a_rs;
        a_ks = t.a_ks;
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) row[i] = t.a + (kPackedA || i < t.m ? i : 0) * a_rs;
    int64_t off = 0;
    for (int64_t k = 0; k < t.kc; ++k) {
        __m256 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = _mm256_maskload_ps(b + 8 * v, mask[v]);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            const __m256 ai = _mm256_broadcast_ss(row[i] + off);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        off += a_ks;
        b += t.b_ks;
    }

    // Write back the valid m x n corner: C = alpha * acc (+ beta * C; beta == 0 never reads C).
    const __m256 alpha = _mm256_set1_ps(t.alpha);
    const __m256 beta = _mm256_set1_ps(t.beta);
    const bool read_c = t.beta != 0.f;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
        if (i >= t.m) break;
        float* c = t.c + i * t.ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            __m256 r = _mm256_mul_ps(alpha, acc[i][v]);
            if (read_c) r = _mm256_fmadd_ps(beta, _mm256_maskload_ps(c + 8 * v, mask[v]), r);
            _mm256_maskstore_ps(c + 8 * v, mask[v], r);
        }
    }
}

}  // namespace

// The narrow kernel (N <= 8) keeps 12 rows x 8 columns: 12 accumulators; its 12 row pointers
// still fit the general-purpose registers. Transposing packs use the portable scalar routine.
KernelSet avx2_kernel_set() {
    KernelSet s;
    s.isa = "avx2";
    s.mr = 6;
    s.nr = 16;
    s.packed = &micro_kernel<6, 2, true>;
    s.packed_half = &micro_kernel<6, 1, true>;
    s.strided = &micro_kernel<6, 2, false>;
    s.strided_half = &micro_kernel<6, 1, false>;
    s.narrow = {12, 8, &micro_kernel<12, 1, false>};
    s.pack_transposed = &pack_transposed_scalar;
    return s;
}

}  // namespace obl::kernels::gemm_detail
