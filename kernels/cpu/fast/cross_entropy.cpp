// Fast CPU fused cross-entropy (f32): forward and backward in one pass over each row (the SIMD
// row kernels of softmax_simd.h), the mean over rows through ordered_chunk_sum (fixed 64-row
// chunks added in order: the same loss for any thread count; single-threaded below
// parallel_worth_it). Formulas in kernels/cross_entropy.h. Without AVX2 it falls back to the
// reference forward followed by the reference backward with dloss = 1.
#include "kernels/cross_entropy.h"

#include <cstdint>

#include "kernels/common/parallel.h"
#include "kernels/cpu/fast/softmax_isa.h"
#include "kernels/reduce.h"

namespace obl::kernels {

void cross_entropy_fused_fast_cpu(float* loss, float* grad, const float* logits,
                                  const int64_t* targets, CrossEntropyDims d,
                                  float label_smoothing) {
    check_targets_cpu(targets, d);
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) {
        cross_entropy_forward_cpu<float>(loss, grad, logits, targets, d, label_smoothing);
        const float one = 1.f;
        if (grad) cross_entropy_backward_cpu<float>(grad, &one, grad, targets, d, label_smoothing);
        return;
    }
    const float inv_n = 1.f / static_cast<float>(d.n);
    const double total = ordered_chunk_sum(d.n, d.k, [&](int64_t begin, int64_t end) {
        return rk->cross_entropy(grad ? grad + begin * d.k : nullptr, logits + begin * d.k,
                                 targets + begin, end - begin, d.k, label_smoothing, inv_n);
    });
    loss[0] = static_cast<float>(total / static_cast<double>(d.n));
}

void cross_entropy_soft_fused_fast_cpu(float* loss, float* grad, const float* logits,
                                       const float* target_probs, CrossEntropyDims d) {
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) {
        cross_entropy_soft_forward_cpu<float>(loss, grad, logits, target_probs, d);
        const float one = 1.f;
        if (grad) cross_entropy_soft_backward_cpu<float>(grad, &one, grad, target_probs, d);
        return;
    }
    const float inv_n = 1.f / static_cast<float>(d.n);
    const double total = ordered_chunk_sum(d.n, d.k, [&](int64_t begin, int64_t end) {
        const int64_t o = begin * d.k;
        return rk->cross_entropy_soft(grad ? grad + o : nullptr, logits + o, target_probs + o,
                                      end - begin, d.k, inv_n);
    });
    loss[0] = static_cast<float>(total / static_cast<double>(d.n));
}

void cross_entropy_backward_fast_cpu(float* dlogits, const float* dloss, const float* grad,
                                     CrossEntropyDims d) {
    const float scale = dloss[0];
    const int64_t total = d.n * d.k;
    // A plain scaled copy; -O3 vectorises it for the baseline ISA.
#pragma omp parallel for if (parallel_worth_it(total)) schedule(static)
    for (int64_t i = 0; i < total; ++i) dlogits[i] = grad[i] * scale;
}

}  // namespace obl::kernels
