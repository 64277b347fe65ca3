// CUDA layer norm (formulas in kernels/layer_norm.h). Forward and dx: one warp per row, lanes
// striding over D, warp shuffles for the row sums (no shared memory, no __syncthreads); rows are
// short (D = 64..1024 in our models), so a warp per row keeps every lane busy without a block
// reduction. dweight/dbias are column sums over all rows, done deterministically in two stages:
// partial sums over fixed chunks of kRowsPerChunk rows (one thread per column, coalesced across
// the warp), then one thread per column adds the chunk partials in chunk order. No atomics.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/layer_norm.h"

namespace obl::kernels {

namespace {

constexpr int kWarpsPerBlock = 8;       // 256 threads: 8 rows per block
constexpr int kColumnBlock = 256;       // dweight/dbias: columns per block
constexpr int64_t kRowsPerChunk = 256;  // rows summed by one thread in stage 1

// One warp per row: three passes over x (mean, variance, y), the second and third from L1 (a row
// is a few KB), so memory traffic is D floats read and D written per row, plus the row's mean
// and rstd. Statistics two-pass, fp32.
__global__ void layer_norm_forward_kernel(float* y, float* save_mean, float* save_rstd,
                                          const float* x, const float* weight, const float* bias,
                                          LayerNormDims d) {
    const int lane = threadIdx.x % kWarpSize;
    const int64_t row = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / kWarpSize;
    if (row >= d.rows) return;  // whole warps exit together: the shuffles stay full-warp
    const float* xr = x + row * d.d;
    float sum = 0.f;
    for (int64_t k = lane; k < d.d; k += kWarpSize) sum += xr[k];
    const float mean = warp_reduce_sum(sum) / static_cast<float>(d.d);
    float sq = 0.f;
    for (int64_t k = lane; k < d.d; k += kWarpSize) {
        const float v = xr[k] - mean;
        sq += v * v;
    }
    const float rstd = 1.f / sqrtf(warp_reduce_sum(sq) / static_cast<float>(d.d) +
                                   static_cast<float>(d.eps));  // IEEE sqrt, not rsqrtf
    if (lane == 0) {
        save_mean[row] = mean;
        save_rstd[row] = rstd;
    }
    for (int64_t k = lane; k < d.d; k += kWarpSize) {
        const float w = weight ? weight[k] : 1.f, b = bias ? bias[k] : 0.f;
        y[row * d.d + k] = (xr[k] - mean) * rstd * w + b;
    }
}

// One warp per row: two passes over dy and x (the second from L1): 2 D floats read from memory
// and D written per row.
__global__ void layer_norm_backward_dx_kernel(float* grad_x, const float* grad_y, const float* x,
                                              const float* weight, const float* save_mean,
                                              const float* save_rstd, LayerNormDims d) {
    const int lane = threadIdx.x % kWarpSize;
    const int64_t row = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / kWarpSize;
    if (row >= d.rows) return;
    const float* xr = x + row * d.d;
    const float* dyr = grad_y + row * d.d;
    const float mean = save_mean[row], rstd = save_rstd[row];
    float sum_g = 0.f, sum_g_xhat = 0.f;
    for (int64_t k = lane; k < d.d; k += kWarpSize) {
        const float g = dyr[k] * (weight ? weight[k] : 1.f);
        sum_g += g;
        sum_g_xhat += g * (xr[k] - mean) * rstd;
    }
    const float mean_g = warp_reduce_sum(sum_g) / static_cast<float>(d.d);
    const float mean_g_xhat = warp_reduce_sum(sum_g_xhat) / static_cast<float>(d.d);
    for (int64_t k = lane; k < d.d; k += kWarpSize) {
        const float g = dyr[k] * (weight ? weight[k] : 1.f);
        const float xhat = (xr[k] - mean) * rstd;
        grad_x[row * d.d + k] = rstd * (g - mean_g - xhat * mean_g_xhat);
    }
}

// Stage 1: grid (column blocks, row chunks); thread = column k of chunk j, summing dy xhat and dy
// over the chunk's rows. Reads dy and x once (2 R D floats in all); writes 2 chunks D floats.
__global__ void layer_norm_param_partial_kernel(float* partial_w, float* partial_b,
                                                const float* grad_y, const float* x,
                                                const float* save_mean, const float* save_rstd,
                                                LayerNormDims d) {
    // Threads of a warp take consecutive columns of the same rows: every load is coalesced.
    const int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    const int64_t chunk = blockIdx.y;
    if (k >= d.d) return;
    const int64_t r0 = chunk * kRowsPerChunk, r1 = min(r0 + kRowsPerChunk, d.rows);
    float dw = 0.f, db = 0.f;
    for (int64_t r = r0; r < r1; ++r) {
        const float dy = grad_y[r * d.d + k];
        dw += dy * (x[r * d.d + k] - save_mean[r]) * save_rstd[r];
        db += dy;
    }
    partial_w[chunk * d.d + k] = dw;
    partial_b[chunk * d.d + k] = db;
}

// Stage 2: thread = column k; adds the chunk partials in chunk order. Reads 2 chunks D floats.
__global__ void layer_norm_param_final_kernel(float* grad_weight, float* grad_bias,
                                              const float* partial_w, const float* partial_b,
                                              int64_t chunks, int64_t dim) {
    const int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (k >= dim) return;
    float dw = 0.f, db = 0.f;
    for (int64_t j = 0; j < chunks; ++j) {
        dw += partial_w[j * dim + k];
        db += partial_b[j * dim + k];
    }
    if (grad_weight) grad_weight[k] = dw;
    if (grad_bias) grad_bias[k] = db;
}

}  // namespace

// Launcher: ceil(R / 8) blocks of 8 warps, one warp per row.
void layer_norm_forward_cuda(float* y, float* save_mean, float* save_rstd, const float* x,
                             const float* weight, const float* bias, LayerNormDims d, Stream s) {
    OBL_CHECK(d.rows >= 0 && d.d >= 1, "layer_norm_forward_cuda: bad dims (", d.rows, ", ", d.d,
              ")");
    if (d.rows == 0) return;
    const auto blocks = static_cast<unsigned>(ceil_div(d.rows, kWarpsPerBlock));
    layer_norm_forward_kernel<<<blocks, kWarpsPerBlock * kWarpSize, 0, s->stream>>>(
        y, save_mean, save_rstd, x, weight, bias, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void layer_norm_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias,
                              const float* grad_y, const float* x, const float* weight,
                              const float* save_mean, const float* save_rstd, LayerNormDims d,
                              Stream s) {
    OBL_CHECK(d.rows >= 0 && d.d >= 1, "layer_norm_backward_cuda: bad dims (", d.rows, ", ", d.d,
              ")");
    if (d.rows == 0) return;
    if (grad_x) {
        const auto blocks = static_cast<unsigned>(ceil_div(d.rows, kWarpsPerBlock));
        layer_norm_backward_dx_kernel<<<blocks, kWarpsPerBlock * kWarpSize, 0, s->stream>>>(
            grad_x, grad_y, x, weight, save_mean, save_rstd, d);
        OBL_LAUNCH_CHECK(s->stream);
    }
    if (grad_weight || grad_bias) {  // two-stage column sums through the context's workspace
        const int64_t chunks = ceil_div(d.rows, kRowsPerChunk);
        OBL_CHECK(chunks <= 65535, "layer_norm_backward_cuda: ", d.rows,
                  " rows exceed the grid's y limit (", 65535 * kRowsPerChunk, ")");
        float* partial_w = static_cast<float*>(
            s->workspace(sizeof(float) * static_cast<size_t>(2 * chunks * d.d)));
        float* partial_b = partial_w + chunks * d.d;
        const dim3 grid(static_cast<unsigned>(ceil_div(d.d, kColumnBlock)),
                        static_cast<unsigned>(chunks));
        layer_norm_param_partial_kernel<<<grid, kColumnBlock, 0, s->stream>>>(
            partial_w, partial_b, grad_y, x, save_mean, save_rstd, d);
        OBL_LAUNCH_CHECK(s->stream);
        layer_norm_param_final_kernel<<<static_cast<unsigned>(ceil_div(d.d, kColumnBlock)),
                                        kColumnBlock, 0, s->stream>>>(
            grad_weight, grad_bias, partial_w, partial_b, chunks, d.d);
        OBL_LAUNCH_CHECK(s->stream);
    }
}

}  // namespace obl::kernels
