// Sampler study v1 (unfused, scalar): the four steps one after the other, each a plain loop over
// the whole call, every intermediate a full array in memory:
//   1. normals for all B x D values (the philox_normal study's v2: scalar Philox per block,
//      Box-Muller with libm) into z (B, D);
//   2. logits (B, K): for each row and class a dot product of z_j with W's row k, plus b[k];
//   3. argmax per row;  4. the quota filter in row order.
#include <vector>

#include "kernels/study/philox_normal/philox_normal_study.h"
#include "kernels/study/synth_sample/synth_sample_study.h"

namespace obl::kernels::study {

void synth_sample_v1(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d) {
    std::vector<float> z(static_cast<size_t>(d.count * d.d)),
        logits(static_cast<size_t>(d.count * d.k));
    philox_normal_v2(z.data(), candidate_normals(d, 0, d.count));
    for (int64_t t = 0; t < d.count; ++t) {
        for (int64_t c = 0; c < d.k; ++c) {
            float acc = 0.f;
            for (int64_t i = 0; i < d.d; ++i) acc += z[t * d.d + i] * weight[c * d.d + i];
            logits[t * d.k + c] = acc + (bias ? bias[c] : 0.f);
        }
    }
    for (int64_t t = 0; t < d.count; ++t) label[t] = argmax_row(&logits[t * d.k], d.k);
    quota_in_row_order(accept, filled, label, quota, d.count);
}

}  // namespace obl::kernels::study
