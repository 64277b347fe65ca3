// AVX-512 instance of the softmax-family row kernels (kernels/cpu/fast/softmax_simd.h): 16 floats
// per step, lane masks for the row tail (a K = 10 row is a single masked step), scalef for 2^n.
// Compiled with -mavx512f/dq/bw/vl (kernels/CMakeLists.txt); called only when cpu_isa() says so.
// GCC 12's avx512fintrin.h builds _mm512_undefined_ps() as `__m512 __Y = __Y;`, which trips
// -W(maybe-)uninitialized once inlined at -O3 (GCC PR 105593, fixed in GCC 13): silenced for the
// intrinsics header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "kernels/cpu/fast/softmax_isa.h"
#include "kernels/cpu/fast/softmax_simd.h"

namespace obl::kernels {

namespace fast_avx512 {

// The ISA wrapper softmax_simd.h expects (its header lists the operations). Masks are __mmask16
// bit masks; masked loads never touch memory in masked-off lanes (no fault past the row end).
struct V {
    using F = __m512;
    using M = __mmask16;
    static constexpr int64_t kWidth = 16;
    static M mask(int64_t rem) {
        return rem >= kWidth ? M(0xFFFF) : static_cast<M>((1u << rem) - 1u);
    }
    static F set1(float v) { return _mm512_set1_ps(v); }
    static F zero() { return _mm512_setzero_ps(); }
    static F load(const float* p, M m, float fill) {
        return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), m, p);
    }
    static void store(float* p, F v, M m) { _mm512_mask_storeu_ps(p, m, v); }
    static F add(F a, F b) { return _mm512_add_ps(a, b); }
    static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
    static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
    static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
    static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
    static F max(F a, F b) { return _mm512_max_ps(a, b); }
    static F min(F a, F b) { return _mm512_min_ps(a, b); }
    static F add_masked(F acc, F v, M m) { return _mm512_mask_add_ps(acc, m, acc, v); }
    static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
    static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }
    static F round(F v) {
        return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    static F ldexp(F y, F n) { return _mm512_scalef_ps(y, n); }
};

using R = fast_simd::Rows<V>;

// ---- K <= 16: sixteen rows at a time, one row per lane -------------------------------------
// A row of K <= 16 floats fills less than one vector, so the row kernels above spend their time
// in horizontal reductions and a scalar logf per row (a latency chain of ~100 cycles per row).
// Here a block of 16 rows is gathered column by column (column j = x[r][j] of all 16 rows), so
// the max, the sums and the log are plain vertical operations on full vectors, and the results
// are scattered back. Row results do not depend on the block a row falls into.
constexpr int64_t kColumnMaxK = 16;

using F = __m512;

// ln(s) for s > 0, Cephes' logf scheme: s = m 2^e with m in [sqrt(1/2), sqrt(2)), then
// ln(1 + x), x = m - 1, by a degree-9 polynomial; about 1 ulp. NaN propagates.
F log_ps(F s) {
    F e = _mm512_add_ps(_mm512_getexp_ps(s), _mm512_set1_ps(1.f));  // s = m 2^e, m in [.5, 1)
    F m = _mm512_getmant_ps(s, _MM_MANT_NORM_p5_1, _MM_MANT_SIGN_src);
    const __mmask16 small =
        _mm512_cmp_ps_mask(m, _mm512_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    e = _mm512_mask_sub_ps(e, small, e, _mm512_set1_ps(1.f));
    m = _mm512_mask_add_ps(m, small, m, m);
    const F x = _mm512_sub_ps(m, _mm512_set1_ps(1.f));
    const F z = _mm512_mul_ps(x, x);
    F p = _mm512_set1_ps(7.0376836292e-2f);
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(-1.1514610310e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(1.1676998740e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(-1.2420140846e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(1.4249322787e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(-1.6668057665e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(2.0000714765e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(-2.4999993993e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(3.3333331174e-1f));
    F y = _mm512_mul_ps(_mm512_mul_ps(p, x), z);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
    y = _mm512_fnmadd_ps(_mm512_set1_ps(0.5f), z, y);
    return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(x, y));
}

// One block of up to 16 rows (row stride K): lane i is row i.
struct Block {
    __m512i off;       // lane i -> i K, the row start
    __mmask16 lanes;   // rows present
    F d[kColumnMaxK];  // column j: x_j - m
    F m;               // row max
};

// Gathers the K columns of the block (one vgatherdps per column, index i K + j for lane i) and
// shifts them by the row max.
void load_block(Block& b, const float* x, int64_t rows, int64_t k) {
    b.off =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(static_cast<int>(k)));
    b.lanes = V::mask(rows);
    b.m = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < k; ++j) {  // absent lanes read 0: finite, never stored
        b.d[j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), b.lanes,
                                          _mm512_add_epi32(b.off, _mm512_set1_epi32(int(j))), x, 4);
        b.m = _mm512_max_ps(b.m, b.d[j]);
    }
    for (int64_t j = 0; j < k; ++j) b.d[j] = _mm512_sub_ps(b.d[j], b.m);
}

void store_column(float* y, const Block& b, int64_t j, F v) {
    _mm512_mask_i32scatter_ps(y, b.lanes, _mm512_add_epi32(b.off, _mm512_set1_epi32(int(j))), v, 4);
}

__m512i load_targets(const int64_t* t, __mmask16 lanes) {
    const __m256i lo = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64(__mmask8(lanes), t));
    const __m256i hi = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64(__mmask8(lanes >> 8), t + 8));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Adds the present lanes of v to total in row order (double): the same order as the row path.
double add_lanes(double total, F v, int64_t rows) {
    alignas(64) float tmp[16];
    _mm512_store_ps(tmp, v);
    for (int64_t i = 0; i < rows; ++i) total += tmp[i];
    return total;
}

// y_j = exp(d_j) / s per lane; the K exps of a block are full-width vector ops.
void softmax_columns(float* y, const float* x, int64_t rows, int64_t k) {
    for (int64_t r = 0; r < rows; r += 16, x += 16 * k, y += 16 * k) {
        Block b;
        load_block(b, x, rows - r, k);
        F s = _mm512_setzero_ps();
        for (int64_t j = 0; j < k; ++j) {
            b.d[j] = fast_simd::exp<V>(b.d[j]);
            s = _mm512_add_ps(s, b.d[j]);
        }
        const F inv = _mm512_div_ps(_mm512_set1_ps(1.f), s);
        for (int64_t j = 0; j < k; ++j) store_column(y, b, j, _mm512_mul_ps(b.d[j], inv));
    }
}

// y_j = d_j - log s per lane, with the vector log above (no libm call).
void log_softmax_columns(float* y, const float* x, int64_t rows, int64_t k) {
    for (int64_t r = 0; r < rows; r += 16, x += 16 * k, y += 16 * k) {
        Block b;
        load_block(b, x, rows - r, k);
        F s = _mm512_setzero_ps();
        for (int64_t j = 0; j < k; ++j) s = _mm512_add_ps(s, fast_simd::exp<V>(b.d[j]));
        const F log_s = log_ps(s);
        for (int64_t j = 0; j < k; ++j) store_column(y, b, j, _mm512_sub_ps(b.d[j], log_s));
    }
}

// loss_row = lse + (1 - e)(m - x_t) + (e / K) sum (m - x);  grad = (exp / s - q) inv_n.
double cross_entropy_columns(float* grad, const float* x, const int64_t* targets, int64_t rows,
                             int64_t k, float e, float inv_n) {
    const float q_off = e / static_cast<float>(k);
    double total = 0;
    for (int64_t r = 0; r < rows; r += 16, x += 16 * k, targets += 16) {
        Block b;
        load_block(b, x, rows - r, k);
        const __m512i t = load_targets(targets, b.lanes);
        F s = _mm512_setzero_ps(), sum_d = _mm512_setzero_ps(), d_t = _mm512_setzero_ps();
        for (int64_t j = 0; j < k; ++j) {
            const __mmask16 is_t = _mm512_cmpeq_epi32_mask(t, _mm512_set1_epi32(int(j)));
            d_t = _mm512_mask_mov_ps(d_t, is_t, b.d[j]);
            sum_d = _mm512_add_ps(sum_d, b.d[j]);
            b.d[j] = fast_simd::exp<V>(b.d[j]);
            s = _mm512_add_ps(s, b.d[j]);
        }
        // lse - (1 - e) d_t - (e / K) sum d
        F loss = _mm512_fnmadd_ps(_mm512_set1_ps(1.f - e), d_t, log_ps(s));
        loss = _mm512_fnmadd_ps(_mm512_set1_ps(q_off), sum_d, loss);
        total = add_lanes(total, loss, rows - r < 16 ? rows - r : 16);
        if (!grad) continue;
        float* g = grad + r * k;
        const F c = _mm512_div_ps(_mm512_set1_ps(inv_n), s), off = _mm512_set1_ps(q_off * inv_n);
        const F hit = _mm512_set1_ps((1.f - e) * inv_n);
        for (int64_t j = 0; j < k; ++j) {
            const __mmask16 is_t = _mm512_cmpeq_epi32_mask(t, _mm512_set1_epi32(int(j)));
            F gj = _mm512_fmsub_ps(b.d[j], c, off);
            gj = _mm512_mask_sub_ps(gj, is_t, gj, hit);
            store_column(g, b, j, gj);
        }
    }
    return total;
}

// loss_row = lse sum q + sum q (m - x);  grad = (exp sum q / s - q) inv_n.
double cross_entropy_soft_columns(float* grad, const float* x, const float* q, int64_t rows,
                                  int64_t k, float inv_n) {
    double total = 0;
    for (int64_t r = 0; r < rows; r += 16, x += 16 * k, q += 16 * k) {
        Block b;
        load_block(b, x, rows - r, k);
        F qc[kColumnMaxK];
        F s = _mm512_setzero_ps(), sum_q = _mm512_setzero_ps(), sum_qd = _mm512_setzero_ps();
        for (int64_t j = 0; j < k; ++j) {
            qc[j] =
                _mm512_mask_i32gather_ps(_mm512_setzero_ps(), b.lanes,
                                         _mm512_add_epi32(b.off, _mm512_set1_epi32(int(j))), q, 4);
            sum_q = _mm512_add_ps(sum_q, qc[j]);
            sum_qd = _mm512_fnmadd_ps(qc[j], b.d[j], sum_qd);
            b.d[j] = fast_simd::exp<V>(b.d[j]);
            s = _mm512_add_ps(s, b.d[j]);
        }
        total = add_lanes(total, _mm512_fmadd_ps(log_ps(s), sum_q, sum_qd),
                          rows - r < 16 ? rows - r : 16);
        if (!grad) continue;
        float* g = grad + r * k;
        const F c = _mm512_div_ps(_mm512_mul_ps(sum_q, _mm512_set1_ps(inv_n)), s);
        const F vinv = _mm512_set1_ps(inv_n);
        for (int64_t j = 0; j < k; ++j)
            store_column(g, b, j, _mm512_fnmadd_ps(qc[j], vinv, _mm512_mul_ps(b.d[j], c)));
    }
    return total;
}

// The table entries: the column kernels for K <= 16, the row kernels above.
void softmax(float* y, const float* x, int64_t rows, int64_t k) {
    k <= kColumnMaxK ? softmax_columns(y, x, rows, k) : R::softmax(y, x, rows, k);
}
void log_softmax(float* y, const float* x, int64_t rows, int64_t k) {
    k <= kColumnMaxK ? log_softmax_columns(y, x, rows, k) : R::log_softmax(y, x, rows, k);
}
double cross_entropy(float* grad, const float* x, const int64_t* targets, int64_t rows, int64_t k,
                     float e, float inv_n) {
    return k <= kColumnMaxK ? cross_entropy_columns(grad, x, targets, rows, k, e, inv_n)
                            : R::cross_entropy(grad, x, targets, rows, k, e, inv_n);
}
double cross_entropy_soft(float* grad, const float* x, const float* q, int64_t rows, int64_t k,
                          float inv_n) {
    return k <= kColumnMaxK ? cross_entropy_soft_columns(grad, x, q, rows, k, inv_n)
                            : R::cross_entropy_soft(grad, x, q, rows, k, inv_n);
}

}  // namespace fast_avx512

const SoftmaxRowKernels& softmax_rows_avx512() {
    static const SoftmaxRowKernels table = {
        fast_avx512::softmax,
        fast_avx512::log_softmax,
        fast_avx512::R::softmax_backward,
        fast_avx512::R::log_softmax_backward,
        fast_avx512::cross_entropy,
        fast_avx512::cross_entropy_soft,
    };
    return table;
}

}  // namespace obl::kernels
