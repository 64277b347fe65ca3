// Synthetic-embedding sampler for a linear head (DESIGN.md §G): Philox draws -> W z + b -> argmax,
// then a per-class quota filter. The unfused reference is the composition of existing kernels
// (random fill, gemm, arg_reduce); the fast CPU path and the CUDA kernel fuse it.
//
// Shape letters: D values per candidate (the embedding's numel), K classes, B candidates in the
// call. Candidate j is a GLOBAL index (row t of the call is j = first + t), so a candidate's
// values never depend on how a run is cut into calls, blocks, tiles or threads.
//
// Draw (no backward: sampling is not differentiable):
//   z_j[i] = loc_i + scale_i * v_e,     e = offset + j * D + i   (global Philox element, philox.h)
//   loc_i / scale_i are per-dimension arrays (D) or, when null, the scalars loc0 / scale0; the
//   affine step is float: a product rounded, then a sum rounded (never a fused multiply-add).
//   v_e is a standard variate (mean 0, variance 1), rounded to float:
//     Normal:  v_e = the Philox normal of element e (Box-Muller, kernels/random.h's normal fill
//              with mean 0, std 1);
//     Uniform: v_e = lo + (hi - lo) u_e with lo = -sqrt(3), hi = sqrt(3), in double
//              (kernels/random.h's uniform fill): U(-sqrt 3, sqrt 3) has variance 1;
//     Laplace: v_e = -sgn(u_e - 1/2) ln(1 - 2 |u_e - 1/2|) / sqrt(2), in double: Laplace with
//              b = 1/sqrt(2), variance 2 b^2 = 1. u_e = (2 (x_e >> 9) + 1) 2^-24 is never 1/2,
//              and 1 - 2 |u_e - 1/2| >= 2^-23, so |v_e| <= 23 ln 2 / sqrt 2 = 11.3.
// Label (per candidate j, row t):
//   logits[t, k] = sum_i W[k, i] z_j[i] + b[k]                      W (K, D), b (K) or none
//   label[t]     = the FIRST k with the largest logit                (torch.argmax's rule)
//   margin[t]    = logits[t, label] - max_{k != label} logits[t, k]  (>= 0; +inf when K = 1)
//   The margin says how much a label can be trusted across implementations: two correct
//   summation orders can swap the argmax only when margin is at rounding level (tests: 1e-4).
// Quota (host order, the same on every device): candidates are taken in row order; row t is
// accepted iff filled[label[t]] < quota[label[t]] at that moment, and then filled[label] += 1.
//   hits[k]    (out) rows of the call labelled k
//   done_at[k] (out) the row whose acceptance made filled[k] reach quota[k], or -1 (none in this
//              call: the class was already full before it, or is still short after it)
//   filled[k]  (in/out) accepted so far; quota[k] >= 0 (0 = class not wanted)
//
// Implementations:
//   synth_draw_cpu<T>, synth_sample_cpu<T>  reference, T = float or double: the random fill
//       reference (kernels/random.h) over the B*D elements of the call, the affine step, gemm_cpu
//       (double accumulation), bias, arg_reduce_cpu, then the margin loop. Allocates its scratch.
//   synth_draw_fast_cpu, synth_sample_fast_cpu  float: one pass over tiles of rows sized so that
//       a tile's z stays in L2 (64k floats); per tile the vectorised fills of kernels/random.h
//       (fill_normal_fast_cpu / fill_uniform_fast_cpu: called, not copied), the affine step,
//       gemm_fast_cpu on the tile, and one fused loop for bias + argmax + margin. OpenMP over
//       tiles, every row computed by one fixed chain of operations, so results do not depend on
//       the thread count or on B. Normals agree with the reference to 1 float ulp (the fills'
//       contract); uniform and Laplace variates are bit-identical; logits differ by the GEMM's
//       float accumulation (relative ~1e-6).
//   synth_sample_cuda  float: one fused kernel (thread mapping in kernels/cuda/synth_sample.cu):
//       Philox -> z tile in shared memory (and optionally global z) -> logits -> top-2 ->
//       label/margin. synth_draw_cuda draws z only (the generic path of unlearn/synthetic.cpp).
//   synth_quota_cpu  the host filter above (sequential by definition).
//   synth_quota_cuda one warp per class scans the labels in row order with warp ballots: every
//       decision is a prefix count, so the result is exactly synth_quota_cpu's, with no atomics.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common/stream.h"

// Host and device (nvcc) versions of the one inline transform below. philox.h is deliberately not
// included here: its unqualified log/sqrt calls would resolve to obl::log(Tensor) in translation
// units that include nn/ops.h first.
#if defined(__CUDACC__)
#define OBL_SYNTH_HD __host__ __device__
#else
#define OBL_SYNTH_HD
#endif

namespace obl::kernels {

enum class SynthDist : int32_t { Normal = 0, Uniform = 1, Laplace = 2 };

struct SynthDims {
    int64_t d = 0;        // D: values per candidate
    int64_t k = 0;        // K: classes (ignored by synth_draw_*)
    int64_t first = 0;    // global index of row 0's candidate
    int64_t count = 0;    // B: candidates in this call
    uint64_t seed = 0;    // Philox key
    uint64_t offset = 0;  // stream element of candidate 0, value 0 (see the draw formula)
};

// The distribution of z: a standard variate, then z = loc + scale * v per dimension.
// loc / scale point to D floats on the kernel's device, or are null for the scalars.
struct SynthDistParams {
    SynthDist kind = SynthDist::Normal;
    const float* loc = nullptr;
    const float* scale = nullptr;
    float loc0 = 0.f;
    float scale0 = 1.f;
};

struct SynthQuotaDims {
    int64_t count = 0;  // B: rows (labels) in this call
    int64_t k = 0;      // K: classes
};

// Bounds of the uniform variate: U(-sqrt 3, sqrt 3) has unit variance.
constexpr double kSynthUniformLo = -1.7320508075688772;
constexpr double kSynthUniformHi = 1.7320508075688772;

// The Laplace variate of an exact uniform u in (0, 1) (formula above), in double.
OBL_SYNTH_HD inline double synth_laplace_variate(double u) {
    const double t = u - 0.5;                       // exact: u is a multiple of 2^-24
    const double l = ::log(1.0 - 2.0 * ::fabs(t));  // exact argument, >= 2^-23
    return (t < 0 ? l : -l) * 0.70710678118654752440;
}

// ---- CPU reference (T = float or double) ------------------------------------------------------
// z (B, D) of candidates first .. first + B - 1.
template <class T>
void synth_draw_cpu(T* z, SynthDims d, const SynthDistParams& p);
// label (B), margin (B); logits (B, K) and z (B, D) are written when not null. bias may be null.
template <class T>
void synth_sample_cpu(int64_t* label, T* margin, T* logits, T* z, const T* weight, const T* bias,
                      SynthDims d, const SynthDistParams& p);

// ---- CPU fast path (float) --------------------------------------------------------------------
void synth_draw_fast_cpu(float* z, SynthDims d, const SynthDistParams& p);
void synth_sample_fast_cpu(int64_t* label, float* margin, float* logits, float* z,
                           const float* weight, const float* bias, SynthDims d,
                           const SynthDistParams& p);

// ---- quota filter -----------------------------------------------------------------------------
// accept (B) 0/1; hits, done_at (K) written; filled (K) updated; label (B), quota (K) read.
void synth_quota_cpu(uint8_t* accept, int64_t* hits, int64_t* done_at, int64_t* filled,
                     const int64_t* label, const int64_t* quota, SynthQuotaDims d);

// ---- CUDA (float; every pointer on the device) ------------------------------------------------
void synth_draw_cuda(float* z, SynthDims d, const SynthDistParams& p, Stream s);
void synth_sample_cuda(int64_t* label, float* margin, float* logits, float* z, const float* weight,
                       const float* bias, SynthDims d, const SynthDistParams& p, Stream s);
void synth_quota_cuda(uint8_t* accept, int64_t* hits, int64_t* done_at, int64_t* filled,
                      const int64_t* label, const int64_t* quota, SynthQuotaDims d, Stream s);

}  // namespace obl::kernels
