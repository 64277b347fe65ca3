// Head-step study v1 (unfused, naive): one loop nest per formula, in the order an autodiff graph
// runs them, each a full pass over its own array:
//   l = z W^T + b (a dot product per logit) -> p = softmax(l), stored (N, K)
//   -> loss = sum_n w_n (-log p[n][t_n]) -> G = w (p - onehot(t))
//   -> dW[k][i] = sum_n G[n][k] z[n][i] (walks DOWN the columns of G and z: stride K and D)
//   -> db[k] = sum_n G[n][k].
// Float sums in plain order; expf / logf from libm.
#include <cmath>
#include <vector>

#include "kernels/study/head_step/head_step_study.h"

namespace obl::kernels::study {

void naive_logits(float* logits, const float* z, const float* weight, const float* bias, int64_t N,
                  int64_t D, int64_t K) {
    for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) {
            float acc = 0.f;
            for (int64_t i = 0; i < D; ++i) acc += z[n * D + i] * weight[k * D + i];
            logits[n * K + k] = acc + (bias ? bias[k] : 0.f);
        }
}

void naive_weight_grads(float* grad_weight, float* grad_bias, const float* grad_logits,
                        const float* z, int64_t N, int64_t D, int64_t K) {
    for (int64_t k = 0; k < K; ++k)
        for (int64_t i = 0; i < D; ++i) {
            float acc = 0.f;
            for (int64_t n = 0; n < N; ++n) acc += grad_logits[n * K + k] * z[n * D + i];
            grad_weight[k * D + i] = acc;
        }
    if (grad_bias)
        for (int64_t k = 0; k < K; ++k) {
            float acc = 0.f;
            for (int64_t n = 0; n < N; ++n) acc += grad_logits[n * K + k];
            grad_bias[k] = acc;
        }
}

void head_step_v1(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d) {
    const int64_t N = d.n, D = d.d, K = d.k;
    naive_logits(logits, z, weight, bias, N, D, K);
    std::vector<float> p(static_cast<size_t>(N * K));
    for (int64_t n = 0; n < N; ++n) {
        float m = logits[n * K];
        for (int64_t k = 1; k < K; ++k) m = std::fmax(m, logits[n * K + k]);
        float s = 0.f;
        for (int64_t k = 0; k < K; ++k) s += p[n * K + k] = std::exp(logits[n * K + k] - m);
        for (int64_t k = 0; k < K; ++k) p[n * K + k] /= s;
    }
    float total = 0.f;
    for (int64_t n = 0; n < N; ++n) {
        const float w = sample_weights ? sample_weights[n] : 1.f / static_cast<float>(N);
        total += w * -std::log(p[n * K + targets[n]]);
    }
    loss[0] = total;
    for (int64_t n = 0; n < N; ++n) {
        const float w = sample_weights ? sample_weights[n] : 1.f / static_cast<float>(N);
        for (int64_t k = 0; k < K; ++k)
            grad_logits[n * K + k] = w * (p[n * K + k] - (k == targets[n] ? 1.f : 0.f));
    }
    naive_weight_grads(grad_weight, bias ? grad_bias : nullptr, grad_logits, z, N, D, K);
}

}  // namespace obl::kernels::study
