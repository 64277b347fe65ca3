// CUDA synthetic-embedding sampler (kernels/synth_sample.h): one fused kernel for
// Philox -> z -> logits -> top-2 -> label/margin, a draw-only kernel, and the quota filter.
//
// The random stream is kernels/common/philox.h, the same __host__ __device__ code the CPU
// reference calls, so the GPU draws the CPU's variates: uniform and Laplace bit for bit up to the
// device libm's log (Laplace only), normals to one float ulp (Box-Muller in double through the
// device libm). The affine step uses __fmul_rn / __fadd_rn, so nvcc cannot contract it into an
// FMA whose single rounding would differ from the CPU's product-then-sum. Logits are float FMA
// chains over i in increasing order (the CPU reference sums in double): labels agree except where
// the top-2 margin is at rounding level, which the tests excuse below 1e-4 (DESIGN.md §G).
//
// Quota: the host definition accepts rows in order while the row's class is short. Classes never
// interact, so one warp per class reproduces it exactly: the warp scans the labels in row order,
// 32 rows per step; a ballot marks the rows of its class, and each such row's rank among them is
// a popcount of the lower lanes. Acceptance is then "filled + rank < quota": a prefix count, the
// same decision as the host loop, with no atomics and no dependence on scheduling.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/common/philox.h"
#include "kernels/synth_sample.h"

namespace obl::kernels {

namespace {

// Fused kernel geometry: 8 warps per tile of 32 candidates. 32 candidates = one per lane in the
// logits phase; 8 warps split the classes (warp w takes k = w, w + 8, ...), enough to hide the
// latency of the broadcast W loads while the z tile (32 x D floats) stays in shared memory.
constexpr int kTileRows = 32;
constexpr int kWarps = 8;
constexpr int kThreads = kWarps * kWarpSize;
// Draw-only and quota kernels.
constexpr int kDrawThreads = 256;
constexpr int64_t kMaxGrid = 65535;
constexpr int kQuotaWarpsPerBlock = 8;
// Shared memory is opt-in above 48 KB; sm_90 allows 227 KB per block.
constexpr size_t kDefaultSmem = 48 * 1024;
constexpr size_t kMaxSmem = 227 * 1024;

struct Dist {
    SynthDist kind;
    const float* loc;
    const float* scale;
    float loc0, scale0;
};

Dist dist_of(const SynthDistParams& p) { return Dist{p.kind, p.loc, p.scale, p.loc0, p.scale0}; }

// The four standard variates of Philox block b (elements 4b .. 4b + 3), rounded to float exactly
// as the CPU fills round them.
__device__ void block_variates(uint64_t b, uint64_t seed, SynthDist kind, float v[4]) {
    const Philox4 w = philox_block(b, seed);
    if (kind == SynthDist::Normal) {
        double z[4];
        philox_box_muller(w.w[0], w.w[1], &z[0], &z[1]);
        philox_box_muller(w.w[2], w.w[3], &z[2], &z[3]);
        for (int q = 0; q < 4; ++q) v[q] = static_cast<float>(z[q]);  // 0 + 1 * z: z itself
    } else if (kind == SynthDist::Uniform) {
        const double span = kSynthUniformHi - kSynthUniformLo;
        for (int q = 0; q < 4; ++q) {
            const double u = static_cast<double>(philox_uniform(w.w[q]));
            v[q] = static_cast<float>(__dadd_rn(kSynthUniformLo, __dmul_rn(span, u)));
        }
    } else {
        for (int q = 0; q < 4; ++q)
            v[q] = static_cast<float>(synth_laplace_variate(philox_uniform(w.w[q])));
    }
}

// z = loc_i + scale_i * v: a rounded product, then a rounded sum (no FMA contraction).
__device__ inline float affine(const Dist& p, int64_t i, float v) {
    const float loc = p.loc ? p.loc[i] : p.loc0;
    const float scale = p.scale ? p.scale[i] : p.scale0;
    return __fadd_rn(loc, __fmul_rn(scale, v));
}

// Is (v, k) a better argmax candidate than (best, arg)? Larger value, then the lower index; a NaN
// beats every number (torch.argmax and arg_reduce: the first NaN wins).
__device__ inline bool beats(float v, int k, float best, int arg) {
    const bool vn = isnan(v), bn = isnan(best);
    if (vn || bn) return vn && (!bn || k < arg);
    return v > best || (v == best && k < arg);
}

// Row stride of the z tile: odd, so lane t's reads of column i (address t * stride + i) fall in
// 32 different banks.
__host__ __device__ inline int64_t tile_stride(int64_t d) { return d % 2 == 0 ? d + 1 : d; }

// The fused kernel. Block = one tile of up to 32 candidates (rows row0 .. row0 + rows - 1).
//   Phase 1: the tile's rows * D stream elements are contiguous; the 256 threads stride over the
//            Philox blocks covering them (one Philox call -> 4 variates) and write z (affine) to
//            the shared tile, and to global z when asked.
//   Phase 2: warp w, lane t: for classes k = w, w + 8, ...: acc = sum_i z[t][i] W[k][i] (float
//            FMAs, i increasing; W[k][i] is one broadcast load for the warp), + b[k]; logits to
//            global when asked; the lane keeps its top two (value, first index).
//   Phase 3: thread t < rows merges the 8 warps' top-2 in warp order: label and margin.
// Bytes: reads K * D * 4 (W, cache-resident) + K * 4 per tile; writes B * 12 (label, margin),
// plus B * D * 4 (z) and B * K * 4 (logits) when asked. Flops: 2 B D K + ~60 B D (Box-Muller).
__global__ void synth_sample_kernel(int64_t* label, float* margin, float* logits, float* z,
                                    const float* __restrict__ weight, const float* bias,
                                    SynthDims d, Dist p) {
    extern __shared__ float smem[];
    const int64_t stride = tile_stride(d.d);
    float* zs = smem;                               // kTileRows x stride
    float* best_v = zs + kTileRows * stride;        // kWarps x kTileRows
    float* second_v = best_v + kWarps * kTileRows;  // kWarps x kTileRows
    int* best_k = reinterpret_cast<int*>(second_v + kWarps * kTileRows);
    const int tid = threadIdx.x, lane = tid % kWarpSize, warp = tid / kWarpSize;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTileRows;
    const int64_t rows = min(static_cast<int64_t>(kTileRows), d.count - row0);

    // Phase 1: draw.
    const uint64_t e0 = d.offset + static_cast<uint64_t>(d.first + row0) * d.d;
    const uint64_t n = static_cast<uint64_t>(rows * d.d);
    for (uint64_t b = e0 / 4 + tid; b < (e0 + n + 3) / 4; b += kThreads) {
        float v[4];
        block_variates(b, d.seed, p.kind, v);
        for (int q = 0; q < 4; ++q) {
            const uint64_t e = 4 * b + q;
            if (e < e0 || e >= e0 + n) continue;
            const int64_t rel = static_cast<int64_t>(e - e0);
            const int64_t t = rel / d.d, i = rel - t * d.d;
            const float zv = affine(p, i, v[q]);
            zs[t * stride + i] = zv;
            if (z) z[row0 * d.d + rel] = zv;
        }
    }
    __syncthreads();

    // Phase 2: logits and per-warp top-2.
    float best = -INFINITY, second = -INFINITY;
    int arg = 0x7fffffff;
    if (lane < rows) {
        const float* zrow = zs + lane * stride;
        for (int64_t k = warp; k < d.k; k += kWarps) {
            const float* wrow = weight + k * d.d;
            float acc = 0.f;
            for (int64_t i = 0; i < d.d; ++i) acc = fmaf(zrow[i], __ldg(wrow + i), acc);
            const float v = bias ? __fadd_rn(acc, bias[k]) : acc;
            if (logits) logits[(row0 + lane) * d.k + k] = v;
            if (beats(v, static_cast<int>(k), best, arg)) {
                second = best;
                best = v;
                arg = static_cast<int>(k);
            } else if (v > second) {
                second = v;
            }
        }
    }
    best_v[warp * kTileRows + lane] = best;
    second_v[warp * kTileRows + lane] = second;
    best_k[warp * kTileRows + lane] = arg;
    __syncthreads();

    // Phase 3: merge the warps' partial top-2 (each warp saw its classes in increasing order).
    if (tid < rows) {
        float b1 = best_v[tid], s1 = second_v[tid];
        int a1 = best_k[tid];
        for (int w = 1; w < kWarps; ++w) {
            const float b2 = best_v[w * kTileRows + tid], s2 = second_v[w * kTileRows + tid];
            const int a2 = best_k[w * kTileRows + tid];
            if (beats(b2, a2, b1, a1)) {
                s1 = fmaxf(s2, b1);
                b1 = b2;
                a1 = a2;
            } else {
                s1 = fmaxf(s1, b2);
            }
        }
        label[row0 + tid] = a1;
        margin[row0 + tid] = b1 - s1;
    }
}

// Draw only: one thread per Philox block of the call's B * D elements, grid-stride. Writes
// B * D * 4 bytes, reads nothing (but loc / scale).
__global__ void synth_draw_kernel(float* z, SynthDims d, Dist p) {
    const uint64_t e0 = d.offset + static_cast<uint64_t>(d.first) * d.d;
    const uint64_t n = static_cast<uint64_t>(d.count * d.d);
    const uint64_t first_block = e0 / 4, blocks = (e0 + n + 3) / 4 - first_block;
    for (uint64_t j = blockIdx.x * uint64_t(blockDim.x) + threadIdx.x; j < blocks;
         j += uint64_t(gridDim.x) * blockDim.x) {
        const uint64_t b = first_block + j;
        float v[4];
        block_variates(b, d.seed, p.kind, v);
        for (int q = 0; q < 4; ++q) {
            const uint64_t e = 4 * b + q;
            if (e < e0 || e >= e0 + n) continue;
            const int64_t rel = static_cast<int64_t>(e - e0);
            z[rel] = affine(p, rel % d.d, v[q]);
        }
    }
}

// Quota: one warp per class c (the mapping and the argument are at the top of this file). Each
// warp reads all B labels (B * 8 bytes, L2-resident after the first warp) and writes the accept
// flags of its class's rows; accept must be zeroed before (rows of no class stay 0).
__global__ void synth_quota_kernel(uint8_t* accept, int64_t* hits, int64_t* done_at,
                                   int64_t* filled, const int64_t* label, const int64_t* quota,
                                   SynthQuotaDims d) {
    const int64_t c =
        static_cast<int64_t>(blockIdx.x) * kQuotaWarpsPerBlock + threadIdx.x / kWarpSize;
    const int lane = threadIdx.x % kWarpSize;
    if (c >= d.k) return;  // whole warps leave together: the ballots below stay full-warp
    const int64_t have = filled[c], want = quota[c];
    const int64_t room = want > have ? want - have : 0;  // rows still acceptable
    const unsigned lower = (1u << lane) - 1u;
    int64_t seen = 0, done = -1;
    for (int64_t base = 0; base < d.count; base += kWarpSize) {
        const int64_t t = base + lane;
        const bool mine = t < d.count && label[t] == c;
        const unsigned mask = __ballot_sync(0xffffffffu, mine);
        if (mine) {
            const int64_t rank = seen + __popc(mask & lower);  // hits of c before row t
            accept[t] = rank < room;
            if (rank == room - 1) done = t;  // this acceptance fills the quota
        }
        seen += __popc(mask);
    }
    // The one lane that saw the filling row (if any) reports it.
    const unsigned has_done = __ballot_sync(0xffffffffu, done >= 0);
    if (has_done) done = __shfl_sync(0xffffffffu, done, __ffs(has_done) - 1);
    if (lane == 0) {
        hits[c] = seen;
        done_at[c] = done;
        filled[c] = have + (seen < room ? seen : room);
    }
}

void check_args(const SynthDims& d, const SynthDistParams& p, bool need_k, const char* what) {
    OBL_CHECK(d.d >= 1 && d.count >= 0 && d.first >= 0 && (!need_k || d.k >= 1), what,
              ": need D >= 1, B >= 0, first >= 0", need_k ? ", K >= 1" : "", "; got D = ", d.d,
              ", B = ", d.count, ", first = ", d.first, ", K = ", d.k);
    OBL_CHECK(
        p.kind == SynthDist::Normal || p.kind == SynthDist::Uniform || p.kind == SynthDist::Laplace,
        what, ": unknown distribution ", static_cast<int>(p.kind));
}

}  // namespace

void synth_draw_cuda(float* z, SynthDims d, const SynthDistParams& p, Stream s) {
    check_args(d, p, false, "synth_draw_cuda");
    if (d.count == 0) return;
    const uint64_t e0 = d.offset + static_cast<uint64_t>(d.first) * d.d;
    const uint64_t blocks = (e0 + static_cast<uint64_t>(d.count * d.d) + 3) / 4 - e0 / 4;
    const int grid = static_cast<int>(
        std::min<int64_t>(ceil_div(static_cast<int64_t>(blocks), kDrawThreads), kMaxGrid));
    synth_draw_kernel<<<grid, kDrawThreads, 0, s->stream>>>(z, d, dist_of(p));
    OBL_LAUNCH_CHECK(s->stream);
}

void synth_sample_cuda(int64_t* label, float* margin, float* logits, float* z, const float* weight,
                       const float* bias, SynthDims d, const SynthDistParams& p, Stream s) {
    check_args(d, p, true, "synth_sample_cuda");
    OBL_CHECK(label && margin && weight,
              "synth_sample_cuda: label, margin and weight are required");
    OBL_CHECK(d.k < 0x7fffffff, "synth_sample_cuda: K = ", d.k, " does not fit an int label");
    if (d.count == 0) return;
    const size_t smem = sizeof(float) * static_cast<size_t>(kTileRows * tile_stride(d.d)) +
                        (2 * sizeof(float) + sizeof(int)) * kWarps * kTileRows;
    OBL_CHECK(smem <= kMaxSmem, "synth_sample_cuda: D = ", d.d, " needs ", smem,
              " bytes of shared memory for a 32-row z tile (max ", kMaxSmem,
              "); use the generic path (SamplerConfig::allow_fused = false)");
    if (smem > kDefaultSmem)
        OBL_CUDA_CHECK(cudaFuncSetAttribute(synth_sample_kernel,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            static_cast<int>(smem)));
    const int64_t grid = ceil_div(d.count, kTileRows);
    OBL_CHECK(grid <= 0x7fffffff, "synth_sample_cuda: too many candidates in one call: ", d.count);
    synth_sample_kernel<<<static_cast<unsigned>(grid), kThreads, smem, s->stream>>>(
        label, margin, logits, z, weight, bias, d, dist_of(p));
    OBL_LAUNCH_CHECK(s->stream);
}

void synth_quota_cuda(uint8_t* accept, int64_t* hits, int64_t* done_at, int64_t* filled,
                      const int64_t* label, const int64_t* quota, SynthQuotaDims d, Stream s) {
    OBL_CHECK(d.count >= 0 && d.k >= 1,
              "synth_quota_cuda: need B >= 0 and K >= 1, got B = ", d.count, ", K = ", d.k);
    if (d.count > 0)
        OBL_CUDA_CHECK(cudaMemsetAsync(accept, 0, static_cast<size_t>(d.count), s->stream));
    const int64_t grid = ceil_div(d.k, kQuotaWarpsPerBlock);
    synth_quota_kernel<<<static_cast<unsigned>(grid), kQuotaWarpsPerBlock * kWarpSize, 0,
                         s->stream>>>(accept, hits, done_at, filled, label, quota, d);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
