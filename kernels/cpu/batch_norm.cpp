// CPU reference batch norm (formulas in kernels/batch_norm.h): one channel per loop iteration,
// two-pass statistics (mean, then the centred sum of squares) accumulated in double.
#include "kernels/batch_norm.h"

#include <cmath>
#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

// Per channel: statistics (batch or running), save them, then y = (x - mean) invstd w + b.
template <class T>
void batch_norm_forward_cpu(T* y, T* save_mean, T* save_invstd, T* running_mean, T* running_var,
                            const T* x, const T* weight, const T* bias, BatchNormDims d) {
    const int64_t m = d.n * d.s;
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * d.s)) schedule(static)
    for (int64_t c = 0; c < d.c; ++c) {
        double mean = 0.0, invstd = 0.0;
        if (d.training) {
            // Two passes: the mean first, then the centred sum of squares (no cancellation).
            double sum = 0.0;
            for (int64_t n = 0; n < d.n; ++n)
                for (int64_t i = 0; i < d.s; ++i)
                    sum += static_cast<double>(x[(n * d.c + c) * d.s + i]);
            mean = sum / static_cast<double>(m);
            double sq = 0.0;
            for (int64_t n = 0; n < d.n; ++n) {
                for (int64_t i = 0; i < d.s; ++i) {
                    const double v = static_cast<double>(x[(n * d.c + c) * d.s + i]) - mean;
                    sq += v * v;
                }
            }
            const double var = sq / static_cast<double>(m);  // biased: normalises
            invstd = 1.0 / std::sqrt(var + d.eps);
            if (running_mean) {
                running_mean[c] =
                    static_cast<T>((1.0 - d.momentum) * running_mean[c] + d.momentum * mean);
            }
            if (running_var) {  // unbiased (Bessel) variance, PyTorch's rule; M > 1 is checked
                const double unbiased = sq / static_cast<double>(m - 1);
                running_var[c] =
                    static_cast<T>((1.0 - d.momentum) * running_var[c] + d.momentum * unbiased);
            }
        } else {  // eval: the running statistics are constants
            mean = static_cast<double>(running_mean[c]);
            invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + d.eps);
        }
        save_mean[c] = static_cast<T>(mean);
        save_invstd[c] = static_cast<T>(invstd);
        const double w = weight ? static_cast<double>(weight[c]) : 1.0;
        const double b = bias ? static_cast<double>(bias[c]) : 0.0;
        for (int64_t n = 0; n < d.n; ++n) {
            for (int64_t i = 0; i < d.s; ++i) {
                const int64_t k = (n * d.c + c) * d.s + i;
                y[k] = static_cast<T>((static_cast<double>(x[k]) - mean) * invstd * w + b);
            }
        }
    }
}

// Per channel: the two sums the formula needs (sum dy, sum dy xhat), then dx element-wise.
template <class T>
void batch_norm_backward_cpu(T* grad_x, T* grad_weight, T* grad_bias, const T* grad_y, const T* x,
                             const T* weight, const T* save_mean, const T* save_invstd,
                             BatchNormDims d) {
    const double m = static_cast<double>(d.n * d.s);
#pragma omp parallel for if (parallel_worth_it(d.n * d.c * d.s)) schedule(static)
    for (int64_t c = 0; c < d.c; ++c) {
        const double mean = static_cast<double>(save_mean[c]);
        const double invstd = static_cast<double>(save_invstd[c]);
        const double w = weight ? static_cast<double>(weight[c]) : 1.0;
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t n = 0; n < d.n; ++n) {
            for (int64_t i = 0; i < d.s; ++i) {
                const int64_t k = (n * d.c + c) * d.s + i;
                const double dy = static_cast<double>(grad_y[k]);
                sum_dy += dy;
                sum_dy_xhat += dy * (static_cast<double>(x[k]) - mean) * invstd;
            }
        }
        if (grad_bias) grad_bias[c] = static_cast<T>(sum_dy);
        if (grad_weight) grad_weight[c] = static_cast<T>(sum_dy_xhat);
        if (!grad_x) continue;
        for (int64_t n = 0; n < d.n; ++n) {
            for (int64_t i = 0; i < d.s; ++i) {
                const int64_t k = (n * d.c + c) * d.s + i;
                const double dy = static_cast<double>(grad_y[k]);
                double dx = dy;  // eval: mean and invstd do not depend on x
                if (d.training) {
                    const double xhat = (static_cast<double>(x[k]) - mean) * invstd;
                    dx = dy - sum_dy / m - xhat * sum_dy_xhat / m;
                }
                grad_x[k] = static_cast<T>(dx * w * invstd);
            }
        }
    }
}

// f32 for the reference path, f64 for the gradient checks.
template void batch_norm_forward_cpu<float>(float*, float*, float*, float*, float*, const float*,
                                            const float*, const float*, BatchNormDims);
template void batch_norm_forward_cpu<double>(double*, double*, double*, double*, double*,
                                             const double*, const double*, const double*,
                                             BatchNormDims);
template void batch_norm_backward_cpu<float>(float*, float*, float*, const float*, const float*,
                                             const float*, const float*, const float*,
                                             BatchNormDims);
template void batch_norm_backward_cpu<double>(double*, double*, double*, const double*,
                                              const double*, const double*, const double*,
                                              const double*, BatchNormDims);

}  // namespace obl::kernels
