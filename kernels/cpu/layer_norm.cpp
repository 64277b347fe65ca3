// CPU reference layer norm (formulas in kernels/layer_norm.h): one row per loop iteration for
// the statistics and dx, one column per iteration for dweight/dbias (sums over rows in row
// order); everything accumulated in double.
#include "kernels/layer_norm.h"

#include <cmath>
#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

// Per row: two-pass mean and variance, save (mean, rstd), then y = xhat w + b.
template <class T>
void layer_norm_forward_cpu(T* y, T* save_mean, T* save_rstd, const T* x, const T* weight,
                            const T* bias, LayerNormDims d) {
#pragma omp parallel for if (parallel_worth_it(d.rows * d.d)) schedule(static)
    for (int64_t r = 0; r < d.rows; ++r) {
        const T* xr = x + r * d.d;
        double sum = 0.0;
        for (int64_t k = 0; k < d.d; ++k) sum += static_cast<double>(xr[k]);
        const double mean = sum / static_cast<double>(d.d);
        double sq = 0.0;
        for (int64_t k = 0; k < d.d; ++k) {
            const double v = static_cast<double>(xr[k]) - mean;
            sq += v * v;
        }
        const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(d.d) + d.eps);
        save_mean[r] = static_cast<T>(mean);
        save_rstd[r] = static_cast<T>(rstd);
        for (int64_t k = 0; k < d.d; ++k) {
            const double w = weight ? static_cast<double>(weight[k]) : 1.0;
            const double b = bias ? static_cast<double>(bias[k]) : 0.0;
            y[r * d.d + k] = static_cast<T>((static_cast<double>(xr[k]) - mean) * rstd * w + b);
        }
    }
}

// dx per row (needs mean_d(g) and mean_d(g xhat) of its own row); dweight/dbias per column.
template <class T>
void layer_norm_backward_cpu(T* grad_x, T* grad_weight, T* grad_bias, const T* grad_y, const T* x,
                             const T* weight, const T* save_mean, const T* save_rstd,
                             LayerNormDims d) {
    const double inv_d = 1.0 / static_cast<double>(d.d);
    if (grad_x) {
#pragma omp parallel for if (parallel_worth_it(d.rows * d.d)) schedule(static)
        for (int64_t r = 0; r < d.rows; ++r) {
            const double mean = static_cast<double>(save_mean[r]);
            const double rstd = static_cast<double>(save_rstd[r]);
            double mean_g = 0.0, mean_g_xhat = 0.0;
            for (int64_t k = 0; k < d.d; ++k) {
                const double g = static_cast<double>(grad_y[r * d.d + k]) *
                                 (weight ? static_cast<double>(weight[k]) : 1.0);
                const double xhat = (static_cast<double>(x[r * d.d + k]) - mean) * rstd;
                mean_g += g;
                mean_g_xhat += g * xhat;
            }
            mean_g *= inv_d;
            mean_g_xhat *= inv_d;
            for (int64_t k = 0; k < d.d; ++k) {
                const double g = static_cast<double>(grad_y[r * d.d + k]) *
                                 (weight ? static_cast<double>(weight[k]) : 1.0);
                const double xhat = (static_cast<double>(x[r * d.d + k]) - mean) * rstd;
                grad_x[r * d.d + k] = static_cast<T>(rstd * (g - mean_g - xhat * mean_g_xhat));
            }
        }
    }
    if (grad_weight || grad_bias) {
#pragma omp parallel for if (parallel_worth_it(d.rows * d.d)) schedule(static)
        for (int64_t k = 0; k < d.d; ++k) {
            double dw = 0.0, db = 0.0;
            for (int64_t r = 0; r < d.rows; ++r) {
                const double dy = static_cast<double>(grad_y[r * d.d + k]);
                const double xhat =
                    (static_cast<double>(x[r * d.d + k]) - static_cast<double>(save_mean[r])) *
                    static_cast<double>(save_rstd[r]);
                dw += dy * xhat;
                db += dy;
            }
            if (grad_weight) grad_weight[k] = static_cast<T>(dw);
            if (grad_bias) grad_bias[k] = static_cast<T>(db);
        }
    }
}

// f32 for the reference path, f64 for the gradient checks.
template void layer_norm_forward_cpu<float>(float*, float*, float*, const float*, const float*,
                                            const float*, LayerNormDims);
template void layer_norm_forward_cpu<double>(double*, double*, double*, const double*,
                                             const double*, const double*, LayerNormDims);
template void layer_norm_backward_cpu<float>(float*, float*, float*, const float*, const float*,
                                             const float*, const float*, const float*,
                                             LayerNormDims);
template void layer_norm_backward_cpu<double>(double*, double*, double*, const double*,
                                              const double*, const double*, const double*,
                                              const double*, LayerNormDims);

}  // namespace obl::kernels
