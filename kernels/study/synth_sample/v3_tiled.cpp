// Sampler study v3 (fusion over L2-sized tiles): the call is cut into tiles of R rows with
// R x D <= 64k floats (256 KB), and each tile goes through all the steps before the next one
// starts: normals -> logits (gemm_fast_cpu on the tile) -> bias + argmax -> quota. The tile's z is
// still in L2 when the GEMM reads it, then the next tile overwrites it: no (B, D) array, one pass
// over memory. A row's values depend only on its index, so tiling changes no result.
#include <algorithm>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/random.h"
#include "kernels/study/synth_sample/synth_sample_study.h"

namespace obl::kernels::study {

namespace {

constexpr int64_t kTileFloats = 65536;  // z of one tile: 256 KB, a quarter of the L2

}  // namespace

void synth_sample_v3(int64_t* label, uint8_t* accept, int64_t* filled, const float* weight,
                     const float* bias, const int64_t* quota, SynthDims d) {
    const int64_t tile = std::clamp<int64_t>(kTileFloats / d.d / 16 * 16, 16, 1024);
    std::vector<float> z(static_cast<size_t>(tile * d.d)), logits(static_cast<size_t>(tile * d.k));
    for (int64_t row0 = 0; row0 < d.count; row0 += tile) {
        const int64_t rows = std::min(tile, d.count - row0);
        fill_normal_fast_cpu(z.data(), candidate_normals(d, row0, rows), 0.0, 1.0);
        gemm_fast_cpu(logits.data(), z.data(), weight, GemmDims{1, rows, d.k, d.d, false, true});
        for (int64_t t = 0; t < rows; ++t) {
            float* row = &logits[t * d.k];
            if (bias)
                for (int64_t c = 0; c < d.k; ++c) row[c] += bias[c];
            label[row0 + t] = argmax_row(row, d.k);
        }
        quota_in_row_order(accept + row0, filled, label + row0, quota, rows);
    }
}

}  // namespace obl::kernels::study
