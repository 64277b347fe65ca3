// Fused cross-entropy: log-softmax + negative log-likelihood, mean over rows.
//
// Shape letters: N rows (samples), K classes. logits x (N, K); hard targets t (N) i64 in [0, K);
// soft targets q (N, K). loss is a single element.
// Target distribution per row:
//   hard, label smoothing e:  q_k = (1 - e) [k == t] + e / K          (PyTorch's rule)
//   soft:                     q_k given (rows should sum to 1: distillation, SCRUB)
// Forward (m = max_k x_k, lse = log sum_k exp(x_k - m), log p_k = x_k - m - lse):
//   loss = (1/N) sum_n -sum_k q_k log p_k = (1/N) sum_n [ lse sum_k q_k + sum_k q_k (m - x_k) ]
// Backward (p = softmax(x); dloss is the incoming scalar gradient):
//   dx_k = (p_k sum_j q_j - q_k) dloss / N      (= (p_k - q_k) dloss / N when q sums to 1)
// The written-out sum over q keeps the gradient exact for q that does not sum to 1, as autograd
// through PyTorch's log_softmax would.
//
// Implementations:
//   *_forward_cpu<T>  reference: per row m, lse and the loss in double; writes p (N, K) for the
//                     backward when probs != nullptr; the mean over rows uses ordered_chunk_sum
//                     (kernels/reduce.h), so it is deterministic for any thread count.
//   *_backward_cpu<T> one fused pass from the saved p: dx = (p sum q - q) dloss / N.
//   *_fused_fast_cpu  f32 fast path (kernels/cpu/fast/cross_entropy.cpp + softmax_avx*.cpp):
//                     forward AND backward in one pass over the row, writing the loss and
//                     grad = (p sum q - q) / N (the gradient for dloss = 1) when grad != nullptr;
//                     cross_entropy_backward_fast_cpu then only scales it by dloss. Single-threaded
//                     below parallel_worth_it; per-row work, mean over rows in a fixed order.
//   *_cuda            forward: one warp per row (K <= 1024) or one 256-thread block per row,
//                     row losses into the context workspace, then one block sums them in a fixed
//                     order (deterministic); backward: one thread per element from the saved p.
// Target validation: the CPU kernels throw obl::Error naming the bad target, its row and K (the
// check runs before any work). CUDA cannot throw from a kernel without a device->host sync, so an
// out-of-range target makes that row's loss (hence the mean) and its gradient NaN: visible, and
// no sync in the training loop. nn/ops/losses.cpp documents the same.
// Reference: torch.nn.functional.cross_entropy (aten/src/ATen/native/LossNLL.cpp, label_smoothing
// branch); llm.c's fused_classifier_kernel for the fused forward+backward.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct CrossEntropyDims {
    int64_t n = 0;  // N rows
    int64_t k = 0;  // K classes
};

// Throws obl::Error when some targets[i] is outside [0, K) (CPU pointers only).
void check_targets_cpu(const int64_t* targets, CrossEntropyDims d);

// ---- CPU reference (T = float or double) ------------------------------------------------------
template <class T>
void cross_entropy_forward_cpu(T* loss, T* probs, const T* logits, const int64_t* targets,
                               CrossEntropyDims d, double label_smoothing);
template <class T>
void cross_entropy_backward_cpu(T* dlogits, const T* dloss, const T* probs, const int64_t* targets,
                                CrossEntropyDims d, double label_smoothing);
template <class T>
void cross_entropy_soft_forward_cpu(T* loss, T* probs, const T* logits, const T* target_probs,
                                    CrossEntropyDims d);
template <class T>
void cross_entropy_soft_backward_cpu(T* dlogits, const T* dloss, const T* probs,
                                     const T* target_probs, CrossEntropyDims d);

// ---- CPU fast path (f32): fused forward + backward ---------------------------------------------
void cross_entropy_fused_fast_cpu(float* loss, float* grad, const float* logits,
                                  const int64_t* targets, CrossEntropyDims d,
                                  float label_smoothing);
void cross_entropy_soft_fused_fast_cpu(float* loss, float* grad, const float* logits,
                                       const float* target_probs, CrossEntropyDims d);
// dlogits = grad * dloss[0] (grad from a fused forward; hard and soft targets alike).
void cross_entropy_backward_fast_cpu(float* dlogits, const float* dloss, const float* grad,
                                     CrossEntropyDims d);

// ---- CUDA (f32); probs may be nullptr when no backward will run --------------------------------
void cross_entropy_forward_cuda(float* loss, float* probs, const float* logits,
                                const int64_t* targets, CrossEntropyDims d, float label_smoothing,
                                Stream s);
void cross_entropy_backward_cuda(float* dlogits, const float* dloss, const float* probs,
                                 const int64_t* targets, CrossEntropyDims d, float label_smoothing,
                                 Stream s);
void cross_entropy_soft_forward_cuda(float* loss, float* probs, const float* logits,
                                     const float* target_probs, CrossEntropyDims d, Stream s);
void cross_entropy_soft_backward_cuda(float* dlogits, const float* dloss, const float* probs,
                                      const float* target_probs, CrossEntropyDims d, Stream s);

}  // namespace obl::kernels
