// CPU reference fused cross-entropy (formulas in kernels/cross_entropy.h).
// Per row: m, lse and the row loss in double, p written for the backward; the mean over rows is
// ordered_chunk_sum's fixed-order sum, so the loss is the same for any thread count.
#include "kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/reduce.h"

namespace obl::kernels {

namespace {

// q_k of a hard-target row with label smoothing e: (1 - e) [k == t] + e / K.
double hard_q(int64_t k, int64_t t, double e, int64_t num_classes) {
    return (k == t ? 1.0 - e : 0.0) + e / static_cast<double>(num_classes);
}

// One row: returns -sum_k q_k log p_k and writes p_k (when probs != nullptr). q_of(k) gives q_k.
template <class T, class Q>
double row_loss(T* probs, const T* x, int64_t k, Q&& q_of) {
    double m = -INFINITY;
    for (int64_t j = 0; j < k; ++j) m = std::max(m, static_cast<double>(x[j]));
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(x[j] - m);
    const double lse = std::log(s);
    double loss = 0;
    for (int64_t j = 0; j < k; ++j) {
        const double log_p = x[j] - m - lse;
        loss -= q_of(j) * log_p;
        if (probs) probs[j] = static_cast<T>(std::exp(log_p));
    }
    return loss;
}

}  // namespace

void check_targets_cpu(const int64_t* targets, CrossEntropyDims d) {
    for (int64_t n = 0; n < d.n; ++n)
        OBL_CHECK(targets[n] >= 0 && targets[n] < d.k, "cross_entropy: target ", targets[n],
                  " (row ", n, ") is out of range for K = ", d.k, " classes (must be in [0, ", d.k,
                  "))");
}

// Targets are checked first (before any thread starts), so a bad target throws cleanly. Each
// 64-row chunk returns its loss sum in row order; ordered_chunk_sum adds the chunks in order.
template <class T>
void cross_entropy_forward_cpu(T* loss, T* probs, const T* logits, const int64_t* targets,
                               CrossEntropyDims d, double label_smoothing) {
    check_targets_cpu(targets, d);
    const double total = ordered_chunk_sum(d.n, d.k, [&](int64_t begin, int64_t end) {
        double s = 0;
        for (int64_t n = begin; n < end; ++n) {
            const int64_t t = targets[n];
            s += row_loss(probs ? probs + n * d.k : nullptr, logits + n * d.k, d.k,
                          [&](int64_t j) { return hard_q(j, t, label_smoothing, d.k); });
        }
        return s;
    });
    loss[0] = static_cast<T>(total / static_cast<double>(d.n));
}

template <class T>
void cross_entropy_backward_cpu(T* dlogits, const T* dloss, const T* probs, const int64_t* targets,
                                CrossEntropyDims d, double label_smoothing) {
    check_targets_cpu(targets, d);
    const double scale = static_cast<double>(dloss[0]) / static_cast<double>(d.n);
    // sum_k q_k = 1 exactly for hard targets, so dx = (p - q) dloss / N.
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n)
        for (int64_t j = 0; j < d.k; ++j)
            dlogits[n * d.k + j] = static_cast<T>(
                (probs[n * d.k + j] - hard_q(j, targets[n], label_smoothing, d.k)) * scale);
}

template <class T>
void cross_entropy_soft_forward_cpu(T* loss, T* probs, const T* logits, const T* target_probs,
                                    CrossEntropyDims d) {
    const double total = ordered_chunk_sum(d.n, d.k, [&](int64_t begin, int64_t end) {
        double s = 0;
        for (int64_t n = begin; n < end; ++n) {
            const T* q = target_probs + n * d.k;
            s += row_loss(probs ? probs + n * d.k : nullptr, logits + n * d.k, d.k,
                          [&](int64_t j) { return static_cast<double>(q[j]); });
        }
        return s;
    });
    loss[0] = static_cast<T>(total / static_cast<double>(d.n));
}

// sum_k q_k is recomputed per row: rows that do not sum to 1 still get the exact gradient.
template <class T>
void cross_entropy_soft_backward_cpu(T* dlogits, const T* dloss, const T* probs,
                                     const T* target_probs, CrossEntropyDims d) {
    const double scale = static_cast<double>(dloss[0]) / static_cast<double>(d.n);
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
        const int64_t row = n * d.k;
        double sum_q = 0;
        for (int64_t j = 0; j < d.k; ++j) sum_q += target_probs[row + j];
        for (int64_t j = 0; j < d.k; ++j)
            dlogits[row + j] =
                static_cast<T>((probs[row + j] * sum_q - target_probs[row + j]) * scale);
    }
}

#define OBL_INSTANTIATE(T)                                                                         \
    template void cross_entropy_forward_cpu<T>(T*, T*, const T*, const int64_t*, CrossEntropyDims, \
                                               double);                                            \
    template void cross_entropy_backward_cpu<T>(T*, const T*, const T*, const int64_t*,            \
                                                CrossEntropyDims, double);                         \
    template void cross_entropy_soft_forward_cpu<T>(T*, T*, const T*, const T*, CrossEntropyDims); \
    template void cross_entropy_soft_backward_cpu<T>(T*, const T*, const T*, const T*,             \
                                                     CrossEntropyDims);
OBL_INSTANTIATE(float)
OBL_INSTANTIATE(double)
#undef OBL_INSTANTIATE

}  // namespace obl::kernels
