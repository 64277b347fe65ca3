// Head-step study v4 (production): calls head_step_fast_cpu (kernels/head_step.h), never a copy
// of it. Over v3 it trades the per-row sweep for blocked data reuse: l = z W^T and dW = G^T z are
// each one packed SIMD GEMM (gemm_fast_cpu, OpenMP inside, skinny-shape kernels for K = 10), and
// the row pass is the softmax family's AVX-512 / AVX2 cross-entropy row kernel, called once per
// run of rows with equal weight; the loss is summed in fixed 64-row chunks (thread-count
// independent) and in double, as is db.
#include "kernels/study/head_step/head_step_study.h"

namespace obl::kernels::study {

void head_step_v4(float* loss, float* grad_weight, float* grad_bias, float* logits,
                  float* grad_logits, const float* z, const float* weight, const float* bias,
                  const int64_t* targets, const float* sample_weights, HeadStepDims d) {
    head_step_fast_cpu(loss, grad_weight, grad_bias, logits, grad_logits, z, weight, bias, targets,
                       sample_weights, d);
}

}  // namespace obl::kernels::study
