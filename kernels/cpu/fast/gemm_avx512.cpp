// AVX-512 GEMM micro-kernels (compiled with -mavx512f/dq/bw/vl -mfma; chosen at run time by
// kernels/cpu/fast/gemm.cpp). Computes one register tile C = alpha * A B + beta * C, see
// gemm_internal.h; the blocking around it follows GotoBLAS (Goto & van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", TOMS 2008) and BLIS (Van Zee & van de Geijn, 2015).
//
// Register budget (32 zmm registers of 16 floats): the general kernel keeps a 14 x 32 tile of C
// in 28 accumulators, loads one k-row of the packed B strip into 2 registers and broadcasts the
// 14 A values one at a time (vbroadcastss, or an embedded {1to16} FMA operand). Per k step that
// is 28 FMAs for 2 vector loads + 14 scalar broadcasts, so the FMA pipe, not the load ports, is
// the bottleneck, and 28 independent accumulators hide the 4-cycle FMA latency. The narrow
// kernel (N <= 16, e.g. a 10-class linear head) keeps 8 rows x 16 columns and reads A in place
// through 8 row pointers: with 24 rows the pointers spilled to the stack and every broadcast
// paid an extra reload (42 -> 63 GFLOP/s on 256x512x10 when cut to 8 rows).
#include <immintrin.h>

#include "kernels/cpu/fast/gemm_internal.h"

namespace obl::kernels::gemm_detail {

namespace {

// Lanes [16 v, 16 v + 16) of a row that lie below n, as a load/store mask.
inline __mmask16 lane_mask(int n, int v) {
    const int r = n - 16 * v;
    if (r >= 16) return static_cast<__mmask16>(0xFFFF);
    if (r <= 0) return 0;
    return static_cast<__mmask16>((1u << r) - 1u);
}

// MR rows x NV vectors of 16 columns. kPackedA: A(i, k) = a[i + k * MR] with all MR rows
// readable (zero-padded panel); otherwise A(i, k) = a[i * a_rs + k * a_ks] and rows >= m alias
// row 0 (computed, never stored), so no byte outside A is read.
template <int MR, int NV, bool kPackedA>
void micro_kernel(const Tile& t) {
    __m512 acc[MR][NV];
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

    __mmask16 mask[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) mask[v] = lane_mask(t.n, v);

        // Start fetching the C tile now, so that the write-back after the k loop does not stall.
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
        if (i < t.m) {
            _mm_prefetch(reinterpret_cast<const char*>(t.c + i * t.ldc), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(t.c + i * t.ldc + 16 * NV - 1), _MM_HINT_T0);
        }
    }

    const float* b = t.b;
    const int64_t b_ks = t.b_ks;
    const int64_t kc = t.kc;
    if constexpr (kPackedA) {
        const float* a = t.a;
#pragma GCC unroll 2
        for (int64_t k = 0; k < kc; ++k) {
            __m512 bv[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + 16 * v);
#pragma GCC unroll 32
            for (int i = 0; i < MR; ++i) {
                const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
            }
            a += MR;
            b += b_ks;
        }
    } else {
        const float* row[MR];
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) row[i] = t.a + (i < t.m ? i : 0) * t.a_rs;
        const int64_t a_ks = t.a_ks;
        int64_t off = 0;
        for (int64_t k = 0; k < kc; ++k) {
            __m512 bv[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + 16 * v);
#pragma GCC unroll 32
            for (int i = 0; i < MR; ++i) {
                const __m512 ai = _mm512_set1_ps(row[i][off]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
            }
            off += a_ks;
            b += b_ks;
        }
    }

    // Write back the valid m x n corner: C = alpha * acc (+ beta * C).
    const __m512 alpha = _mm512_set1_ps(t.alpha);
    const __m512 beta = _mm512_set1_ps(t.beta);
    const bool read_c = t.beta != 0.f;
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
        if (i >= t.m) break;
        float* c = t.c + i * t.ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            __m512 r = _mm512_mul_ps(alpha, acc[i][v]);
            if (read_c) r = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask[v], c + 16 * v), r);
            _mm512_mask_storeu_ps(c + 16 * v, mask[v], r);
        }
    }
}

// GCC 12's own unpack/shuffle intrinsics start from _mm512_undefined_ps() and trip
// -Wmaybe-uninitialized once inlined here (a false positive inside <avx512fintrin.h>).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// In-register transpose of a 16 x 16 block: r[i] lane j  ->  r[j] lane i. Four stages of
// shuffles (64 instructions for 256 floats): unpack pairs of rows, then 64-bit, then two rounds of
// 128-bit lane shuffles (0x88 picks lanes 0 and 2 of each source, 0xDD lanes 1 and 3).
inline void transpose16(__m512 r[16]) {
    __m512 t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // r[4 i + c], 128-bit lane L: rows 4i..4i+3 at column 4 L + c.
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
    }
}

// PackTransposed (gemm_internal.h) in 16 x 16 blocks: 16 source rows (missing ones read as zero
// through an empty load mask) x 16 k values are loaded, transposed in registers and stored as
// 16 strip rows of up to 16 lanes; the k tail (kc % 16) is copied element by element.
void pack_transposed(float* dst, int w, const float* src, int64_t ld, int count, int64_t kc) {
    for (int i0 = 0; i0 < w; i0 += 16) {
        const int lanes = w - i0 < 16 ? w - i0 : 16;
        const int valid = count - i0 < 0 ? 0 : (count - i0 < lanes ? count - i0 : lanes);
        const __mmask16 store = static_cast<__mmask16>((1u << lanes) - 1u);
        const float* s = src + static_cast<int64_t>(i0) * ld;
        float* d = dst + i0;
        int64_t k = 0;
        for (; k + 16 <= kc; k += 16) {
            __m512 r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; ++i) {
                const __mmask16 load = i < valid ? static_cast<__mmask16>(0xFFFF) : 0;
                r[i] = _mm512_maskz_loadu_ps(load, s + (i < valid ? i : 0) * ld + k);
            }
            transpose16(r);
#pragma GCC unroll 16
            for (int q = 0; q < 16; ++q) _mm512_mask_storeu_ps(d + (k + q) * w, store, r[q]);
        }
        for (; k < kc; ++k) {
            for (int i = 0; i < lanes; ++i) d[k * w + i] = i < valid ? s[i * ld + k] : 0.f;
        }
    }
}

#pragma GCC diagnostic pop

}  // namespace

KernelSet avx512_kernel_set() {
    KernelSet s;
    s.isa = "avx512";
    s.mr = 14;
    s.nr = 32;
    s.packed = &micro_kernel<14, 2, true>;
    s.packed_half = &micro_kernel<14, 1, true>;
    s.strided = &micro_kernel<14, 2, false>;
    s.strided_half = &micro_kernel<14, 1, false>;
    s.narrow = {8, 16, &micro_kernel<8, 1, false>};
    s.pack_transposed = &pack_transposed;
    return s;
}

}  // namespace obl::kernels::gemm_detail
