// CPU reference softmax / log-softmax over the last dim (formulas in kernels/softmax.h).
// Each row: the max, then sums and exp in double, then the outputs. OpenMP over rows only.
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

// m = max_j x_j and s = sum_j exp(x_j - m), in double.
template <class T>
void max_and_sum(const T* x, int64_t k, double& m, double& s) {
    m = -INFINITY;
    for (int64_t j = 0; j < k; ++j) m = std::max(m, static_cast<double>(x[j]));
    s = 0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(x[j] - m);
}

}  // namespace

// y_k = exp(x_k - m) / s, the exp evaluated in double from the float input.
template <class T>
void softmax_forward_cpu(T* y, const T* x, SoftmaxDims d) {
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
        const T* xr = x + n * d.k;
        double m, s;
        max_and_sum(xr, d.k, m, s);
        for (int64_t j = 0; j < d.k; ++j) y[n * d.k + j] = static_cast<T>(std::exp(xr[j] - m) / s);
    }
}

// dx_k = y_k (dy_k - sum_j dy_j y_j): the Jacobian-vector product of softmax, from the saved y.
template <class T>
void softmax_backward_cpu(T* dx, const T* dy, const T* y, SoftmaxDims d) {
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
        const int64_t row = n * d.k;
        double dot = 0;  // sum_j dy_j y_j
        for (int64_t j = 0; j < d.k; ++j) dot += static_cast<double>(dy[row + j]) * y[row + j];
        for (int64_t j = 0; j < d.k; ++j)
            dx[row + j] = static_cast<T>(y[row + j] * (dy[row + j] - dot));
    }
}

// y_k = x_k - m - log s: subtracting in double keeps large logits (m ~ 1e3) exact to float.
template <class T>
void log_softmax_forward_cpu(T* y, const T* x, SoftmaxDims d) {
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
        const T* xr = x + n * d.k;
        double m, s;
        max_and_sum(xr, d.k, m, s);
        const double log_s = std::log(s);
        for (int64_t j = 0; j < d.k; ++j) y[n * d.k + j] = static_cast<T>(xr[j] - m - log_s);
    }
}

// dx_k = dy_k - softmax_k sum_j dy_j, with softmax_k = exp(y_k) recovered from the saved output.
template <class T>
void log_softmax_backward_cpu(T* dx, const T* dy, const T* y, SoftmaxDims d) {
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
        const int64_t row = n * d.k;
        double sum_dy = 0;
        for (int64_t j = 0; j < d.k; ++j) sum_dy += dy[row + j];
        for (int64_t j = 0; j < d.k; ++j)
            dx[row + j] =
                static_cast<T>(dy[row + j] - std::exp(static_cast<double>(y[row + j])) * sum_dy);
    }
}

#define OBL_INSTANTIATE(T)                                                      \
    template void softmax_forward_cpu<T>(T*, const T*, SoftmaxDims);            \
    template void softmax_backward_cpu<T>(T*, const T*, const T*, SoftmaxDims); \
    template void log_softmax_forward_cpu<T>(T*, const T*, SoftmaxDims);        \
    template void log_softmax_backward_cpu<T>(T*, const T*, const T*, SoftmaxDims);
OBL_INSTANTIATE(float)
OBL_INSTANTIATE(double)
#undef OBL_INSTANTIATE

}  // namespace obl::kernels
