// CUDA fused linear-head step (formulas in kernels/head_step.h), float. One call, four launches on
// the stream, no host sync:
//   1. gemm_cuda: logits = z W^T                        (cuBLAS, pedantic FP32)
//   2. head_step_rows_kernel: + b, softmax, weighted CE, G; row losses into the context workspace
//   3. gemm_cuda: dW = G^T z                             (cuBLAS)
//   4. head_step_reduce_kernel: db = column sums of G, loss = sum of the row losses
// Every sum has a fixed order (warp butterflies, sequential column walks, one block for the
// loss): the result is bit-identical from run to run. No atomics.
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/gemm.h"
#include "kernels/head_step.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;                        // threads per block for both kernels
constexpr int kRowsPerBlock = kBlock / kWarpSize;  // kernel 2: one warp per row

// Kernel 2, one warp per row (8 rows per block). Lane j handles classes j, j + 32, ...: pass 1
// adds the bias in place and finds the max, pass 2 sums exp(l - m), pass 3 writes
// G = w (p - onehot(t)). The row loss w (lse + m - l_t) goes to row_loss[n]. A bad target gives a
// NaN row. Reads 4 N K (logits) + 4 K (bias) + 12 N bytes, writes 4 N K (logits) + 4 N K (G)
// + 4 N; the (N, K) row stays in L1 between passes for the K of classifier heads.
__global__ void head_step_rows_kernel(float* logits, float* grad_logits, float* row_loss,
                                      const float* bias, const int64_t* targets,
                                      const float* sample_weights, int64_t n_rows, int64_t k) {
    const int64_t n = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarpSize;
    const int lane = threadIdx.x % kWarpSize;
    if (n >= n_rows) return;  // whole warps leave together
    float* l = logits + n * k;
    float m = -INFINITY;
    for (int64_t j = lane; j < k; j += kWarpSize) {
        const float v = bias ? l[j] + bias[j] : l[j];
        l[j] = v;
        m = fmaxf(m, v);
    }
    __syncwarp();  // lane 0 reads l[t] below, written by another lane
    m = warp_reduce_max(m);
    float s = 0.f;
    for (int64_t j = lane; j < k; j += kWarpSize) s += expf(l[j] - m);
    s = warp_reduce_sum(s);
    const float inv_s = 1.f / s;
    const float w = sample_weights ? sample_weights[n] : 1.f / static_cast<float>(n_rows);
    const int64_t t = targets[n];
    const bool bad = t < 0 || t >= k;
    float* g = grad_logits + n * k;
    for (int64_t j = lane; j < k; j += kWarpSize) {
        const float p = expf(l[j] - m) * inv_s;
        g[j] = bad ? NAN : w * (p - (j == t ? 1.f : 0.f));
    }
    if (lane == 0) {
        row_loss[n] = bad ? NAN
                          : static_cast<float>(static_cast<double>(w) *
                                               (log(static_cast<double>(s)) + m - l[t]));
    }
}

// Kernel 4. Blocks 0 .. ceil(K / 256) - 1: one thread per class walks the N rows of G in order
// (adjacent threads read adjacent classes: coalesced), db_k in double. The last block sums the N
// row losses: thread i takes rows i, i + 256, ... in order, then a fixed shared-memory tree.
// Reads 4 N K + 4 N bytes, writes 4 K + 4.
__global__ void head_step_reduce_kernel(float* loss, float* grad_bias, const float* grad_logits,
                                        const float* row_loss, int64_t n_rows, int64_t k,
                                        int bias_blocks) {
    if (static_cast<int>(blockIdx.x) < bias_blocks) {
        const int64_t c = blockIdx.x * int64_t(kBlock) + threadIdx.x;
        if (c >= k) return;
        double acc = 0;
        for (int64_t n = 0; n < n_rows; ++n) acc += grad_logits[n * k + c];
        grad_bias[c] = static_cast<float>(acc);
        return;
    }
    __shared__ double part[kBlock];
    double acc = 0;
    for (int64_t n = threadIdx.x; n < n_rows; n += kBlock) acc += row_loss[n];
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int half = kBlock / 2; half > 0; half /= 2) {
        if (static_cast<int>(threadIdx.x) < half) part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) loss[0] = static_cast<float>(part[0]);
}

}  // namespace

void head_step_cuda(float* loss, float* grad_weight, float* grad_bias, float* logits,
                    float* grad_logits, const float* z, const float* weight, const float* bias,
                    const int64_t* targets, const float* sample_weights, HeadStepDims d, Stream s) {
    OBL_CHECK(d.n >= 1 && d.d >= 1 && d.k >= 1, "head_step: needs N, D, K >= 1, got N = ", d.n,
              ", D = ", d.d, ", K = ", d.k);
    OBL_CHECK(ceil_div(d.n, kRowsPerBlock) <= INT32_MAX, "head_step: too many rows: ", d.n);
    float* row_loss = static_cast<float*>(s->workspace(sizeof(float) * d.n));

    gemm_cuda(logits, z, weight, GemmDims{1, d.n, d.k, d.d, false, true}, 1.f, 0.f, s);
    head_step_rows_kernel<<<static_cast<int>(ceil_div(d.n, kRowsPerBlock)), kBlock, 0, s->stream>>>(
        logits, grad_logits, row_loss, bias, targets, sample_weights, d.n, d.k);
    OBL_LAUNCH_CHECK(s->stream);
    gemm_cuda(grad_weight, grad_logits, z, GemmDims{1, d.k, d.d, d.n, true, false}, 1.f, 0.f, s);
    const int bias_blocks = (bias && grad_bias) ? static_cast<int>(ceil_div(d.k, kBlock)) : 0;
    head_step_reduce_kernel<<<bias_blocks + 1, kBlock, 0, s->stream>>>(
        loss, grad_bias, grad_logits, row_loss, d.n, d.k, bias_blocks);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
