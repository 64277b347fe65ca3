// CUDA KL divergence, batchmean (formulas in kernels/kl_div.h), float.
//
// Forward: a group of kThreads threads per row of K elements (a warp when K <= 1024, 8 rows per
// 256-thread block; else the whole block) sums p (log p - log q) in double, skipping p = 0 terms
// (0 log 0 = 0, even where log q = -inf); the row sums go to the context workspace and
// scaled_sum_kernel (one block) adds them in a fixed order and divides by N: deterministic.
// Reads 8·N·K bytes, writes 4·N + 4.
// Backward: one thread per element, dlog_q = -p dloss / N (dloss read on the device). Reads
// 4·N·K, writes 4·N·K bytes.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/cuda/row_reduce.cuh"
#include "kernels/kl_div.h"

namespace obl::kernels {

namespace {

using rows::kBlock;
constexpr int64_t kMaxGrid = 65535;

template <int kThreads>
__global__ void kl_div_forward_kernel(float* row_sum, const float* log_q, const float* p, int64_t n,
                                      int64_t k) {
    __shared__ double smem[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= n) return;  // whole warps leave; block groups never
    double s = 0;
    for (int64_t j = lane; j < k; j += kThreads) {
        const double pj = p[row * k + j];
        if (pj != 0) s += pj * (log(pj) - log_q[row * k + j]);
    }
    s = rows::group_reduce<kThreads>(s, rows::Add{}, smem);
    if (lane == 0) row_sum[row] = static_cast<float>(s);
}

__global__ void kl_div_backward_kernel(float* dlog_q, const float* dloss, const float* p,
                                       int64_t total, int64_t n) {
    const float scale = -dloss[0] / static_cast<float>(n);
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x)
        dlog_q[i] = p[i] * scale;
}

}  // namespace

void kl_div_forward_cuda(float* loss, const float* log_q, const float* p, KlDivDims d, Stream s) {
    OBL_CHECK(d.n > 0, "kl_div: needs N >= 1 rows, got ", d.n);
    float* row_sum = static_cast<float*>(s->workspace(sizeof(float) * d.n));
    if (d.k <= rows::kWarpRowMax) {
        const int grid = static_cast<int>(ceil_div(d.n, rows::rows_per_block<kWarpSize>()));
        kl_div_forward_kernel<kWarpSize>
            <<<grid, kBlock, 0, s->stream>>>(row_sum, log_q, p, d.n, d.k);
    } else {
        OBL_CHECK(d.n <= INT32_MAX, "kl_div: too many rows for one grid: ", d.n);
        kl_div_forward_kernel<kBlock>
            <<<static_cast<int>(d.n), kBlock, 0, s->stream>>>(row_sum, log_q, p, d.n, d.k);
    }
    OBL_LAUNCH_CHECK(s->stream);
    rows::scaled_sum_kernel<<<1, kBlock, 0, s->stream>>>(loss, row_sum, d.n, 1.0 / d.n);
    OBL_LAUNCH_CHECK(s->stream);
}

void kl_div_backward_cuda(float* dlog_q, const float* dloss, const float* p, KlDivDims d,
                          Stream s) {
    const int64_t total = d.n * d.k;
    if (total == 0) return;
    const int grid = static_cast<int>(std::min<int64_t>(ceil_div(total, kBlock), kMaxGrid));
    kl_div_backward_kernel<<<grid, kBlock, 0, s->stream>>>(dlog_q, dloss, p, total, d.n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
