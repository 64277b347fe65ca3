// CPU reference pooling (formulas in kernels/pool.h): one (n, c) plane per loop iteration, plain
// loops over the window, sums in double. Backward scatters within its own plane, so planes run in
// parallel without races and every pixel receives its contributions in a fixed order.
#include "kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/common/parallel.h"

namespace obl::kernels {

// y = max over the in-image part of each window; argmax = r W + s of the first maximum.
template <class T>
void max_pool2d_forward_cpu(T* y, int64_t* argmax, const T* x, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * ohw * d.kh * d.kw)) schedule(static)
    for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
        const T* xp = x + nc * hw;
        for (int64_t i = 0; i < d.oh; ++i) {
            for (int64_t j = 0; j < d.ow; ++j) {
                const int64_t r0 = i * d.stride_h - d.pad_h, s0 = j * d.stride_w - d.pad_w;
                const int64_t r_lo = std::max<int64_t>(r0, 0), r_hi = std::min(r0 + d.kh, d.h);
                const int64_t s_lo = std::max<int64_t>(s0, 0), s_hi = std::min(s0 + d.kw, d.w);
                // -inf start: padding never wins; an all -inf window reports its first pixel.
                T best = -std::numeric_limits<T>::infinity();
                int64_t best_idx = r_lo * d.w + s_lo;
                for (int64_t r = r_lo; r < r_hi; ++r) {
                    for (int64_t s = s_lo; s < s_hi; ++s) {
                        const T v = xp[r * d.w + s];
                        if (v > best || std::isnan(v)) {  // first maximum wins; NaN propagates
                            best = v;
                            best_idx = r * d.w + s;
                        }
                    }
                }
                y[nc * ohw + i * d.ow + j] = best;
                argmax[nc * ohw + i * d.ow + j] = best_idx;
            }
        }
    }
}

// dx = 0, then every output routes its dy to its argmax (overlapping windows add up).
template <class T>
void max_pool2d_backward_cpu(T* grad_x, const T* grad_y, const int64_t* argmax, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * hw)) schedule(static)
    for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
        T* dx = grad_x + nc * hw;
        std::fill(dx, dx + hw, T(0));
        for (int64_t q = 0; q < ohw; ++q) dx[argmax[nc * ohw + q]] += grad_y[nc * ohw + q];
    }
}

// y = (1 / (KH KW)) sum over the window's in-image pixels (padding counts as zeros).
template <class T>
void avg_pool2d_forward_cpu(T* y, const T* x, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
    const double inv_area = 1.0 / static_cast<double>(d.kh * d.kw);  // count_include_pad
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * ohw * d.kh * d.kw)) schedule(static)
    for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
        const T* xp = x + nc * hw;
        for (int64_t i = 0; i < d.oh; ++i) {
            for (int64_t j = 0; j < d.ow; ++j) {
                const int64_t r0 = i * d.stride_h - d.pad_h, s0 = j * d.stride_w - d.pad_w;
                double acc = 0.0;
                for (int64_t r = std::max<int64_t>(r0, 0); r < std::min(r0 + d.kh, d.h); ++r)
                    for (int64_t s = std::max<int64_t>(s0, 0); s < std::min(s0 + d.kw, d.w); ++s)
                        acc += static_cast<double>(xp[r * d.w + s]);
                y[nc * ohw + i * d.ow + j] = static_cast<T>(acc * inv_area);
            }
        }
    }
}

// dx = 0, then every output spreads dy / (KH KW) over the in-image part of its window.
template <class T>
void avg_pool2d_backward_cpu(T* grad_x, const T* grad_y, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
    const double inv_area = 1.0 / static_cast<double>(d.kh * d.kw);
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * ohw * d.kh * d.kw)) schedule(static)
    for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
        T* dx = grad_x + nc * hw;
        std::fill(dx, dx + hw, T(0));
        for (int64_t i = 0; i < d.oh; ++i) {
            for (int64_t j = 0; j < d.ow; ++j) {
                const int64_t r0 = i * d.stride_h - d.pad_h, s0 = j * d.stride_w - d.pad_w;
                const T g = static_cast<T>(grad_y[nc * ohw + i * d.ow + j] * inv_area);
                for (int64_t r = std::max<int64_t>(r0, 0); r < std::min(r0 + d.kh, d.h); ++r)
                    for (int64_t s = std::max<int64_t>(s0, 0); s < std::min(s0 + d.kw, d.w); ++s)
                        dx[r * d.w + s] += g;
            }
        }
    }
}

// y = mean over the adaptive window [floor(i H / OH), ceil((i + 1) H / OH)) x (same for W).
template <class T>
void adaptive_avg_pool2d_forward_cpu(T* y, const T* x, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * hw)) schedule(static)
    for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
        const T* xp = x + nc * hw;
        for (int64_t i = 0; i < d.oh; ++i) {
            const int64_t r_lo = adaptive_start(i, d.h, d.oh), r_hi = adaptive_end(i, d.h, d.oh);
            for (int64_t j = 0; j < d.ow; ++j) {
                const int64_t s_lo = adaptive_start(j, d.w, d.ow);
                const int64_t s_hi = adaptive_end(j, d.w, d.ow);
                double acc = 0.0;
                for (int64_t r = r_lo; r < r_hi; ++r)
                    for (int64_t s = s_lo; s < s_hi; ++s)
                        acc += static_cast<double>(xp[r * d.w + s]);
                y[nc * ohw + i * d.ow + j] =
                    static_cast<T>(acc / static_cast<double>((r_hi - r_lo) * (s_hi - s_lo)));
            }
        }
    }
}

// dx = 0, then every output spreads dy / area over its window; overlapping windows add up.
template <class T>
void adaptive_avg_pool2d_backward_cpu(T* grad_x, const T* grad_y, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * hw)) schedule(static)
    for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
        T* dx = grad_x + nc * hw;
        std::fill(dx, dx + hw, T(0));
        for (int64_t i = 0; i < d.oh; ++i) {
            const int64_t r_lo = adaptive_start(i, d.h, d.oh), r_hi = adaptive_end(i, d.h, d.oh);
            for (int64_t j = 0; j < d.ow; ++j) {
                const int64_t s_lo = adaptive_start(j, d.w, d.ow);
                const int64_t s_hi = adaptive_end(j, d.w, d.ow);
                const T g = static_cast<T>(static_cast<double>(grad_y[nc * ohw + i * d.ow + j]) /
                                           static_cast<double>((r_hi - r_lo) * (s_hi - s_lo)));
                for (int64_t r = r_lo; r < r_hi; ++r)
                    for (int64_t s = s_lo; s < s_hi; ++s) dx[r * d.w + s] += g;
            }
        }
    }
}

// f32 for the reference path, f64 for the gradient checks.
#define OBL_POOL_INSTANTIATE(T)                                                         \
    template void max_pool2d_forward_cpu<T>(T*, int64_t*, const T*, Pool2dDims);        \
    template void max_pool2d_backward_cpu<T>(T*, const T*, const int64_t*, Pool2dDims); \
    template void avg_pool2d_forward_cpu<T>(T*, const T*, Pool2dDims);                  \
    template void avg_pool2d_backward_cpu<T>(T*, const T*, Pool2dDims);                 \
    template void adaptive_avg_pool2d_forward_cpu<T>(T*, const T*, Pool2dDims);         \
    template void adaptive_avg_pool2d_backward_cpu<T>(T*, const T*, Pool2dDims);

OBL_POOL_INSTANTIATE(float)
OBL_POOL_INSTANTIATE(double)
#undef OBL_POOL_INSTANTIATE

}  // namespace obl::kernels
