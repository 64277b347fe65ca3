// CPU reference conv2d (formulas in kernels/conv2d.h): direct loops that read like the formula,
// every sum accumulated in double. Each output element is computed by one loop nest (gather form,
// also for dx), so the loops parallelise over their outermost index without races.
#include "kernels/conv2d.h"

#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

// One (image, output channel) plane per iteration; each output is one dot product over
// (Cg, KH, KW), skipping taps that fall in the padding.
template <class T>
void conv2d_forward_cpu(T* y, const T* x, const T* weight, const T* bias, Conv2dDims d) {
    const int64_t cg = d.c / d.groups, og = d.o / d.groups;
#pragma omp parallel for if (parallel_worth_it(conv2d_macs(d))) schedule(static)
    for (int64_t no = 0; no < d.n * d.o; ++no) {
        const int64_t n = no / d.o, o = no % d.o, g = o / og;
        for (int64_t i = 0; i < d.oh; ++i) {
            for (int64_t j = 0; j < d.ow; ++j) {
                double acc = bias ? static_cast<double>(bias[o]) : 0.0;
                for (int64_t c = 0; c < cg; ++c) {
                    const T* xp = x + (n * d.c + g * cg + c) * d.h * d.w;
                    const T* wp = weight + (o * cg + c) * d.kh * d.kw;
                    for (int64_t a = 0; a < d.kh; ++a) {
                        const int64_t r = i * d.stride_h - d.pad_h + a * d.dilation_h;
                        if (r < 0 || r >= d.h) continue;  // zero padding
                        for (int64_t b = 0; b < d.kw; ++b) {
                            const int64_t s = j * d.stride_w - d.pad_w + b * d.dilation_w;
                            if (s < 0 || s >= d.w) continue;
                            acc += static_cast<double>(xp[r * d.w + s]) *
                                   static_cast<double>(wp[a * d.kw + b]);
                        }
                    }
                }
                y[(no * d.oh + i) * d.ow + j] = static_cast<T>(acc);
            }
        }
    }
}

namespace {

// Output index i whose tap a lands on input row r: i stride - pad + a dilation = r. Returns -1
// when no integer i in [0, out) exists.
inline int64_t source_index(int64_t r, int64_t a, int64_t stride, int64_t pad, int64_t dilation,
                            int64_t out) {
    const int64_t num = r + pad - a * dilation;
    if (num < 0 || num % stride != 0) return -1;
    const int64_t i = num / stride;
    return i < out ? i : -1;
}

}  // namespace

template <class T>
void conv2d_backward_cpu(T* grad_x, T* grad_weight, T* grad_bias, const T* grad_y, const T* x,
                         const T* weight, Conv2dDims d) {
    const int64_t cg = d.c / d.groups, og = d.o / d.groups;
    const int64_t ohw = d.oh * d.ow;
    [[maybe_unused]] const bool par = parallel_worth_it(conv2d_macs(d));

    // dx: one input pixel gathers every (output, tap) pair that read it: tap a of output row i
    // reads input row i sh - ph + a dh, so for a given (r, a) there is at most one such i.
    if (grad_x) {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t nc = 0; nc < d.n * d.c; ++nc) {
            const int64_t n = nc / d.c, ci = nc % d.c, g = ci / cg, c = ci % cg;
            for (int64_t r = 0; r < d.h; ++r) {
                for (int64_t s = 0; s < d.w; ++s) {
                    double acc = 0.0;
                    for (int64_t o = g * og; o < (g + 1) * og; ++o) {
                        const T* dyp = grad_y + (n * d.o + o) * ohw;
                        const T* wp = weight + (o * cg + c) * d.kh * d.kw;
                        for (int64_t a = 0; a < d.kh; ++a) {
                            const int64_t i =
                                source_index(r, a, d.stride_h, d.pad_h, d.dilation_h, d.oh);
                            if (i < 0) continue;
                            for (int64_t b = 0; b < d.kw; ++b) {
                                const int64_t j =
                                    source_index(s, b, d.stride_w, d.pad_w, d.dilation_w, d.ow);
                                if (j < 0) continue;
                                acc += static_cast<double>(dyp[i * d.ow + j]) *
                                       static_cast<double>(wp[a * d.kw + b]);
                            }
                        }
                    }
                    grad_x[(nc * d.h + r) * d.w + s] = static_cast<T>(acc);
                }
            }
        }
    }

    // dweight: one tap sums dy * x over the batch and every output position.
    if (grad_weight) {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t oc = 0; oc < d.o * cg; ++oc) {
            const int64_t o = oc / cg, c = oc % cg, g = o / og;
            for (int64_t a = 0; a < d.kh; ++a) {
                for (int64_t b = 0; b < d.kw; ++b) {
                    double acc = 0.0;
                    for (int64_t n = 0; n < d.n; ++n) {
                        const T* dyp = grad_y + (n * d.o + o) * ohw;
                        const T* xp = x + (n * d.c + g * cg + c) * d.h * d.w;
                        for (int64_t i = 0; i < d.oh; ++i) {
                            const int64_t r = i * d.stride_h - d.pad_h + a * d.dilation_h;
                            if (r < 0 || r >= d.h) continue;
                            for (int64_t j = 0; j < d.ow; ++j) {
                                const int64_t s = j * d.stride_w - d.pad_w + b * d.dilation_w;
                                if (s < 0 || s >= d.w) continue;
                                acc += static_cast<double>(dyp[i * d.ow + j]) *
                                       static_cast<double>(xp[r * d.w + s]);
                            }
                        }
                    }
                    grad_weight[(oc * d.kh + a) * d.kw + b] = static_cast<T>(acc);
                }
            }
        }
    }

    // dbias: sum of dy over everything but the channel.
    if (grad_bias) {
        for (int64_t o = 0; o < d.o; ++o) {
            double acc = 0.0;
            for (int64_t n = 0; n < d.n; ++n) {
                const T* dyp = grad_y + (n * d.o + o) * ohw;
                for (int64_t p = 0; p < ohw; ++p) acc += static_cast<double>(dyp[p]);
            }
            grad_bias[o] = static_cast<T>(acc);
        }
    }
}

// f32 for the reference path, f64 for the gradient checks.
template void conv2d_forward_cpu<float>(float*, const float*, const float*, const float*,
                                        Conv2dDims);
template void conv2d_forward_cpu<double>(double*, const double*, const double*, const double*,
                                         Conv2dDims);
template void conv2d_backward_cpu<float>(float*, float*, float*, const float*, const float*,
                                         const float*, Conv2dDims);
template void conv2d_backward_cpu<double>(double*, double*, double*, const double*, const double*,
                                          const double*, Conv2dDims);

}  // namespace obl::kernels
