// CUDA softmax / log-softmax over the last dim (formulas in kernels/softmax.h), float.
//
// Thread mapping: a group of kThreads threads per row: one warp (kThreads = 32, 8 rows per
// 256-thread block) when K <= 1024, else the whole 256-thread block. Lanes stride over the row
// by kThreads, so a warp reads 32 consecutive floats per step (coalesced).
// Forward: one pass keeps the online (max, sum of exp) per thread (row_reduce.cuh's MaxSum),
// merged across the group; a second pass writes y. Reads N·K floats twice (the second mostly
// from L1/L2), writes N·K floats: bytes ~ 8·N·K from DRAM.
// Backward: one pass for the row dot product (softmax) or the row sum of dy (log_softmax), one
// pass writing dx. Reads 2·N·K floats (twice), writes N·K floats.
// expf/logf are the accurate versions (no --use_fast_math, no __expf): tests compare with the
// CPU reference at 1e-5.
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/cuda/row_reduce.cuh"
#include "kernels/softmax.h"

namespace obl::kernels {

namespace {

using rows::kBlock;

template <int kThreads, bool kLog>
__global__ void softmax_forward_kernel(float* y, const float* x, int64_t n, int64_t k) {
    __shared__ rows::MaxSum smem[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= n) return;  // whole warps leave; block groups never
    const float* xr = x + row * k;
    float* yr = y + row * k;
    rows::MaxSum ms = rows::kEmpty;
    for (int64_t j = lane; j < k; j += kThreads) rows::add(ms, xr[j]);
    ms = rows::group_max_sum<kThreads>(ms, smem);
    if (kLog) {
        const float log_s = logf(ms.s);
        for (int64_t j = lane; j < k; j += kThreads) yr[j] = xr[j] - ms.m - log_s;
    } else {
        const float inv_s = 1.f / ms.s;
        for (int64_t j = lane; j < k; j += kThreads) yr[j] = expf(xr[j] - ms.m) * inv_s;
    }
}

// softmax: dx = y (dy - sum dy y);  log_softmax: dx = dy - exp(y) sum dy.
template <int kThreads, bool kLog>
__global__ void softmax_backward_kernel(float* dx, const float* dy, const float* y, int64_t n,
                                        int64_t k) {
    __shared__ float smem[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= n) return;
    const int64_t o = row * k;
    float acc = 0.f;
    for (int64_t j = lane; j < k; j += kThreads) acc += kLog ? dy[o + j] : dy[o + j] * y[o + j];
    acc = rows::group_reduce<kThreads>(acc, rows::Add{}, smem);
    for (int64_t j = lane; j < k; j += kThreads)
        dx[o + j] = kLog ? dy[o + j] - expf(y[o + j]) * acc : y[o + j] * (dy[o + j] - acc);
}

// Picks the warp or block mapping for K and launches kernel<kThreads>.
template <class Launch>
void launch_rows(SoftmaxDims d, Launch&& launch) {
    if (d.n == 0 || d.k == 0) return;
    if (d.k <= rows::kWarpRowMax) {
        launch(std::integral_constant<int, kWarpSize>{},
               static_cast<int>(ceil_div(d.n, rows::rows_per_block<kWarpSize>())));
    } else {
        OBL_CHECK(d.n <= INT32_MAX, "softmax: too many rows for one grid: ", d.n);
        launch(std::integral_constant<int, kBlock>{}, static_cast<int>(d.n));
    }
}

template <bool kLog>
void forward(float* y, const float* x, SoftmaxDims d, Stream s) {
    launch_rows(d, [&](auto threads, int grid) {
        softmax_forward_kernel<decltype(threads)::value, kLog>
            <<<grid, kBlock, 0, s->stream>>>(y, x, d.n, d.k);
    });
    OBL_LAUNCH_CHECK(s->stream);
}

template <bool kLog>
void backward(float* dx, const float* dy, const float* y, SoftmaxDims d, Stream s) {
    launch_rows(d, [&](auto threads, int grid) {
        softmax_backward_kernel<decltype(threads)::value, kLog>
            <<<grid, kBlock, 0, s->stream>>>(dx, dy, y, d.n, d.k);
    });
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace

void softmax_forward_cuda(float* y, const float* x, SoftmaxDims d, Stream s) {
    forward<false>(y, x, d, s);
}

void log_softmax_forward_cuda(float* y, const float* x, SoftmaxDims d, Stream s) {
    forward<true>(y, x, d, s);
}

void softmax_backward_cuda(float* dx, const float* dy, const float* y, SoftmaxDims d, Stream s) {
    backward<false>(dx, dy, y, d, s);
}

void log_softmax_backward_cuda(float* dx, const float* dy, const float* y, SoftmaxDims d,
                               Stream s) {
    backward<true>(dx, dy, y, d, s);
}

}  // namespace obl::kernels
