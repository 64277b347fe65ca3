// 2-D pooling over NCHW planes: max, average (count_include_pad) and adaptive average. Mirrors
// torch.nn.functional.max_pool2d / avg_pool2d / adaptive_avg_pool2d (aten/src/ATen/native/
// DilatedMaxPool2d.cpp, AveragePool2d.cpp, AdaptiveAveragePooling.cpp), floor output size.
//
// Shape letters: N batch, C channels, H/W input size, OH/OW output size, KH/KW window,
// sh/sw stride, ph/pw padding.  x (N, C, H, W) -> y (N, C, OH, OW); every plane is independent.
//   OH = (H + 2 ph - KH) / sh + 1   (floor), likewise OW.
// Window of output (i, j): rows r in [i sh - ph, i sh - ph + KH), cols s in [j sw - pw, ... + KW).
//
// max:  y[i,j] = max over the window's in-image pixels (padding counts as -inf; NaN propagates);
//       argmax[i,j] = r W + s of the FIRST maximum in row-major window order (PyTorch's rule).
//       dx[r,s] = sum over outputs with argmax = (r, s) of dy[i,j]   (overlapping windows add).
// avg:  y[i,j] = (1 / (KH KW)) sum over the window's in-image pixels. Dividing by the full window,
//       padding included, is PyTorch's count_include_pad=True; with floor output size a window
//       never extends past the padded image, so the divisor is always KH KW.
//       dx[r,s] = sum over windows containing (r, s) of dy[i,j] / (KH KW).
// adaptive avg (kh/kw/stride/pad unused): rows [floor(i H / OH), ceil((i + 1) H / OH)), likewise
//       cols; y = mean over the window; windows may overlap when OH does not divide H (7 -> 3:
//       [0,3) [2,5) [4,7)). dx[r,s] = sum over windows containing (r, s) of dy / window area.
//       Row r lies in the windows i in [floor(r OH / H), ceil((r + 1) OH / H)).
//
// The CPU references scatter per plane (one plane per iteration, so no races); the CUDA kernels
// gather (one thread per input pixel walks the outputs that read it), so no atomics are needed.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct Pool2dDims {
    int64_t n = 0, c = 0, h = 0, w = 0;  // input (N, C, H, W)
    int64_t oh = 0, ow = 0;              // output (N, C, OH, OW)
    int64_t kh = 1, kw = 1;              // window (unused by adaptive pooling)
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
};

// Floor output extent; <= 0 means the window does not fit.
constexpr int64_t pool2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad) {
    const int64_t span = in + 2 * pad - k;
    return span < 0 ? 0 : span / stride + 1;
}

// Adaptive window bounds [start, end) of output index i (PyTorch's start_index / end_index).
// constexpr so that CUDA kernels can call them (the kernels build with --expt-relaxed-constexpr).
constexpr int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
constexpr int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
    return ((i + 1) * in + out - 1) / out;
}

template <class T>
void max_pool2d_forward_cpu(T* y, int64_t* argmax, const T* x, Pool2dDims d);
template <class T>
void max_pool2d_backward_cpu(T* grad_x, const T* grad_y, const int64_t* argmax, Pool2dDims d);
template <class T>
void avg_pool2d_forward_cpu(T* y, const T* x, Pool2dDims d);
template <class T>
void avg_pool2d_backward_cpu(T* grad_x, const T* grad_y, Pool2dDims d);
template <class T>
void adaptive_avg_pool2d_forward_cpu(T* y, const T* x, Pool2dDims d);
template <class T>
void adaptive_avg_pool2d_backward_cpu(T* grad_x, const T* grad_y, Pool2dDims d);

void max_pool2d_forward_cuda(float* y, int64_t* argmax, const float* x, Pool2dDims d, Stream s);
void max_pool2d_backward_cuda(float* grad_x, const float* grad_y, const int64_t* argmax,
                              Pool2dDims d, Stream s);
void avg_pool2d_forward_cuda(float* y, const float* x, Pool2dDims d, Stream s);
void avg_pool2d_backward_cuda(float* grad_x, const float* grad_y, Pool2dDims d, Stream s);
void adaptive_avg_pool2d_forward_cuda(float* y, const float* x, Pool2dDims d, Stream s);
void adaptive_avg_pool2d_backward_cuda(float* grad_x, const float* grad_y, Pool2dDims d, Stream s);

}  // namespace obl::kernels
