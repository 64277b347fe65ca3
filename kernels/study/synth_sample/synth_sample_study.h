// Kernel study of the fused synthetic-embedding sampler (docs/kernels.md; the op is
// kernels/synth_sample.h): for candidates j = first .. first + B - 1,
//     z_j = D standard normals of the Philox stream (element offset + j D + i)
//     label_j = the first k with the largest logit sum_i W[k, i] z_j[i] + b[k]
//     accept_j = filled[label_j] < quota[label_j], taken in row order (then filled[label_j] += 1)
// Standard normal draws only (loc 0, scale 1); f32. W is (K, D), b (K) or null.
//
// Each version adds ONE idea to the one before it (its file opens with that idea):
//   v1_unfused      four passes of plain loops over the whole call: normals (scalar Philox) into a
//                   (B, D) array, logits (B, K), argmax, quota
//   v2_fast_parts   the same four passes with the production building blocks (vectorised normal
//                   fill, packed SIMD GEMM)
//   v3_tiled        fusion: tiles of R rows sized so that the tile's z stays in L2 between the
//                   draw and the GEMM; no (B, D) array
//   v4_production   synth_sample_fast_cpu + synth_quota_cpu, CALLED (never copied): adds OpenMP
//                   over tiles, the top-2 margin, the other distributions
// v1-v3 run on the calling thread; v4's sampler uses num_threads().
#pragma once

#include <cstdint>

#include "kernels/random.h"
#include "kernels/synth_sample.h"

namespace obl::kernels::study {

// label (B) and accept (B, 0/1) written; filled (K) updated; quota (K) read.
using SampleFn = void (*)(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                          const float* bias, const int64_t* quota, SynthDims d);

void synth_sample_v1(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d);
void synth_sample_v2(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d);
void synth_sample_v3(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d);
void synth_sample_v4(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d);

struct SampleVersion {
    const char* name;  // the file name under kernels/study/synth_sample/, without .cpp
    SampleFn fn;
};

inline constexpr SampleVersion kSampleVersions[] = {
    {"v1_unfused", &synth_sample_v1},
    {"v2_fast_parts", &synth_sample_v2},
    {"v3_tiled", &synth_sample_v3},
    {"v4_production", &synth_sample_v4},
};

// The normals of candidate rows [first + row0, first + row0 + rows) of the call: D values per row,
// at their place in the (seed, offset) Philox stream, as the production sampler draws them.
inline RandomDims candidate_normals(const SynthDims& d, int64_t row0, int64_t rows) {
    RandomDims r;
    r.n = rows * d.d;
    r.seed = d.seed;
    r.offset = d.offset + static_cast<uint64_t>(d.first + row0) * static_cast<uint64_t>(d.d);
    return r;
}

// The quota rule over `rows` labelled rows, in row order (v1-v3; v4 calls synth_quota_cpu).
inline void quota_in_row_order(uint8_t* accept, int64_t* filled, const int64_t* label,
                               const int64_t* quota, int64_t rows) {
    for (int64_t t = 0; t < rows; ++t) {
        const int64_t c = label[t];
        accept[t] = filled[c] < quota[c];
        filled[c] += accept[t];
    }
}

// The first k with the largest value of row[0, k) (torch.argmax's rule; no NaN in these rows).
inline int64_t argmax_row(const float* row, int64_t k) {
    int64_t best = 0;
    for (int64_t c = 1; c < k; ++c)
        if (row[c] > row[best]) best = c;
    return best;
}

}  // namespace obl::kernels::study
