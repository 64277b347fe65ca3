// Softmax family over the LAST dim, and the fused losses (kernels/softmax.h,
// kernels/cross_entropy.h, kernels/kl_div.h). Rows are all leading dims flattened: (N, K).
#pragma once

#include "nn/tensor.h"

namespace obl {

Tensor softmax(const Tensor& x);      // y_k = exp(x_k - max) / sum_j exp(x_j - max)
Tensor log_softmax(const Tensor& x);  // y_k = x_k - max - log sum_j exp(x_j - max)

// Fused log-softmax + NLL, mean over rows. logits (N, K) f32/f64; targets (N) i64 in [0, K).
// With label smoothing e the target distribution is (1 - e) one_hot + e / K (PyTorch's rule).
// Gradient w.r.t. logits only: (softmax(x) - q) / N.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, double label_smoothing = 0.0);
// The same with per-sample target distributions q (N, K) (rows sum to 1), e.g. for distillation.
// Gradient flows to logits only; q must not require grad.
Tensor cross_entropy_soft(const Tensor& logits, const Tensor& target_probs);

// KL(p || q) with PyTorch's kl_div(input = log q, target = p, reduction = "batchmean"):
// sum_{n,k} p (log p - log q) / N, with 0 log 0 = 0. Gradient flows to log_q only.
Tensor kl_div(const Tensor& log_q, const Tensor& p);

}  // namespace obl
