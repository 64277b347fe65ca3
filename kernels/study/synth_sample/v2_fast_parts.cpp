// Sampler study v2 (fast parts, still unfused): the same four passes, now with the production
// building blocks: the vectorised normal fill (fill_normal_fast_cpu) over all B x D values and
// the packed SIMD GEMM (gemm_fast_cpu, logits = z W^T). Each pass is fast, but between the passes
// z (B, D), 4 MB for 16,384 x 64, no longer fits the 1 MB L2: the GEMM reads it back from L3 and
// the whole array is written and read once more than necessary.
#include <vector>

#include "kernels/gemm.h"
#include "kernels/random.h"
#include "kernels/study/synth_sample/synth_sample_study.h"

namespace obl::kernels::study {

void synth_sample_v2(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d) {
    std::vector<float> z(static_cast<size_t>(d.count * d.d)),
        logits(static_cast<size_t>(d.count * d.k));
    fill_normal_fast_cpu(z.data(), candidate_normals(d, 0, d.count), 0.0, 1.0);
    gemm_fast_cpu(logits.data(), z.data(), weight, GemmDims{1, d.count, d.k, d.d, false, true});
    for (int64_t t = 0; t < d.count; ++t) {
        float* row = &logits[t * d.k];
        if (bias)
            for (int64_t c = 0; c < d.k; ++c) row[c] += bias[c];
        label[t] = argmax_row(row, d.k);
    }
    quota_in_row_order(accept, filled, label, quota, d.count);
}

}  // namespace obl::kernels::study
