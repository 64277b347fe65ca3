// CUDA batch norm (formulas in kernels/batch_norm.h): one block per channel. The block walks the
// channel's M = N S values (k -> n = k / S, s = k % S) with a block-stride loop and reduces with
// block_reduce_sum; every thread receives the result, so the normalisation pass needs no extra
// synchronisation. Statistics are two-pass (mean, then the centred sum of squares), summed in
// fp32 per thread and across the block: 1024 threads keep each thread's serial sum short.
#include <cstdint>

#include "kernels/batch_norm.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"

namespace obl::kernels {

namespace {

// 1024 threads (32 warps) per channel: the grid has only C blocks, so each must be wide to fill
// an SM; also the block-reduction scratch size.
constexpr int kBlock = 1024;

// Walks the values k = k0, k0 + step, ... of one channel of (N, C, S) memory, k = n S + s, without
// an integer division per element: (n, s) advance by (step / S, step % S) plus one carry.
// k < N S  <=>  n < N, so the loop condition is on n.
struct ChannelWalk {
    int64_t n, s, dn, ds;
    __device__ ChannelWalk(int64_t k0, int64_t step, int64_t size)
        : n(k0 / size), s(k0 % size), dn(step / size), ds(step % size) {}
    __device__ void next(int64_t size) {
        n += dn;
        s += ds;
        if (s >= size) {
            s -= size;
            ++n;
        }
    }
    __device__ int64_t offset(int64_t c, const BatchNormDims& d) const {
        return (n * d.c + c) * d.s + s;
    }
};

// Block c: training reads x three times (mean, variance, output) = 3 N S floats per channel and
// writes N S; eval reads once and writes once. Thread 0 updates the running stats and saves.
__global__ void __launch_bounds__(kBlock)
    batch_norm_forward_kernel(float* y, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, const float* x, const float* weight,
                              const float* bias, BatchNormDims d) {
    __shared__ float shared[kBlock / kWarpSize];
    const int64_t c = blockIdx.x, m = d.n * d.s;
    // Every thread ends up with the channel's mean and invstd (block_reduce_sum broadcasts).
    float mean, invstd;
    if (d.training) {
        float sum = 0.f;
        for (ChannelWalk it(threadIdx.x, blockDim.x, d.s); it.n < d.n; it.next(d.s))
            sum += x[it.offset(c, d)];
        mean = block_reduce_sum(sum, shared) / static_cast<float>(m);
        float sq = 0.f;
        for (ChannelWalk it(threadIdx.x, blockDim.x, d.s); it.n < d.n; it.next(d.s)) {
            const float v = x[it.offset(c, d)] - mean;
            sq += v * v;
        }
        sq = block_reduce_sum(sq, shared);
        const float var = sq / static_cast<float>(m);           // biased: normalises
        invstd = 1.f / sqrtf(var + static_cast<float>(d.eps));  // IEEE sqrt, not rsqrtf
        if (threadIdx.x == 0) {
            const float mom = static_cast<float>(d.momentum);
            if (running_mean) running_mean[c] = (1.f - mom) * running_mean[c] + mom * mean;
            if (running_var)  // unbiased variance (PyTorch's rule); M > 1 is checked by the op
                running_var[c] =
                    (1.f - mom) * running_var[c] + mom * sq / static_cast<float>(m - 1);
        }
    } else {
        mean = running_mean[c];
        invstd = 1.f / sqrtf(running_var[c] + static_cast<float>(d.eps));
    }
    if (threadIdx.x == 0) {
        save_mean[c] = mean;
        save_invstd[c] = invstd;
    }
    const float w = weight ? weight[c] : 1.f, b = bias ? bias[c] : 0.f;
    for (ChannelWalk it(threadIdx.x, blockDim.x, d.s); it.n < d.n; it.next(d.s)) {
        const int64_t o = it.offset(c, d);
        y[o] = (x[o] - mean) * invstd * w + b;
    }
}

// Block c: reads dy and x twice (sums, then dx) = 4 N S floats per channel; writes N S floats
// of dx and one dweight/dbias value.
__global__ void __launch_bounds__(kBlock)
    batch_norm_backward_kernel(float* grad_x, float* grad_weight, float* grad_bias,
                               const float* grad_y, const float* x, const float* weight,
                               const float* save_mean, const float* save_invstd, BatchNormDims d) {
    __shared__ float shared[kBlock / kWarpSize];
    const int64_t c = blockIdx.x, m = d.n * d.s;
    const float mean = save_mean[c], invstd = save_invstd[c];
    const float w = weight ? weight[c] : 1.f;
    float sum_dy = 0.f, sum_dy_xhat = 0.f;
    for (ChannelWalk it(threadIdx.x, blockDim.x, d.s); it.n < d.n; it.next(d.s)) {
        const int64_t o = it.offset(c, d);
        sum_dy += grad_y[o];
        sum_dy_xhat += grad_y[o] * (x[o] - mean) * invstd;
    }
    // Two reductions share `shared`: block_reduce_sum synchronises before reusing it.
    sum_dy = block_reduce_sum(sum_dy, shared);
    sum_dy_xhat = block_reduce_sum(sum_dy_xhat, shared);
    if (threadIdx.x == 0) {
        if (grad_bias) grad_bias[c] = sum_dy;
        if (grad_weight) grad_weight[c] = sum_dy_xhat;
    }
    if (!grad_x) return;
    const float inv_m = 1.f / static_cast<float>(m);
    for (ChannelWalk it(threadIdx.x, blockDim.x, d.s); it.n < d.n; it.next(d.s)) {
        const int64_t o = it.offset(c, d);
        float dx = grad_y[o];
        if (d.training) {  // the full formula through the batch statistics
            const float xhat = (x[o] - mean) * invstd;
            dx = dx - sum_dy * inv_m - xhat * sum_dy_xhat * inv_m;
        }
        grad_x[o] = dx * w * invstd;
    }
}

}  // namespace

// Launcher: one block per channel (the grid is C blocks of kBlock threads).
void batch_norm_forward_cuda(float* y, float* save_mean, float* save_invstd, float* running_mean,
                             float* running_var, const float* x, const float* weight,
                             const float* bias, BatchNormDims d, Stream s) {
    OBL_CHECK(d.n >= 1 && d.c >= 1 && d.s >= 1, "batch_norm_forward_cuda: bad dims (", d.n, ", ",
              d.c, ", ", d.s, ")");
    OBL_CHECK(d.training || (running_mean && running_var),
              "batch_norm_forward_cuda: eval mode needs running statistics");
    OBL_CHECK(!d.training || d.n * d.s > 1,
              "batch_norm_forward_cuda: training needs more than 1 value per channel");
    batch_norm_forward_kernel<<<static_cast<unsigned>(d.c), kBlock, 0, s->stream>>>(
        y, save_mean, save_invstd, running_mean, running_var, x, weight, bias, d);
    OBL_LAUNCH_CHECK(s->stream);
}

// Launcher: one block per channel; grad_x / grad_weight / grad_bias may be null.
void batch_norm_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias,
                              const float* grad_y, const float* x, const float* weight,
                              const float* save_mean, const float* save_invstd, BatchNormDims d,
                              Stream s) {
    OBL_CHECK(d.n >= 1 && d.c >= 1 && d.s >= 1, "batch_norm_backward_cuda: bad dims (", d.n, ", ",
              d.c, ", ", d.s, ")");
    batch_norm_backward_kernel<<<static_cast<unsigned>(d.c), kBlock, 0, s->stream>>>(
        grad_x, grad_weight, grad_bias, grad_y, x, weight, save_mean, save_invstd, d);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
