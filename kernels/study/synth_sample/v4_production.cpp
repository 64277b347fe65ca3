// Sampler study v4 (production): calls synth_sample_fast_cpu and synth_quota_cpu
// (kernels/synth_sample.h), never a copy of them. Over v3 it adds OpenMP over the tiles (handed
// out dynamically, results independent of the thread count), the top-2 margin that says how far a
// label is from a tie, per-dimension loc / scale and the uniform and Laplace draws, and grow-only
// per-thread scratch (no allocation per call; the vectors below are this study's, not its own).
#include <vector>

#include "kernels/study/synth_sample/synth_sample_study.h"

namespace obl::kernels::study {

void synth_sample_v4(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d) {
    std::vector<float> margin(static_cast<size_t>(d.count));
    std::vector<int64_t> hits(static_cast<size_t>(d.k)), done_at(static_cast<size_t>(d.k));
    synth_sample_fast_cpu(label, margin.data(), nullptr, nullptr, weight, bias, d,
                          SynthDistParams{});
    synth_quota_cpu(accept, hits.data(), done_at.data(), filled, label, quota,
                    SynthQuotaDims{d.count, d.k});
}

}  // namespace obl::kernels::study
