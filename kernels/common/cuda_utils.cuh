// Small device helpers shared by the CUDA kernels: ceil_div and warp/block reductions.
#pragma once

#include <cstdint>

namespace obl {

constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

constexpr int kWarpSize = 32;

__device__ inline float warp_reduce_sum(float v) {
    for (int o = kWarpSize / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ inline float warp_reduce_max(float v) {
    for (int o = kWarpSize / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum/max: every thread gets the result. `shared` needs blockDim.x / 32 floats.
// Callers must have all threads of the block participate.
__device__ inline float block_reduce_sum(float v, float* shared) {
    const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
    const int num_warps = (blockDim.x + kWarpSize - 1) / kWarpSize;
    v = warp_reduce_sum(v);
    __syncthreads();  // `shared` may still be read by a previous call
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < num_warps ? shared[lane] : 0.f;
    return warp_reduce_sum(v);
}

__device__ inline float block_reduce_max(float v, float* shared) {
    const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
    const int num_warps = (blockDim.x + kWarpSize - 1) / kWarpSize;
    v = warp_reduce_max(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < num_warps ? shared[lane] : -INFINITY;
    return warp_reduce_max(v);
}

}  // namespace obl
