// Head-step study v3 (one pass over z): every row of z is used for everything while it sits in
// L1: its K logits, v2's row pass, then the rank-1 update of the gradients,
//     dW[k][:] += G[n][k] z[n][:]   (K unit-stride axpys over D: vectorised),   db += G[n].
// z is read once instead of twice, and dW is swept along its rows instead of down columns of G
// and z. W and dW (K x D) are reread for every row, so this pays while they fit L1/L2
// (2.5 KB each for a 10-class head on 64-D embeddings); for large heads the packed GEMMs of v4
// reuse data better.
#include <algorithm>

#include "kernels/study/head_step/head_step_study.h"

namespace obl::kernels::study {

void head_step_v3(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d) {
    const int64_t N = d.n, D = d.d, K = d.k;
    std::fill(grad_weight, grad_weight + K * D, 0.f);
    if (bias && grad_bias) std::fill(grad_bias, grad_bias + K, 0.f);
    float total = 0.f;
    for (int64_t n = 0; n < N; ++n) {
        const float* zn = z + n * D;
        float* l = logits + n * K;
        float* g = grad_logits + n * K;
        naive_logits(l, zn, weight, bias, 1, D, K);  // this row's logits only
        const float w = sample_weights ? sample_weights[n] : 1.f / static_cast<float>(N);
        total += fused_row(g, l, K, targets[n], w);
        for (int64_t k = 0; k < K; ++k) {
            float* dw = grad_weight + k * D;
            for (int64_t i = 0; i < D; ++i) dw[i] += g[k] * zn[i];
            if (bias && grad_bias) grad_bias[k] += g[k];
        }
    }
    loss[0] = total;
}

}  // namespace obl::kernels::study
