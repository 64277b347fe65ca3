// Fused linear-head step: logits, the weighted cross-entropy and its parameter gradients in one
// call, for the unlearning methods that train a single Linear head (DESIGN.md §N, unlearn/).
//
// Shape letters: N samples, D embedding dim, K classes. z (N, D); weight W (K, D) (PyTorch's
// Linear layout); bias b (K) or none; targets t (N) i64 in [0, K); sample weights w (N) or none.
// Forward (per row n; m_n = max_k l_nk, lse_n = log sum_k exp(l_nk - m_n)):
//   logits  l_nk = sum_i z_ni W_ki + b_k
//   p_nk    = exp(l_nk - m_n - lse_n)                        (softmax of the row)
//   CE_n    = lse_n + m_n - l_n,t_n                          (= -log p_n,t_n)
//   loss    = sum_n w_n CE_n          w_n = 1 / N for every row when no weights are given (the
//   mean)
// Gradients (the backward of `loss`, written out; dloss = 1):
//   G_nk    = w_n (p_nk - [k == t_n])                         grad_logits (N, K)
//   dW_ki   = sum_n G_nk z_ni          (= G^T z)              grad_weight (K, D)
//   db_k    = sum_n G_nk                                      grad_bias (K), when there is a bias
// The weights carry the sign and the batch normalisation, so one call serves every hard-label
// objective of the methods: fine-tuning (w = 1/N), gradient ascent (w = -1/N) and
// NG+ (w = beta / N_r on retain rows, -(1 - beta) / N_f on forget rows of one concatenated batch).
// There is no backward of this op: it IS a forward + backward, and the caller hands dW, db to the
// optimizer (unlearn/head_step.h). z, W and b receive no gradient through autograd.
//
// Implementations:
//   head_step_cpu<T>     reference, T = float or double: the unfused composition of the existing
//                        reference kernels (gemm_cpu for l = z W^T and dW = G^T z, both with double
//                        accumulation), bias add, and a per-row softmax-CE loop in double. Loss and
//                        db are double sums in row order. Allocates nothing.
//   head_step_fast_cpu   float: gemm_fast_cpu for the logits, then ONE pass per row that fuses the
//                        bias add, softmax, weighted CE and G (the SIMD cross-entropy row kernel of
//                        kernels/cpu/fast, called with rows = 1 and inv_n = w_n), then
//                        gemm_fast_cpu for dW and a row-order column sum for db. Every value is
//                        computed by a fixed chain of operations (the GEMM is thread-count
//                        independent, the loss is summed in fixed 64-row chunks in order), so the
//                        result does not depend on the thread count. Agrees with the reference to
//                        GEMM tolerance
//                        (~sqrt(D) float eps relative) and softmax tolerance (~1e-6).
//   head_step_cuda       float: cuBLAS for the two GEMMs (pedantic FP32, no TF32), one fused row
//                        kernel (bias + softmax + weighted CE + G, one warp per row) and one
//                        column-sum kernel for db and the loss (fixed order, no atomics):
//                        deterministic. Four launches, one call, no host sync.
// Target validation: the CPU kernels throw obl::Error naming the bad target (before any work); the
// CUDA kernel cannot throw without a sync, so a bad target makes its row of G and the loss NaN.
// Reference: torch.nn.functional.linear + cross_entropy(reduction='none') weighted and summed,
// differentiated by autograd; llm.c's fused_classifier_kernel for the fused softmax-CE-gradient.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct HeadStepDims {
    int64_t n = 0;  // N samples (>= 1)
    int64_t d = 0;  // D embedding dim (>= 1)
    int64_t k = 0;  // K classes (>= 1)
};

// Outputs: loss (1), grad_weight (K, D), grad_bias (K) (ignored, may be null, when bias is null),
// logits (N, K), grad_logits (N, K). Inputs: z (N, D), weight (K, D), bias (K) or null,
// targets (N), sample_weights (N) or null (= 1/N each). Outputs never alias inputs.

// ---- CPU reference (T = float or double) ------------------------------------------------------
template <class T>
void head_step_cpu(T* loss, T* grad_weight, T* grad_bias, T* logits, T* grad_logits, const T* z,
                   const T* weight, const T* bias, const int64_t* targets, const T* sample_weights,
                   HeadStepDims d);

// ---- CPU fast path (f32) -----------------------------------------------------------------------
void head_step_fast_cpu(float* loss, float* grad_weight, float* grad_bias, float* logits,
                        float* grad_logits, const float* z, const float* weight, const float* bias,
                        const int64_t* targets, const float* sample_weights, HeadStepDims d);

// ---- CUDA (f32, every pointer on the device) ---------------------------------------------------
void head_step_cuda(float* loss, float* grad_weight, float* grad_bias, float* logits,
                    float* grad_logits, const float* z, const float* weight, const float* bias,
                    const int64_t* targets, const float* sample_weights, HeadStepDims d, Stream s);

}  // namespace obl::kernels
