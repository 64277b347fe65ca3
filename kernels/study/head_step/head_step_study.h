// Kernel study of the fused linear-head step (docs/kernels.md; the op is kernels/head_step.h):
// logits, the weighted cross-entropy and its parameter gradients in one call, f32:
//     l = z W^T + b,   CE_n = logsumexp(l_n) - l_n,t_n,   loss = sum_n w_n CE_n
//     G = w (softmax(l) - onehot(t)),   dW = G^T z,   db = column sums of G
// z (N, D), W (K, D), b (K) or null, targets (N), w (N) or null (= 1/N each). Same signature and
// outputs as head_step_cpu, so every version is checked against it output by output.
//
// Each version adds ONE idea to the one before it (its file opens with that idea):
//   v1_unfused      one loop nest per formula, as an autodiff graph runs them: a stored
//                   probability array, -log p, dW by column walks through G and z
//   v2_fused_rows   one pass per row for softmax + CE + G (logsumexp form, no p array)
//   v3_one_pass     one pass over z: per row the logits, the row pass and the rank-1 update
//                   dW += G_n^T z_n while the row is in L1
//   v4_production   head_step_fast_cpu, CALLED (never copied): the two products as packed SIMD
//                   GEMMs, the SIMD cross-entropy row kernel, OpenMP inside the GEMMs
#pragma once

#include <cstdint>

#include "kernels/head_step.h"

namespace obl::kernels::study {

using HeadStepFn = void (*)(float* loss, float* grad_weight, float* grad_bias, float* logits,
                            float* grad_logits, const float* z, const float* weight,
                            const float* bias, const int64_t* targets, const float* sample_weights,
                            HeadStepDims d);

void head_step_v1(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d);
void head_step_v2(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d);
void head_step_v3(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d);
void head_step_v4(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d);

// Building blocks a later version reuses from the version that introduced them, so that each
// file shows only its own idea (N rows of z, D features, K classes, row-major):
// v1's logits, a dot product per logit: logits (N, K) = z W^T + b (bias may be null).
void naive_logits(float* logits, const float* z, const float* weight, const float* bias, int64_t N,
                  int64_t D, int64_t K);
// v1's gradient products, walking down the columns of G (N, K) and z (N, D):
// dW[k][i] = sum_n G[n][k] z[n][i]; db[k] = sum_n G[n][k] when grad_bias is not null.
void naive_weight_grads(float* grad_weight, float* grad_bias, const float* grad_logits,
                        const float* z, int64_t N, int64_t D, int64_t K);
// v2's fused row pass over one row of logits l (K): writes G's row g = w (softmax(l) - onehot(t))
// and returns w CE = w (logsumexp(l) - l_t).
float fused_row(float* g, const float* l, int64_t K, int64_t t, float w);

struct HeadStepVersion {
    const char* name;  // the file name under kernels/study/head_step/, without .cpp
    HeadStepFn fn;
};

inline constexpr HeadStepVersion kHeadStepVersions[] = {
    {"v1_unfused", &head_step_v1},
    {"v2_fused_rows", &head_step_v2},
    {"v3_one_pass", &head_step_v3},
    {"v4_production", &head_step_v4},
};

}  // namespace obl::kernels::study
