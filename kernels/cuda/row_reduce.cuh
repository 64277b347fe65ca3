// Internal device helpers for the row-wise CUDA kernels (reduce.cu, softmax.cu, cross_entropy.cu,
// kl_div.cu): a "group" of kThreads threads owns one row: kThreads = 32 (one warp, rows of up to
// ~1024 elements, 8 rows per 256-thread block) or kThreads = 256 (the whole block, longer rows).
// Group reductions combine the warp by a fixed xor butterfly and the block's warps in warp order
// through shared memory, so every result is deterministic (no atomics). All templates: each .cu
// file gets its own copies.
#pragma once

#include <cstdint>

#include "kernels/common/cuda_utils.cuh"

namespace obl::kernels::rows {

constexpr int kBlock = 256;            // threads per block for every row kernel
constexpr int64_t kWarpRowMax = 1024;  // rows up to this length get a warp, longer ones a block

// Rows handled by one 256-thread block.
template <int kThreads>
constexpr int rows_per_block() {
    return kBlock / kThreads;
}

// Combines v over the group with `op`; every thread of the group gets the result. For the block
// group, `smem` holds kBlock / 32 values of T, and all threads of the block must call it.
template <int kThreads, class T, class Op>
__device__ __forceinline__ T group_reduce(T v, Op op, T* smem) {
    for (int o = kWarpSize / 2; o > 0; o /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    if constexpr (kThreads == kWarpSize) {
        return v;
    } else {
        const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
        __syncthreads();  // smem may still be read by a previous call
        if (lane == 0) smem[warp] = v;
        __syncthreads();
        T r = smem[0];
        for (int w = 1; w < kThreads / kWarpSize; ++w) r = op(r, smem[w]);
        return r;
    }
}

struct Add {
    template <class T>
    __device__ T operator()(T a, T b) const {
        return a + b;
    }
};

// Online softmax normaliser (Milakov & Gimelshein, "Online normalizer calculation for softmax"):
// running max m and s = sum exp(x - m). A plain aggregate (it lives in __shared__ memory): start
// from kEmpty. -inf entries add 0 (masked logits); NaN propagates through s.
struct MaxSum {
    float m;
    float s;
};
constexpr MaxSum kEmpty{-INFINITY, 0.f};

__device__ __forceinline__ void add(MaxSum& a, float x) {
    if (x > a.m) {
        a.s = a.s * expf(a.m - x) + 1.f;  // first element: m = -inf, s = 0 -> 0 * 0 + 1
        a.m = x;
    } else if (x != -INFINITY) {
        a.s += expf(x - a.m);
    }
}

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
    MaxSum r;
    r.m = fmaxf(a.m, b.m);
    if (isnan(a.m) || isnan(b.m) || isnan(a.s) || isnan(b.s)) {
        r.m = r.s = NAN;
        return r;
    }
    r.s = (a.s == 0.f ? 0.f : a.s * expf(a.m - r.m)) + (b.s == 0.f ? 0.f : b.s * expf(b.m - r.m));
    return r;
}

// Group-wide MaxSum (the butterfly shuffles both fields; smem: kBlock / 32 entries).
template <int kThreads>
__device__ __forceinline__ MaxSum group_max_sum(MaxSum v, MaxSum* smem) {
    for (int o = kWarpSize / 2; o > 0; o /= 2) {
        MaxSum other;
        other.m = __shfl_xor_sync(0xffffffffu, v.m, o);
        other.s = __shfl_xor_sync(0xffffffffu, v.s, o);
        v = merge(v, other);
    }
    if constexpr (kThreads == kWarpSize) {
        return v;
    } else {
        const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
        __syncthreads();
        if (lane == 0) smem[warp] = v;
        __syncthreads();
        MaxSum r = smem[0];
        for (int w = 1; w < kThreads / kWarpSize; ++w) r = merge(r, smem[w]);
        return r;
    }
}

// loss[0] = scale * sum_n row_value[n], one block of kBlock threads: thread t adds rows t,
// t + kBlock, ... in double, then the fixed-order group reduction. Deterministic.
template <int kThreads = kBlock>
__global__ void scaled_sum_kernel(float* loss, const float* row_value, int64_t n, double scale) {
    __shared__ double smem[kBlock / kWarpSize];
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += kThreads) s += row_value[i];
    s = group_reduce<kThreads>(s, Add{}, smem);
    if (threadIdx.x == 0) loss[0] = static_cast<float>(s * scale);
}

}  // namespace obl::kernels::rows
