// CUDA fused cross-entropy (formulas in kernels/cross_entropy.h), float.
//
// Forward, a group of kThreads threads per row (a warp when K <= 1024, 8 rows per 256-thread
// block; else the whole block): pass 1 the online (max, sum of exp) (row_reduce.cuh), pass 2 the
// target terms (hard: sum (m - x) for the smoothing mass; soft: sum q and sum q (m - x), in
// double) while writing p = softmax(x) when a backward will run. The row loss goes to the
// context workspace; scaled_sum_kernel (one block) then adds the N row losses in a fixed order
// and divides by N: deterministic, no atomics. Reads 4·N·K bytes twice (+4·N·K for soft q, +8·N
// for hard targets), writes 4·N·K (p) + 4·N.
// Backward from the saved p: hard targets one thread per element, (p - q) dloss / N with q
// rebuilt from the target (reads 8·N·K + 8·N bytes, writes 4·N·K); soft targets a group per row,
// which first needs sum q, then (p sum q - q) dloss / N (reads 12·N·K, writes 4·N·K).
// dloss is read on the device (no host sync).
// Out-of-range targets cannot throw from a kernel without a sync, so they poison their row: the
// row loss (hence the mean) and the row's gradient become NaN.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/cross_entropy.h"
#include "kernels/cuda/row_reduce.cuh"

namespace obl::kernels {

namespace {

using rows::kBlock;
constexpr int64_t kMaxGrid = 65535;

// kSoft selects the target form at compile time (hard targets: `targets`; soft: `target_probs`).
// The row's lane 0 writes row_loss[row]; probs (may be nullptr) gets p = exp(x - m) / s.
template <int kThreads, bool kSoft>
__global__ void cross_entropy_forward_kernel(float* row_loss, float* probs, const float* logits,
                                             const int64_t* targets, const float* target_probs,
                                             int64_t n, int64_t k, float label_smoothing) {
    __shared__ rows::MaxSum smem_ms[kBlock / kWarpSize];
    __shared__ double smem[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= n) return;  // whole warps leave; block groups never
    const float* x = logits + row * k;
    rows::MaxSum ms = rows::kEmpty;
    for (int64_t j = lane; j < k; j += kThreads) rows::add(ms, x[j]);
    ms = rows::group_max_sum<kThreads>(ms, smem_ms);
    const float inv_s = 1.f / ms.s;
    const double lse = log(static_cast<double>(ms.s));
    double a = 0, b = 0;  // hard: a = sum (m - x); soft: a = sum q, b = sum q (m - x)
    for (int64_t j = lane; j < k; j += kThreads) {
        const double gap = static_cast<double>(ms.m) - x[j];
        if (kSoft) {
            const double q = target_probs[row * k + j];
            a += q;
            b += q * gap;
        } else {
            a += gap;
        }
        if (probs) probs[row * k + j] = expf(x[j] - ms.m) * inv_s;
    }
    a = rows::group_reduce<kThreads>(a, rows::Add{}, smem);
    if (kSoft) b = rows::group_reduce<kThreads>(b, rows::Add{}, smem);
    if (lane != 0) return;
    if (kSoft) {
        row_loss[row] = static_cast<float>(lse * a + b);
    } else {
        const int64_t t = targets[row];
        const bool bad = t < 0 || t >= k;
        const double e = label_smoothing;
        row_loss[row] = bad ? NAN
                            : static_cast<float>(
                                  lse + (1.0 - e) * (static_cast<double>(ms.m) - x[t]) + e / k * a);
    }
}

// Hard targets: one thread per element of (N, K), grid-stride.
__global__ void cross_entropy_backward_kernel(float* dlogits, const float* dloss,
                                              const float* probs, const int64_t* targets, int64_t n,
                                              int64_t k, float label_smoothing) {
    const float scale = dloss[0] / static_cast<float>(n);
    const float off = label_smoothing / static_cast<float>(k);
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * k;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t t = targets[i / k];
        const float q = (i % k == t ? 1.f - label_smoothing : 0.f) + off;
        dlogits[i] = (t < 0 || t >= k) ? NAN : (probs[i] - q) * scale;
    }
}

// Soft targets: a group per row (sum q first).
template <int kThreads>
__global__ void cross_entropy_soft_backward_kernel(float* dlogits, const float* dloss,
                                                   const float* probs, const float* q, int64_t n,
                                                   int64_t k) {
    __shared__ float smem[kBlock / kWarpSize];
    const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kThreads;
    const int lane = threadIdx.x % kThreads;
    if (kThreads == kWarpSize && row >= n) return;
    const int64_t o = row * k;
    float sum_q = 0.f;
    for (int64_t j = lane; j < k; j += kThreads) sum_q += q[o + j];
    sum_q = rows::group_reduce<kThreads>(sum_q, rows::Add{}, smem);
    const float scale = dloss[0] / static_cast<float>(n);
    for (int64_t j = lane; j < k; j += kThreads)
        dlogits[o + j] = (probs[o + j] * sum_q - q[o + j]) * scale;
}

// Launches kernel<kThreads> with a warp per row (K <= 1024) or a block per row.
template <class Launch>
void launch_rows(CrossEntropyDims d, Launch&& launch) {
    if (d.k <= rows::kWarpRowMax) {
        launch(std::integral_constant<int, kWarpSize>{},
               static_cast<int>(ceil_div(d.n, rows::rows_per_block<kWarpSize>())));
    } else {
        OBL_CHECK(d.n <= INT32_MAX, "cross_entropy: too many rows for one grid: ", d.n);
        launch(std::integral_constant<int, kBlock>{}, static_cast<int>(d.n));
    }
}

// Two launches on the stream: row losses into the workspace, then the ordered mean over rows.
template <bool kSoft>
void forward(float* loss, float* probs, const float* logits, const int64_t* targets,
             const float* target_probs, CrossEntropyDims d, float label_smoothing, Stream s) {
    OBL_CHECK(d.n > 0 && d.k > 0, "cross_entropy: needs N >= 1 and K >= 1, got N = ", d.n,
              ", K = ", d.k);
    float* row_loss = static_cast<float*>(s->workspace(sizeof(float) * d.n));
    launch_rows(d, [&](auto threads, int grid) {
        cross_entropy_forward_kernel<decltype(threads)::value, kSoft>
            <<<grid, kBlock, 0, s->stream>>>(row_loss, probs, logits, targets, target_probs, d.n,
                                             d.k, label_smoothing);
    });
    OBL_LAUNCH_CHECK(s->stream);
    rows::scaled_sum_kernel<<<1, kBlock, 0, s->stream>>>(loss, row_loss, d.n, 1.0 / d.n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace

void cross_entropy_forward_cuda(float* loss, float* probs, const float* logits,
                                const int64_t* targets, CrossEntropyDims d, float label_smoothing,
                                Stream s) {
    forward<false>(loss, probs, logits, targets, nullptr, d, label_smoothing, s);
}

void cross_entropy_soft_forward_cuda(float* loss, float* probs, const float* logits,
                                     const float* target_probs, CrossEntropyDims d, Stream s) {
    forward<true>(loss, probs, logits, nullptr, target_probs, d, 0.f, s);
}

void cross_entropy_backward_cuda(float* dlogits, const float* dloss, const float* probs,
                                 const int64_t* targets, CrossEntropyDims d, float label_smoothing,
                                 Stream s) {
    if (d.n * d.k == 0) return;
    const int grid = static_cast<int>(std::min<int64_t>(ceil_div(d.n * d.k, kBlock), kMaxGrid));
    cross_entropy_backward_kernel<<<grid, kBlock, 0, s->stream>>>(dlogits, dloss, probs, targets,
                                                                  d.n, d.k, label_smoothing);
    OBL_LAUNCH_CHECK(s->stream);
}

void cross_entropy_soft_backward_cuda(float* dlogits, const float* dloss, const float* probs,
                                      const float* target_probs, CrossEntropyDims d, Stream s) {
    if (d.n * d.k == 0) return;
    launch_rows(d, [&](auto threads, int grid) {
        cross_entropy_soft_backward_kernel<decltype(threads)::value>
            <<<grid, kBlock, 0, s->stream>>>(dlogits, dloss, probs, target_probs, d.n, d.k);
    });
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
