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

float fused_row(float* g, const float* l, int64_t K, int64_t t, float w) {
    float m = l[0];
    for (int64_t k = 1; k < K; ++k) m = std::fmax(m, l[k]);
    float s = 0.f;
    for (int64_t k = 0; k < K; ++k) s += g[k] = std::exp(l[k] - m);
    for (int64_t k = 0; k < K; ++k) g[k] = w * (g[k] / s - (k == t ? 1.f : 0.f));
    return w * (std::log(s) + m - l[t]);
}

void head_step_v2(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d) {
    const int64_t N = d.n, D = d.d, K = d.k;
    naive_logits(logits, z, weight, bias, N, D, K);
    float total = 0.f;
    for (int64_t n = 0; n < N; ++n) {
        const float w = sample_weights ? sample_weights[n] : 1.f / static_cast<float>(N);
        total += fused_row(grad_logits + n * K, logits + n * K, K, targets[n], w);
    }
    loss[0] = total;
    naive_weight_grads(grad_weight, bias ? grad_bias : nullptr, grad_logits, z, N, D, K);
}

}  // namespace obl::kernels::study
