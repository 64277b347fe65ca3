// Fast CPU synthetic-embedding sampler (kernels/synth_sample.h): draw -> logits -> argmax fused
// in one pass over cache-sized tiles of candidates.
//
// Per tile of R rows (R * D <= kTileFloats, so the tile's z, 256 KB, stays in L2 while the GEMM
// reads it; R a multiple of 16 for the GEMM's register tiles):
//   1. standard variates of the tile's R * D stream elements with the vectorised Philox fills of
//      kernels/random.h (AVX-512 / AVX2, chosen by cpu_isa(); called, not copied);
//   2. z = loc + scale * v in place (float product, then float sum: the reference's rounding);
//   3. logits (R, K) = z W^T with gemm_fast_cpu (skinny K takes its narrow in-place kernel);
//   4. one loop adds the bias and keeps the top two logits: label, margin.
// Tiles are fixed pieces (their size depends on D only), handed to OpenMP threads dynamically so a
// busy core does not stall the call; inside a tile the fills and the GEMM run on the calling thread
// (nested parallel regions are inactive). Every row is computed by the same chain of operations
// wherever it falls (the fills are per element, the GEMM per row a fixed FMA chain over D), so
// results depend neither on the thread count nor on how the caller cuts the candidates into calls.
//
// Scratch: thread-local, grow-only buffers for z and logits when the caller does not want them
// (no allocation per call in the steady state, as in the fast GEMM).
#include "kernels/synth_sample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/gemm.h"
#include "kernels/random.h"

namespace obl::kernels {

namespace {

constexpr int64_t kTileFloats = 65536;  // 256 KB of z per tile: fits the 1 MB L2 with W and logits
constexpr int64_t kTileAlign = 16;      // rows: a multiple of the GEMM's MR
constexpr int64_t kMaxTileRows = 1024;

// Rows per tile for embedding size D: a function of D alone (never of B or the thread count).
int64_t tile_rows(int64_t d) {
    const int64_t rows = (kTileFloats / d) / kTileAlign * kTileAlign;
    return std::clamp<int64_t>(rows, kTileAlign, kMaxTileRows);
}

struct Scratch {
    std::vector<float> z, logits;
};
thread_local Scratch t_scratch;

float* grown(std::vector<float>& v, int64_t n) {
    if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
    return v.data();
}

// Standard variates, then the affine step, for `rows` candidates starting at row `row0`.
void draw_rows(float* z, const SynthDims& d, const SynthDistParams& p, int64_t row0, int64_t rows) {
    RandomDims r;
    r.n = rows * d.d;
    r.seed = d.seed;
    r.offset = d.offset + static_cast<uint64_t>(d.first + row0) * static_cast<uint64_t>(d.d);
    switch (p.kind) {
        case SynthDist::Normal:
            fill_normal_fast_cpu(z, r, 0.0, 1.0);
            break;
        case SynthDist::Uniform:
            fill_uniform_fast_cpu(z, r, kSynthUniformLo, kSynthUniformHi);
            break;
        case SynthDist::Laplace:
            // Exact uniforms (bit-identical to the reference), then the same scalar double
            // transform as the reference: Laplace is bit-identical too (libm log per element).
            fill_uniform_fast_cpu(z, r, 0.0, 1.0);
            for (int64_t e = 0; e < r.n; ++e)
                z[e] = static_cast<float>(synth_laplace_variate(static_cast<double>(z[e])));
            break;
    }
    if (!p.loc && !p.scale) {
        if (p.loc0 == 0.f && p.scale0 == 1.f) return;  // identity (up to the sign of a zero)
        for (int64_t e = 0; e < r.n; ++e) z[e] = p.loc0 + p.scale0 * z[e];
        return;
    }
    for (int64_t t = 0; t < rows; ++t) {
        float* row = z + t * d.d;
        for (int64_t i = 0; i < d.d; ++i) {
            const float loc = p.loc ? p.loc[i] : p.loc0;
            const float scale = p.scale ? p.scale[i] : p.scale0;
            row[i] = loc + scale * row[i];
        }
    }
}

// Bias, label (first maximum; a NaN beats every number, as in arg_reduce) and top-2 margin of
// `rows` logit rows, written back with the bias added.
void label_rows(int64_t* label, float* margin, float* logits, const float* bias, int64_t rows,
                int64_t k) {
    for (int64_t t = 0; t < rows; ++t) {
        float* row = logits + t * k;
        if (bias)
            for (int64_t c = 0; c < k; ++c) row[c] += bias[c];
        float best = row[0], second = -std::numeric_limits<float>::infinity();
        int64_t arg = 0;
        for (int64_t c = 1; c < k; ++c) {
            const float v = row[c];
            // !(v <= best): v is larger or NaN; a NaN best is never replaced (the first NaN wins).
            if (best == best && !(v <= best)) {
                second = best;
                best = v;
                arg = c;
            } else if (v > second) {
                second = v;
            }
        }
        label[t] = arg;
        margin[t] = best - second;
    }
}

void check_params(const SynthDims& d, bool need_k, const char* what) {
    OBL_CHECK(d.d >= 1 && d.count >= 0 && d.first >= 0 && (!need_k || d.k >= 1), what,
              ": need D >= 1, B >= 0, first >= 0", need_k ? ", K >= 1" : "", "; got D = ", d.d,
              ", B = ", d.count, ", first = ", d.first, ", K = ", d.k);
}

}  // namespace

void synth_draw_fast_cpu(float* z, SynthDims d, const SynthDistParams& p) {
    check_params(d, false, "synth_draw_fast_cpu");
    OBL_CHECK(
        p.kind == SynthDist::Normal || p.kind == SynthDist::Uniform || p.kind == SynthDist::Laplace,
        "synth_draw_fast_cpu: unknown distribution ", static_cast<int>(p.kind));
    const int64_t tile = tile_rows(d.d);
    const int64_t tiles = (d.count + tile - 1) / tile;
#pragma omp parallel for if (tiles > 1 && parallel_worth_it(d.count * d.d * 16)) schedule(dynamic)
    for (int64_t g = 0; g < tiles; ++g) {
        const int64_t row0 = g * tile;
        draw_rows(z + row0 * d.d, d, p, row0, std::min(tile, d.count - row0));
    }
}

void synth_sample_fast_cpu(int64_t* label, float* margin, float* logits, float* z,
                           const float* weight, const float* bias, SynthDims d,
                           const SynthDistParams& p) {
    check_params(d, true, "synth_sample_fast_cpu");
    OBL_CHECK(label && margin && weight,
              "synth_sample_fast_cpu: label, margin and weight are required");
    OBL_CHECK(
        p.kind == SynthDist::Normal || p.kind == SynthDist::Uniform || p.kind == SynthDist::Laplace,
        "synth_sample_fast_cpu: unknown distribution ", static_cast<int>(p.kind));
    const int64_t tile = tile_rows(d.d);
    const int64_t tiles = (d.count + tile - 1) / tile;
    // ~16 flops per variate plus 2 K per value of the GEMM.
    const int64_t work = d.count * d.d * (16 + 2 * d.k);
#pragma omp parallel for if (tiles > 1 && parallel_worth_it(work)) schedule(dynamic)
    for (int64_t g = 0; g < tiles; ++g) {
        const int64_t row0 = g * tile;
        const int64_t rows = std::min(tile, d.count - row0);
        float* zt = z ? z + row0 * d.d : grown(t_scratch.z, tile * d.d);
        float* lt = logits ? logits + row0 * d.k : grown(t_scratch.logits, tile * d.k);
        draw_rows(zt, d, p, row0, rows);
        GemmDims gd;
        gd.m = rows;  // logits (R, K) = z (R, D) W^T
        gd.n = d.k;
        gd.k = d.d;
        gd.trans_b = true;
        gemm_fast_cpu(lt, zt, weight, gd);
        label_rows(label + row0, margin + row0, lt, bias, rows, d.k);
    }
}

}  // namespace obl::kernels
