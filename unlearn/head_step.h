// The fused linear-head step at tensor level (kernels/head_step.h), and how the methods find a
// model whose only trainable part is one Linear.
//
// head_step(z, W, b, t, w) returns, in one call and without autograd,
//     loss = sum_n w_n CE(z_n W^T + b, t_n),   logits, G = dloss/dlogits, dW = G^T z, db = sum_n
//     G_n
// (w undefined: w_n = 1/N, the mean CE). The methods that train a hard-label objective
// (finetune, neg_grad, neg_grad_plus, random_labels, boundary_shrink, retrain_head) use it through
// CeStep (unlearn/train_loop.h) whenever find_linear_head() succeeds, and the autodiff path
// (model forward, cross_entropy, backward) otherwise; tests/unlearn/test_head_step.cpp checks that
// both give the same loss and gradients.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "nn/modules/linear.h"
#include "nn/modules/module.h"
#include "nn/tensor.h"

namespace obl {

struct HeadStepResult {
    Tensor loss;         // scalar
    Tensor logits;       // (N, K)
    Tensor grad_logits;  // (N, K): G
    Tensor grad_weight;  // (K, D)
    Tensor grad_bias;    // (K), undefined when bias is undefined
};

// z (N, D) f32 or f64 (f64: CPU only, reference kernel), weight (K, D) and bias (K) or undefined of
// the same dtype and device, targets (N) i64, sample_weights (N) of z's dtype or undefined. CPU f32
// takes the fast path unless a ReferenceCpuGuard is alive; CUDA f32 the CUDA kernel. Throws
// obl::Error on shape, dtype or device mismatches (naming the shapes) and, on the CPU, on a target
// outside [0, K). Nothing is recorded for autograd; the inputs may require grad.
HeadStepResult head_step(const Tensor& z, const Tensor& weight, const Tensor& bias,
                         const Tensor& targets, const Tensor& sample_weights = Tensor());

// A model seen as parameter-free (or frozen) modules followed by one trainable Linear:
// model == Linear, or a Sequential (possibly nested) whose last module is a Linear with trainable
// weight and every earlier module has no parameter that requires grad (FrozenBody, Identity, a
// flatten Lambda, ...). This covers the three sources of DESIGN.md §G for a pre_logits cut: the
// head itself, Sequential{Linear}, and Sequential{FrozenBody(body), head}.
struct LinearHead {
    std::vector<Module*> prefix;  // run in order, under NoGradGuard, to get z
    Linear* linear = nullptr;

    // z = prefix(x) (x itself when there is no prefix), detached.
    Tensor features(const Tensor& x) const;
};
std::optional<LinearHead> find_linear_head(Module& model);

}  // namespace obl
