// CUDA broadcast_to / sum_to (kernels/broadcast.h), float only. The canonical dims come from
// make_broadcast_dims() (kernels/cpu/broadcast.cpp) and are passed to the kernels by value.
//
// Forward: one thread per element of y (B), grid-stride; the x index is the big index with the
// expanded coordinates dropped. Bytes moved: 4|B| written, at most 4|B| read (repeated x values
// hit in L1/L2, so usually close to 4|S|).
//
// Backward (sum_to), deterministic (fixed summation order, no atomics), accumulated in double
// (cheap on the H200, and it keeps long sums within the reduction tolerance of the reference):
//   last canonical dim kept      block = 32 outputs x 16 slices: thread (tx, ty) sums every 16th
//                                element of output tx's preimage; a warp reads 32 contiguous
//                                floats per step. The 16 partials are added in order in shared
//                                memory.
//   last canonical dim expanded  one warp per output; lanes stride over the (contiguous)
//                                preimage and combine with a fixed butterfly.
// Bytes moved: 4|B| read, 4|S| written.
#include <algorithm>
#include <cstdint>

#include "kernels/broadcast.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;          // forward: 8 warps per block hide DRAM latency
constexpr int64_t kMaxGrid = 65535;  // grid-stride covers the rest
constexpr int kColumns = 32;         // backward (kept last dim): outputs per block, one warp wide
constexpr int kSlices = 16;          // backward (kept last dim): threads sharing one output
constexpr int kWarpsPerBlock = 8;    // backward (expanded last dim): outputs per block

int grid_for(int64_t work, int64_t per_block) {
    return static_cast<int>(std::min<int64_t>(ceil_div(work, per_block), kMaxGrid));
}

// Offset in B of the element whose coordinates along dims with expanded[i] == want are the
// row-major decomposition of `flat` (others 0). Same as the CPU helper.
__device__ __forceinline__ int64_t offset_along(const BroadcastDims& d, bool want, int64_t flat) {
    int64_t off = 0;
    for (int i = d.ndim - 1; i >= 0; --i) {
        if (d.expanded[i] != want) continue;
        off += (flat % d.extent[i]) * d.big_stride[i];
        flat /= d.extent[i];
    }
    return off;
}

__global__ void broadcast_forward_kernel(float* y, const float* x, BroadcastDims d) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.big_numel;
         i += int64_t(gridDim.x) * blockDim.x) {
        int64_t rest = i, x_off = 0;
        for (int k = d.ndim - 1; k >= 0; --k) {
            x_off += (rest % d.extent[k]) * d.small_stride[k];
            rest /= d.extent[k];
        }
        y[i] = x[x_off];
    }
}

// Last canonical dim kept: blockDim = (kColumns, kSlices); one group of kColumns outputs per
// block per grid-stride step.
__global__ void sum_columns_kernel(float* dx, const float* dy, BroadcastDims d,
                                   int64_t per_output) {
    __shared__ double partial[kSlices][kColumns];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int64_t groups = ceil_div(d.small_numel, kColumns);
    for (int64_t group = blockIdx.x; group < groups; group += gridDim.x) {
        const int64_t o = group * kColumns + tx;
        double acc = 0.0;
        if (o < d.small_numel) {
            const int64_t base = offset_along(d, false, o);
            for (int64_t r = ty; r < per_output; r += kSlices)
                acc += static_cast<double>(dy[base + offset_along(d, true, r)]);
        }
        partial[ty][tx] = acc;
        __syncthreads();
        if (ty == 0 && o < d.small_numel) {
            double sum = 0.0;
            for (int k = 0; k < kSlices; ++k) sum += partial[k][tx];
            dx[o] = static_cast<float>(sum);
        }
        __syncthreads();  // partial is reused by the next group
    }
}

// Last canonical dim expanded: one warp per output.
__global__ void sum_runs_kernel(float* dx, const float* dy, BroadcastDims d, int64_t per_output) {
    const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
    for (int64_t o = blockIdx.x * int64_t(kWarpsPerBlock) + warp; o < d.small_numel;
         o += int64_t(gridDim.x) * kWarpsPerBlock) {
        const int64_t base = offset_along(d, false, o);
        double acc = 0.0;
        for (int64_t r = lane; r < per_output; r += kWarpSize)
            acc += static_cast<double>(dy[base + offset_along(d, true, r)]);
        for (int m = kWarpSize / 2; m > 0; m /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, m);
        if (lane == 0) dx[o] = static_cast<float>(acc);
    }
}

}  // namespace

void broadcast_forward_cuda(float* y, const float* x, const BroadcastDims& d, Stream s) {
    if (d.big_numel == 0) return;
    broadcast_forward_kernel<<<grid_for(d.big_numel, kBlock), kBlock, 0, s->stream>>>(y, x, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void broadcast_backward_cuda(float* dx, const float* dy, const BroadcastDims& d, Stream s) {
    if (d.small_numel == 0) return;
    // Elements of B per output; 0 when B has a 0 dim (the kernels then write zeros).
    const int64_t per_output = d.big_numel / d.small_numel;
    if (d.ndim == 0 || !d.expanded[d.ndim - 1]) {
        const dim3 block(kColumns, kSlices);
        sum_columns_kernel<<<grid_for(d.small_numel, kColumns), block, 0, s->stream>>>(dx, dy, d,
                                                                                       per_output);
    } else {
        sum_runs_kernel<<<grid_for(d.small_numel, kWarpsPerBlock), kWarpsPerBlock * kWarpSize, 0,
                          s->stream>>>(dx, dy, d, per_output);
    }
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
