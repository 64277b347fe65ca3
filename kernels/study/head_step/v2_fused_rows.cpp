// Head-step study v2 (fused row pass): softmax, cross-entropy and G in ONE pass over each row of
// logits (llm.c's fused classifier), in the logsumexp form:
//     m = max_k l_k,  e_k = exp(l_k - m),  s = sum_k e_k,  CE = log s + m - l_t,
//     G_k = w (e_k / s - [k == t]).
// No (N, K) probability array is stored and read back, one log per row instead of -log p (which
// also loses p's precision when p is tiny), and the row stays in L1 from max to G. The two
// products (logits, dW) are still v1's loops: for a 10-class head they are most of the work.
#include <cmath>

#include "kernels/study/head_step/head_step_study.h"

namespace obl::kernels::study {

void head_step_v2(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d) {
    const int64_t N = d.n, D = d.d, K = d.k;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) {
            float acc = 0.f;
            for (int64_t i = 0; i < D; ++i) acc += z[n * D + i] * weight[k * D + i];
            logits[n * K + k] = acc + (bias ? bias[k] : 0.f);
        }
    float total = 0.f;
    for (int64_t n = 0; n < N; ++n) {
        const float* l = logits + n * K;
        float* g = grad_logits + n * K;
        const float w = sample_weights ? sample_weights[n] : 1.f / static_cast<float>(N);
        float m = l[0];
        for (int64_t k = 1; k < K; ++k) m = std::fmax(m, l[k]);
        float s = 0.f;
        for (int64_t k = 0; k < K; ++k) s += g[k] = std::exp(l[k] - m);
        total += w * (std::log(s) + m - l[targets[n]]);
        for (int64_t k = 0; k < K; ++k) g[k] = w * (g[k] / s - (k == targets[n] ? 1.f : 0.f));
    }
    loss[0] = total;
    for (int64_t k = 0; k < K; ++k)
        for (int64_t i = 0; i < D; ++i) {
            float acc = 0.f;
            for (int64_t n = 0; n < N; ++n) acc += grad_logits[n * K + k] * z[n * D + i];
            grad_weight[k * D + i] = acc;
        }
    if (bias && grad_bias)
        for (int64_t k = 0; k < K; ++k) {
            float acc = 0.f;
            for (int64_t n = 0; n < N; ++n) acc += grad_logits[n * K + k];
            grad_bias[k] = acc;
        }
}

}  // namespace obl::kernels::study
