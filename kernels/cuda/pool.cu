// CUDA pooling (formulas in kernels/pool.h). Forward: one thread per output element. Backward:
// one thread per INPUT pixel, which walks the (few) outputs whose window contains it and sums
// their gradients: a gather, so overlapping windows need no atomics and the sum order is fixed.
// Everything is grid-stride with 256-thread blocks (8 warps: enough to hide latency on these
// memory-bound kernels).
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/pool.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;

int grid_for(int64_t n) {
    return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 1 << 20));
}

// Outputs i in [lo, hi) whose window [i stride - pad, i stride - pad + k) contains row r.
// Half-open output index range; empty when lo == hi.
struct Range {
    int64_t lo, hi;
};
__device__ inline Range windows_containing(int64_t r, int64_t k, int64_t stride, int64_t pad,
                                           int64_t out) {
    // i stride - pad <= r < i stride - pad + k  <=>  r + pad - k + 1 <= i stride <= r + pad.
    const int64_t first = r + pad - k + 1;  // i stride >= first
    const int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    const int64_t hi = min((r + pad) / stride + 1, out);
    return {lo, max(lo, hi)};
}

// Adaptive windows containing r: i in [floor(r OUT / IN), ceil((r + 1) OUT / IN)).
// Inverse of the window bounds in kernels/pool.h: start(i) <= r < end(i).
__device__ inline Range adaptive_windows_containing(int64_t r, int64_t in, int64_t out) {
    return {(r * out) / in, ((r + 1) * out + in - 1) / in};
}

// Reads <= KH KW floats per output (N C OH OW KH KW in all, mostly cache hits for overlapping
// windows); writes N C OH OW floats and as many int64 indices.
__global__ void max_pool2d_forward_kernel(float* y, int64_t* argmax, const float* x, Pool2dDims d) {
    const int64_t ohw = d.oh * d.ow, total = d.n * d.c * ohw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t nc = q / ohw, i = (q % ohw) / d.ow, j = q % d.ow;
        const float* xp = x + nc * d.h * d.w;
        const int64_t r0 = i * d.stride_h - d.pad_h, s0 = j * d.stride_w - d.pad_w;
        const int64_t r_lo = max(r0, int64_t(0)), r_hi = min(r0 + d.kh, d.h);
        const int64_t s_lo = max(s0, int64_t(0)), s_hi = min(s0 + d.kw, d.w);
        float best = -INFINITY;
        int64_t best_idx = r_lo * d.w + s_lo;
        for (int64_t r = r_lo; r < r_hi; ++r) {
            for (int64_t s = s_lo; s < s_hi; ++s) {
                const float v = xp[r * d.w + s];
                if (v > best || isnan(v)) {  // first maximum wins; NaN propagates (PyTorch)
                    best = v;
                    best_idx = r * d.w + s;
                }
            }
        }
        y[q] = best;
        argmax[q] = best_idx;
    }
}

// One thread per input pixel; reads the argmax and dy of the <= ceil(K/stride)^2 windows
// containing it; writes N C H W floats.
__global__ void max_pool2d_backward_kernel(float* grad_x, const float* grad_y,
                                           const int64_t* argmax, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow, total = d.n * d.c * hw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t nc = q / hw, pix = q % hw, r = pix / d.w, s = pix % d.w;
        const Range ri = windows_containing(r, d.kh, d.stride_h, d.pad_h, d.oh);
        const Range rj = windows_containing(s, d.kw, d.stride_w, d.pad_w, d.ow);
        float acc = 0.f;
        for (int64_t i = ri.lo; i < ri.hi; ++i) {
            for (int64_t j = rj.lo; j < rj.hi; ++j) {
                const int64_t o = nc * ohw + i * d.ow + j;
                if (argmax[o] == pix) acc += grad_y[o];
            }
        }
        grad_x[q] = acc;
    }
}

// Reads <= KH KW floats per output; writes N C OH OW floats.
__global__ void avg_pool2d_forward_kernel(float* y, const float* x, Pool2dDims d) {
    const int64_t ohw = d.oh * d.ow, total = d.n * d.c * ohw;
    const float inv_area = 1.f / static_cast<float>(d.kh * d.kw);  // count_include_pad
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t nc = q / ohw, i = (q % ohw) / d.ow, j = q % d.ow;
        const float* xp = x + nc * d.h * d.w;
        const int64_t r0 = i * d.stride_h - d.pad_h, s0 = j * d.stride_w - d.pad_w;
        float acc = 0.f;
        for (int64_t r = max(r0, int64_t(0)); r < min(r0 + d.kh, d.h); ++r)
            for (int64_t s = max(s0, int64_t(0)); s < min(s0 + d.kw, d.w); ++s)
                acc += xp[r * d.w + s];
        y[q] = acc * inv_area;
    }
}

// One thread per input pixel; reads dy of the windows containing it; writes N C H W floats.
__global__ void avg_pool2d_backward_kernel(float* grad_x, const float* grad_y, Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow, total = d.n * d.c * hw;
    const float inv_area = 1.f / static_cast<float>(d.kh * d.kw);
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t nc = q / hw, r = (q % hw) / d.w, s = q % d.w;
        const Range ri = windows_containing(r, d.kh, d.stride_h, d.pad_h, d.oh);
        const Range rj = windows_containing(s, d.kw, d.stride_w, d.pad_w, d.ow);
        float acc = 0.f;
        for (int64_t i = ri.lo; i < ri.hi; ++i)
            for (int64_t j = rj.lo; j < rj.hi; ++j) acc += grad_y[nc * ohw + i * d.ow + j];
        grad_x[q] = acc * inv_area;
    }
}

// Reads each input pixel once per window containing it (about N C H W); writes N C OH OW.
__global__ void adaptive_avg_pool2d_forward_kernel(float* y, const float* x, Pool2dDims d) {
    const int64_t ohw = d.oh * d.ow, total = d.n * d.c * ohw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t nc = q / ohw, i = (q % ohw) / d.ow, j = q % d.ow;
        const float* xp = x + nc * d.h * d.w;
        const int64_t r_lo = adaptive_start(i, d.h, d.oh), r_hi = adaptive_end(i, d.h, d.oh);
        const int64_t s_lo = adaptive_start(j, d.w, d.ow), s_hi = adaptive_end(j, d.w, d.ow);
        float acc = 0.f;
        for (int64_t r = r_lo; r < r_hi; ++r)
            for (int64_t s = s_lo; s < s_hi; ++s) acc += xp[r * d.w + s];
        y[q] = acc / static_cast<float>((r_hi - r_lo) * (s_hi - s_lo));
    }
}

// One thread per input pixel: sums dy / area over the adaptive windows containing it.
__global__ void adaptive_avg_pool2d_backward_kernel(float* grad_x, const float* grad_y,
                                                    Pool2dDims d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow, total = d.n * d.c * hw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t nc = q / hw, r = (q % hw) / d.w, s = q % d.w;
        const Range ri = adaptive_windows_containing(r, d.h, d.oh);
        const Range rj = adaptive_windows_containing(s, d.w, d.ow);
        float acc = 0.f;
        for (int64_t i = ri.lo; i < ri.hi; ++i) {
            const int64_t rows = adaptive_end(i, d.h, d.oh) - adaptive_start(i, d.h, d.oh);
            for (int64_t j = rj.lo; j < rj.hi; ++j) {
                const int64_t cols = adaptive_end(j, d.w, d.ow) - adaptive_start(j, d.w, d.ow);
                acc += grad_y[nc * ohw + i * d.ow + j] / static_cast<float>(rows * cols);
            }
        }
        grad_x[q] = acc;
    }
}

// Preconditions shared by the launchers (the op wrappers check shapes against tensors).
void check_dims(const Pool2dDims& d, const char* op) {
    OBL_CHECK(d.n >= 0 && d.c >= 0 && d.h >= 1 && d.w >= 1 && d.oh >= 1 && d.ow >= 1, op,
              ": bad dims (", d.n, ", ", d.c, ", ", d.h, ", ", d.w, ") -> (", d.oh, ", ", d.ow,
              ")");
}

}  // namespace

// Launchers: grid-stride over outputs (forward) or input pixels (backward), one thread each.
void max_pool2d_forward_cuda(float* y, int64_t* argmax, const float* x, Pool2dDims d, Stream s) {
    check_dims(d, "max_pool2d_forward_cuda");
    const int64_t total = d.n * d.c * d.oh * d.ow;
    if (total == 0) return;
    max_pool2d_forward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(y, argmax, x, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void max_pool2d_backward_cuda(float* grad_x, const float* grad_y, const int64_t* argmax,
                              Pool2dDims d, Stream s) {
    check_dims(d, "max_pool2d_backward_cuda");
    const int64_t total = d.n * d.c * d.h * d.w;
    if (total == 0) return;
    max_pool2d_backward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(grad_x, grad_y, argmax,
                                                                          d);
    OBL_LAUNCH_CHECK(s->stream);
}

void avg_pool2d_forward_cuda(float* y, const float* x, Pool2dDims d, Stream s) {
    check_dims(d, "avg_pool2d_forward_cuda");
    const int64_t total = d.n * d.c * d.oh * d.ow;
    if (total == 0) return;
    avg_pool2d_forward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(y, x, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void avg_pool2d_backward_cuda(float* grad_x, const float* grad_y, Pool2dDims d, Stream s) {
    check_dims(d, "avg_pool2d_backward_cuda");
    const int64_t total = d.n * d.c * d.h * d.w;
    if (total == 0) return;
    avg_pool2d_backward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(grad_x, grad_y, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void adaptive_avg_pool2d_forward_cuda(float* y, const float* x, Pool2dDims d, Stream s) {
    check_dims(d, "adaptive_avg_pool2d_forward_cuda");
    const int64_t total = d.n * d.c * d.oh * d.ow;
    if (total == 0) return;
    adaptive_avg_pool2d_forward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(y, x, d);
    OBL_LAUNCH_CHECK(s->stream);
}

void adaptive_avg_pool2d_backward_cuda(float* grad_x, const float* grad_y, Pool2dDims d, Stream s) {
    check_dims(d, "adaptive_avg_pool2d_backward_cuda");
    const int64_t total = d.n * d.c * d.h * d.w;
    if (total == 0) return;
    adaptive_avg_pool2d_backward_kernel<<<grid_for(total), kBlock, 0, s->stream>>>(grad_x, grad_y,
                                                                                   d);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
