// SIMD row kernels of the softmax family, written once over a vector-ISA wrapper V and compiled
// twice: kernels/cpu/fast/softmax_avx512.cpp (V = 16 floats, AVX-512 masks) and
// softmax_avx2.cpp (V = 8 floats, AVX2 maskload/maskstore). Formulas: kernels/softmax.h and
// kernels/cross_entropy.h. Include ONLY from those two files: everything here is a template on V,
// so each ISA gets its own symbols and the linker can never hand AVX-512 code to an AVX2 caller.
//
// V provides: F (vector of kWidth floats), M (lane mask), mask(rem) (first min(rem, kWidth) lanes),
// set1, zero, load(p, m, fill) (masked-off lanes read `fill`, no memory access), store(p, v, m),
// add, sub, mul, fmadd(a, b, c) = a b + c, fnmadd(a, b, c) = c - a b, max, min (both return the
// SECOND operand when either is NaN, as the x86 instructions do), add_masked(acc, v, m),
// reduce_add, reduce_max, round (to nearest even), ldexp(y, n) = y 2^n.
//
// Every row is processed in kWidth-lane steps with a masked last step, so a K = 10 row is one
// AVX-512 step (no scalar tail). Row results never depend on other rows or on threads.
#pragma once

#include <cmath>
#include <cstdint>

namespace obl::kernels::fast_simd {

// exp(x) to about 2 ulp, Cephes' expf scheme: n = round(x log2 e), r = x - n ln2 (ln2 split in
// two parts so r is exact to float precision), e^r by a degree-7 polynomial on [-ln2/2, ln2/2],
// then scaled by 2^n. Inputs are clamped to [-87.3, 88]: the low end gives 2^-126 (~1.2e-38)
// instead of an exact 0 or a denormal, negligible here because every caller normalises by a sum
// >= 1 (softmax after the max shift); the clamps are max(lo, x)/min(hi, x) so NaN passes through.
template <class V>
typename V::F exp(typename V::F x) {
    using F = typename V::F;
    x = V::max(V::set1(-87.3f), x);
    x = V::min(V::set1(88.0f), x);
    const F n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
    F r = V::fnmadd(n, V::set1(0.693359375f), x);
    r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);
    F p = V::set1(1.9875691500e-4f);
    p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
    p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
    p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
    p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
    p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
    const F y = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.f)));  // 1 + r + r^2 p(r)
    return V::ldexp(y, n);
}

template <class V>
struct Rows {
    using F = typename V::F;
    using M = typename V::M;
    static constexpr int64_t W = V::kWidth;

    static float row_max(const float* x, int64_t k) {
        F acc = V::set1(-INFINITY);
        for (int64_t j = 0; j < k; j += W)
            acc = V::max(acc, V::load(x + j, V::mask(k - j), -INFINITY));
        return V::reduce_max(acc);
    }

    // Returns sum_j exp(x_j - m); writes exp(x_j - m) to e when e != nullptr.
    static float exp_sum(float* e, const float* x, int64_t k, float m) {
        const F vm = V::set1(m);
        F acc = V::zero();
        for (int64_t j = 0; j < k; j += W) {
            const M msk = V::mask(k - j);
            const F v = exp<V>(V::sub(V::load(x + j, msk, m), vm));
            acc = V::add_masked(acc, v, msk);
            if (e) V::store(e + j, v, msk);
        }
        return V::reduce_add(acc);
    }

    static void softmax(float* y, const float* x, int64_t rows, int64_t k) {
        for (int64_t n = 0; n < rows; ++n, x += k, y += k) {
            const float m = row_max(x, k);
            const F inv = V::set1(1.f / exp_sum(y, x, k, m));
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                V::store(y + j, V::mul(V::load(y + j, msk, 0.f), inv), msk);
            }
        }
    }

    static void log_softmax(float* y, const float* x, int64_t rows, int64_t k) {
        for (int64_t n = 0; n < rows; ++n, x += k, y += k) {
            const float m = row_max(x, k);
            const F vm = V::set1(m), log_s = V::set1(logf(exp_sum(nullptr, x, k, m)));
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                V::store(y + j, V::sub(V::sub(V::load(x + j, msk, 0.f), vm), log_s), msk);
            }
        }
    }

    // dx = y (dy - sum_j dy_j y_j)
    static void softmax_backward(float* dx, const float* dy, const float* y, int64_t rows,
                                 int64_t k) {
        for (int64_t n = 0; n < rows; ++n, dx += k, dy += k, y += k) {
            F acc = V::zero();
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                acc = V::fmadd(V::load(dy + j, msk, 0.f), V::load(y + j, msk, 0.f), acc);
            }
            const F dot = V::set1(V::reduce_add(acc));
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                const F yj = V::load(y + j, msk, 0.f);
                V::store(dx + j, V::mul(yj, V::sub(V::load(dy + j, msk, 0.f), dot)), msk);
            }
        }
    }

    // dx = dy - exp(y) sum_j dy_j
    static void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t rows,
                                     int64_t k) {
        for (int64_t n = 0; n < rows; ++n, dx += k, dy += k, y += k) {
            F acc = V::zero();
            for (int64_t j = 0; j < k; j += W)
                acc = V::add(acc, V::load(dy + j, V::mask(k - j), 0.f));
            const F sum_dy = V::set1(V::reduce_add(acc));
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                const F p = exp<V>(V::load(y + j, msk, 0.f));
                V::store(dx + j, V::fnmadd(p, sum_dy, V::load(dy + j, msk, 0.f)), msk);
            }
        }
    }

    // Hard targets with label smoothing e. Per row: one pass for m, one pass for
    // s = sum exp(x - m) (exp stored into the grad row) and sd = sum (m - x), then
    //   loss = lse + (1 - e)(m - x_t) + (e / K) sd,   grad = (exp / s - q) inv_n.
    // Returns the sum of the row losses in row order (double).
    static double cross_entropy(float* grad, const float* x, const int64_t* targets, int64_t rows,
                                int64_t k, float e, float inv_n) {
        const float q_off = e / static_cast<float>(k);  // e / K, the smoothing mass per class
        double total = 0;
        for (int64_t n = 0; n < rows; ++n, x += k) {
            float* g = grad ? grad + n * k : nullptr;
            const float m = row_max(x, k);
            const F vm = V::set1(m);
            F acc_s = V::zero(), acc_d = V::zero();
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                const F d = V::sub(V::load(x + j, msk, m), vm);  // masked lanes: 0
                const F ex = exp<V>(d);
                acc_s = V::add_masked(acc_s, ex, msk);
                acc_d = V::sub(acc_d, d);
                if (g) V::store(g + j, ex, msk);
            }
            const float s = V::reduce_add(acc_s);
            const int64_t t = targets[n];
            total += static_cast<double>(logf(s)) + (1.0 - e) * (static_cast<double>(m) - x[t]) +
                     static_cast<double>(q_off) * V::reduce_add(acc_d);
            if (!g) continue;
            const F c = V::set1(inv_n / s), off = V::set1(q_off * inv_n);
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                V::store(g + j, V::sub(V::mul(V::load(g + j, msk, 0.f), c), off), msk);
            }
            g[t] -= (1.f - e) * inv_n;
        }
        return total;
    }

    // Soft targets q. Per row: m, then one pass for s = sum exp(x - m), sq = sum q and
    // sqd = sum q (m - x):  loss = lse sq + sqd,  grad = (exp sq / s - q) inv_n.
    static double cross_entropy_soft(float* grad, const float* x, const float* q, int64_t rows,
                                     int64_t k, float inv_n) {
        double total = 0;
        for (int64_t n = 0; n < rows; ++n, x += k, q += k) {
            float* g = grad ? grad + n * k : nullptr;
            const float m = row_max(x, k);
            const F vm = V::set1(m);
            F acc_s = V::zero(), acc_q = V::zero(), acc_qd = V::zero();
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                const F d = V::sub(V::load(x + j, msk, m), vm);
                const F qj = V::load(q + j, msk, 0.f);
                const F ex = exp<V>(d);
                acc_s = V::add_masked(acc_s, ex, msk);
                acc_q = V::add(acc_q, qj);
                acc_qd = V::fnmadd(qj, d, acc_qd);
                if (g) V::store(g + j, ex, msk);
            }
            const float s = V::reduce_add(acc_s), sq = V::reduce_add(acc_q);
            total += static_cast<double>(logf(s)) * sq + V::reduce_add(acc_qd);
            if (!g) continue;
            const F c = V::set1(sq * inv_n / s), vinv = V::set1(inv_n);
            for (int64_t j = 0; j < k; j += W) {
                const M msk = V::mask(k - j);
                const F ex = V::load(g + j, msk, 0.f);
                V::store(g + j, V::fnmadd(V::load(q + j, msk, 0.f), vinv, V::mul(ex, c)), msk);
            }
        }
        return total;
    }
};

}  // namespace obl::kernels::fast_simd
