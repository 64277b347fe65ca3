// CUDA reductions over (O, R, I) (formulas in kernels/reduce.h), float in and out, sums and
// variances accumulated in double (full-rate FP64 on the H200, and it keeps long sums within
// the reference's tolerance). Deterministic: fixed mappings and fixed combination orders.
//
// Thread mappings (launch_rows picks one):
//   I = 1, R <= 1024   a warp per output row, 8 rows per 256-thread block; lanes stride by 32
//   I = 1, R > 1024    a 256-thread block per output row
//   I > 1              one thread per output (o, i) walking r; adjacent threads read adjacent i,
//                      so every step of the walk is a coalesced read
// Bytes moved: forward reads 4·O·R·I (var: twice, the second mostly from L2) and writes 4·O·I
// (8·O·I for indices); backward reads 4·O·I (+ 8·O·I indices or 4·O·R·I for var's x) and writes
// 4·O·R·I.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/common/memory.h"
#include "kernels/cuda/row_reduce.cuh"
#include "kernels/reduce.h"

namespace obl::kernels {

namespace {

using rows::kBlock;
constexpr int64_t kMaxGrid = 65535;  // grid-stride loops cover the rest

int grid_for(int64_t work) {
    return static_cast<int>(std::min<int64_t>(ceil_div(work, kBlock), kMaxGrid));
}

// ---- value reductions -------------------------------------------------------------------------

// max/min keeping NaN: the first NaN seen wins (as the CPU reference's first-extremum rule).
struct Extremum {
    bool is_max;
    __device__ float operator()(float a, float b) const {
        if (isnan(a)) return a;
        if (isnan(b)) return b;
        return is_max ? fmaxf(a, b) : fminf(a, b);
    }
};

// I = 1: a group of kThreads (a warp, or the whole block for R > 1024) per output row. Lanes
// stride by kThreads over the row, so a warp reads 32 consecutive floats per step. Sum/mean
// accumulate in double per lane, then the group combines in a fixed order.
template <int kThreads>
__global__ void reduce_rows_kernel(float* y, const float* x, int64_t outer, int64_t r,
                                   ReduceOp op) {
    __shared__ double smem_d[kBlock / kWarpSize];
    __shared__ float smem_f[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= outer) return;  // whole warps leave; block groups never
    const float* xr = x + row * r;
    if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
        double s = 0;
        for (int64_t j = lane; j < r; j += kThreads) s += xr[j];
        s = rows::group_reduce<kThreads>(s, rows::Add{}, smem_d);
        if (lane == 0) y[row] = static_cast<float>(op == ReduceOp::Mean ? s / r : s);
    } else {
        const Extremum ext{op == ReduceOp::Max};
        float v = xr[0];
        for (int64_t j = lane; j < r; j += kThreads) v = ext(v, xr[j]);
        v = rows::group_reduce<kThreads>(v, ext, smem_f);
        if (lane == 0) y[row] = v;
    }
}

// I > 1: one thread per output (o, i), grid-stride over outputs. The walk over r has stride I;
// threads i and i + 1 read neighbouring floats at every step, so each warp load is coalesced.
__global__ void reduce_strided_kernel(float* y, const float* x, ReduceDims d, ReduceOp op) {
    const int64_t outputs = d.outer * d.inner;
    for (int64_t out = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; out < outputs;
         out += int64_t(gridDim.x) * blockDim.x) {
        const float* col = x + (out / d.inner) * d.r * d.inner + out % d.inner;
        if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
            double s = 0;
            for (int64_t r = 0; r < d.r; ++r) s += col[r * d.inner];
            y[out] = static_cast<float>(op == ReduceOp::Mean ? s / d.r : s);
        } else {
            const Extremum ext{op == ReduceOp::Max};
            float v = col[0];
            for (int64_t r = 1; r < d.r; ++r) v = ext(v, col[r * d.inner]);
            y[out] = v;
        }
    }
}

// ---- arg reductions: (value, index) pairs, ties and NaN resolved to the first index -----------

struct ArgBest {
    float v;
    int64_t i;
};

// Does a beat b? NaN beats numbers; among equals (or NaNs) the smaller index wins.
__device__ __forceinline__ bool beats(ArgBest a, ArgBest b, bool is_max) {
    const bool na = isnan(a.v), nb = isnan(b.v);
    if (na || nb) return na && (!nb || a.i < b.i);
    if (a.v == b.v) return a.i < b.i;
    return is_max ? a.v > b.v : a.v < b.v;
}

// Same mapping as reduce_rows_kernel. Each lane scans its strided elements in increasing r (so
// strict comparisons keep its first extremum); the butterfly and the cross-warp step resolve
// ties by the smaller index, which gives the global first index regardless of the lane layout.
template <int kThreads>
__global__ void arg_reduce_rows_kernel(int64_t* index, const float* x, int64_t outer, int64_t r,
                                       bool is_max) {
    __shared__ float smem_v[kBlock / kWarpSize];
    __shared__ int64_t smem_i[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= outer) return;
    const float* xr = x + row * r;
    ArgBest best{xr[0], 0};
    for (int64_t j = lane; j < r; j += kThreads)
        if (beats(ArgBest{xr[j], j}, best, is_max)) best = ArgBest{xr[j], j};
    for (int o = kWarpSize / 2; o > 0; o /= 2) {
        const ArgBest other{__shfl_xor_sync(0xffffffffu, best.v, o),
                            __shfl_xor_sync(0xffffffffu, best.i, o)};
        if (beats(other, best, is_max)) best = other;
    }
    if constexpr (kThreads != kWarpSize) {
        const int warp = threadIdx.x / kWarpSize;
        if (threadIdx.x % kWarpSize == 0) {
            smem_v[warp] = best.v;
            smem_i[warp] = best.i;
        }
        __syncthreads();
        best = ArgBest{smem_v[0], smem_i[0]};
        for (int w = 1; w < kThreads / kWarpSize; ++w)
            if (beats(ArgBest{smem_v[w], smem_i[w]}, best, is_max))
                best = ArgBest{smem_v[w], smem_i[w]};
    }
    if (lane == 0) index[row] = best.i;
}

// Same mapping as reduce_strided_kernel; one sequential scan per output.
__global__ void arg_reduce_strided_kernel(int64_t* index, const float* x, ReduceDims d,
                                          bool is_max) {
    const int64_t outputs = d.outer * d.inner;
    for (int64_t out = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; out < outputs;
         out += int64_t(gridDim.x) * blockDim.x) {
        const float* col = x + (out / d.inner) * d.r * d.inner + out % d.inner;
        ArgBest best{col[0], 0};
        for (int64_t r = 1; r < d.r; ++r)
            if (beats(ArgBest{col[r * d.inner], r}, best, is_max))
                best = ArgBest{col[r * d.inner], r};
        index[out] = best.i;
    }
}

// ---- variance: mean, then the sum of squared deviations (two passes, no cancellation) --------

// Same mapping as reduce_rows_kernel; the row is read twice (mean, then squared deviations),
// the second time mostly from L1/L2. denom = R - c; 0 gives NaN, as on the CPU.
template <int kThreads>
__global__ void var_rows_kernel(float* y, const float* x, int64_t outer, int64_t r, double denom) {
    __shared__ double smem[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= outer) return;
    const float* xr = x + row * r;
    double s = 0;
    for (int64_t j = lane; j < r; j += kThreads) s += xr[j];
    const double mean = rows::group_reduce<kThreads>(s, rows::Add{}, smem) / r;
    double ss = 0;
    for (int64_t j = lane; j < r; j += kThreads) ss += (xr[j] - mean) * (xr[j] - mean);
    ss = rows::group_reduce<kThreads>(ss, rows::Add{}, smem);
    if (lane == 0) y[row] = static_cast<float>(ss / denom);
}

// Same mapping as reduce_strided_kernel, two walks over r.
__global__ void var_strided_kernel(float* y, const float* x, ReduceDims d, double denom) {
    const int64_t outputs = d.outer * d.inner;
    for (int64_t out = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; out < outputs;
         out += int64_t(gridDim.x) * blockDim.x) {
        const float* col = x + (out / d.inner) * d.r * d.inner + out % d.inner;
        double s = 0;
        for (int64_t r = 0; r < d.r; ++r) s += col[r * d.inner];
        const double mean = s / d.r;
        double ss = 0;
        for (int64_t r = 0; r < d.r; ++r)
            ss += (col[r * d.inner] - mean) * (col[r * d.inner] - mean);
        y[out] = static_cast<float>(ss / denom);
    }
}

// ---- backward: one thread per input element, grid-stride -------------------------------------

// dx[o, r, i] = dy[o, i] scale: the output index drops r from the flat input index.
__global__ void reduce_backward_kernel(float* dx, const float* dy, ReduceDims d, float scale) {
    const int64_t total = d.outer * d.r * d.inner;
    for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
         idx += int64_t(gridDim.x) * blockDim.x)
        dx[idx] = dy[(idx / (d.r * d.inner)) * d.inner + idx % d.inner] * scale;
}

// dx[o, r, i] = dy[o, i] where r is the saved first extremum, else 0 (every element written).
__global__ void select_backward_kernel(float* dx, const float* dy, const int64_t* index,
                                       ReduceDims d) {
    const int64_t total = d.outer * d.r * d.inner;
    for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
         idx += int64_t(gridDim.x) * blockDim.x) {
        const int64_t out = (idx / (d.r * d.inner)) * d.inner + idx % d.inner;
        dx[idx] = index[out] == (idx / d.inner) % d.r ? dy[out] : 0.f;
    }
}

// dx = dy 2 (x - mean) / (R - c), mean precomputed per output (scale = 2 / (R - c)).
__global__ void var_backward_kernel(float* dx, const float* dy, const float* x, const float* mean,
                                    ReduceDims d, float scale) {
    const int64_t total = d.outer * d.r * d.inner;
    for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
         idx += int64_t(gridDim.x) * blockDim.x) {
        const int64_t out = (idx / (d.r * d.inner)) * d.inner + idx % d.inner;
        dx[idx] = dy[out] * scale * (x[idx] - mean[out]);
    }
}

// Launches the rows kernel (I = 1) with a warp or a block per row, or calls `strided` (I > 1).
template <class WarpLaunch, class BlockLaunch, class Strided>
void launch(ReduceDims d, WarpLaunch warp, BlockLaunch block, Strided strided) {
    if (d.inner == 1 && d.r <= rows::kWarpRowMax) {
        warp(static_cast<int>(ceil_div(d.outer, rows::rows_per_block<kWarpSize>())));
    } else if (d.inner == 1) {
        OBL_CHECK(d.outer <= INT32_MAX, "reduce: too many rows for one grid: ", d.outer);
        block(static_cast<int>(d.outer));
    } else {
        strided(grid_for(d.outer * d.inner));
    }
}

}  // namespace

void reduce_forward_cuda(float* y, const float* x, ReduceDims d, ReduceOp op, Stream s) {
    OBL_CHECK(d.r > 0 || op == ReduceOp::Sum || op == ReduceOp::Mean,
              "max/min over an empty dim (R = 0) is undefined");
    if (d.outer * d.inner == 0) return;
    if (d.r == 0) {  // sum 0, mean 0/0
        fill_cuda(y, 0, d.outer * d.inner, op == ReduceOp::Sum ? 0.0 : NAN, s);
        return;
    }
    cudaStream_t st = s->stream;
    launch(
        d,
        [&](int g) { reduce_rows_kernel<kWarpSize><<<g, kBlock, 0, st>>>(y, x, d.outer, d.r, op); },
        [&](int g) { reduce_rows_kernel<kBlock><<<g, kBlock, 0, st>>>(y, x, d.outer, d.r, op); },
        [&](int g) { reduce_strided_kernel<<<g, kBlock, 0, st>>>(y, x, d, op); });
    OBL_LAUNCH_CHECK(st);
}

void reduce_backward_cuda(float* dx, const float* dy, ReduceDims d, ReduceOp op, Stream s) {
    OBL_CHECK(op == ReduceOp::Sum || op == ReduceOp::Mean,
              "reduce_backward_cuda handles sum and mean; max/min use select_backward_cuda");
    const int64_t total = d.outer * d.r * d.inner;
    if (total == 0) return;
    const float scale = op == ReduceOp::Mean ? static_cast<float>(1.0 / d.r) : 1.f;
    reduce_backward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(dx, dy, d, scale);
    OBL_LAUNCH_CHECK(s->stream);
}

void arg_reduce_cuda(int64_t* index, const float* x, ReduceDims d, ReduceOp op, Stream s) {
    OBL_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, "arg_reduce_cuda handles max and min");
    OBL_CHECK(d.r > 0, "argmax/argmin over an empty dim (R = 0) is undefined");
    if (d.outer * d.inner == 0) return;
    const bool is_max = op == ReduceOp::Max;
    cudaStream_t st = s->stream;
    launch(
        d,
        [&](int g) {
            arg_reduce_rows_kernel<kWarpSize><<<g, kBlock, 0, st>>>(index, x, d.outer, d.r, is_max);
        },
        [&](int g) {
            arg_reduce_rows_kernel<kBlock><<<g, kBlock, 0, st>>>(index, x, d.outer, d.r, is_max);
        },
        [&](int g) { arg_reduce_strided_kernel<<<g, kBlock, 0, st>>>(index, x, d, is_max); });
    OBL_LAUNCH_CHECK(st);
}

void select_backward_cuda(float* dx, const float* dy, const int64_t* index, ReduceDims d,
                          Stream s) {
    const int64_t total = d.outer * d.r * d.inner;
    if (total == 0) return;
    select_backward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(dx, dy, index, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void var_forward_cuda(float* y, const float* x, ReduceDims d, int64_t correction, Stream s) {
    OBL_CHECK(d.r > 0, "var over an empty dim (R = 0) is undefined");
    if (d.outer * d.inner == 0) return;
    const double denom = static_cast<double>(d.r - correction);  // 0 gives NaN, as on the CPU
    cudaStream_t st = s->stream;
    launch(
        d,
        [&](int g) { var_rows_kernel<kWarpSize><<<g, kBlock, 0, st>>>(y, x, d.outer, d.r, denom); },
        [&](int g) { var_rows_kernel<kBlock><<<g, kBlock, 0, st>>>(y, x, d.outer, d.r, denom); },
        [&](int g) { var_strided_kernel<<<g, kBlock, 0, st>>>(y, x, d, denom); });
    OBL_LAUNCH_CHECK(st);
}

void var_backward_cuda(float* dx, const float* dy, const float* x, ReduceDims d, int64_t correction,
                       Stream s) {
    // Two launches: the (O, I) means into the context workspace, then the elementwise gradient.
    const int64_t total = d.outer * d.r * d.inner;
    if (total == 0) return;
    float* mean = static_cast<float*>(s->workspace(sizeof(float) * d.outer * d.inner));
    reduce_forward_cuda(mean, x, d, ReduceOp::Mean, s);
    const float scale = static_cast<float>(2.0 / static_cast<double>(d.r - correction));
    var_backward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(dx, dy, x, mean, d, scale);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
