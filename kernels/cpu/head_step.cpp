// CPU reference of the fused linear-head step (formulas in kernels/head_step.h): the unfused
// composition l = gemm(z, W^T) + b -> per-row softmax-CE in double -> G -> dW = gemm(G^T, z),
// db = column sums of G. Every reduction is accumulated in double.
#include "kernels/head_step.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/cross_entropy.h"
#include "kernels/gemm.h"

namespace obl::kernels {

template <class T>
void head_step_cpu(T* loss, T* grad_weight, T* grad_bias, T* logits, T* grad_logits, const T* z,
                   const T* weight, const T* bias, const int64_t* targets, const T* sample_weights,
                   HeadStepDims d) {
    OBL_CHECK(d.n >= 1 && d.d >= 1 && d.k >= 1, "head_step: needs N, D, K >= 1, got N = ", d.n,
              ", D = ", d.d, ", K = ", d.k);
    check_targets_cpu(targets, CrossEntropyDims{d.n, d.k});

    // l = z W^T: (N, D) x (K, D)^T -> (N, K); then the bias of every row.
    gemm_cpu<T>(logits, z, weight, GemmDims{1, d.n, d.k, d.d, false, true});
    if (bias) {
        for (int64_t n = 0; n < d.n; ++n)
            for (int64_t k = 0; k < d.k; ++k) logits[n * d.k + k] += bias[k];
    }

    // Per row: p = softmax(l), CE = lse + m - l_t, G = w (p - onehot(t)). Rows are independent.
    std::vector<double> row_loss(static_cast<size_t>(d.n));
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
        const T* l = logits + n * d.k;
        T* g = grad_logits + n * d.k;
        double m = l[0];
        for (int64_t k = 1; k < d.k; ++k) m = std::fmax(m, static_cast<double>(l[k]));
        double s = 0;
        for (int64_t k = 0; k < d.k; ++k) s += std::exp(static_cast<double>(l[k]) - m);
        const double lse = std::log(s);
        const double w = sample_weights ? static_cast<double>(sample_weights[n]) : 1.0 / d.n;
        const int64_t t = targets[n];
        for (int64_t k = 0; k < d.k; ++k) {
            const double p = std::exp(static_cast<double>(l[k]) - m - lse);
            g[k] = static_cast<T>(w * (p - (k == t ? 1.0 : 0.0)));
        }
        row_loss[static_cast<size_t>(n)] = w * (lse + m - static_cast<double>(l[t]));
    }
    double total = 0;
    for (double r : row_loss) total += r;  // row order: deterministic
    loss[0] = static_cast<T>(total);

    // dW = G^T z: (N, K)^T x (N, D) -> (K, D).
    gemm_cpu<T>(grad_weight, grad_logits, z, GemmDims{1, d.k, d.d, d.n, true, false});
    if (bias && grad_bias) {
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
        for (int64_t k = 0; k < d.k; ++k) {
            double acc = 0;
            for (int64_t n = 0; n < d.n; ++n) acc += grad_logits[n * d.k + k];
            grad_bias[k] = static_cast<T>(acc);
        }
    }
}

template void head_step_cpu<float>(float*, float*, float*, float*, float*, const float*,
                                   const float*, const float*, const int64_t*, const float*,
                                   HeadStepDims);
template void head_step_cpu<double>(double*, double*, double*, double*, double*, const double*,
                                    const double*, const double*, const int64_t*, const double*,
                                    HeadStepDims);

}  // namespace obl::kernels
