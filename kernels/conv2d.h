// 2-D convolution (cross-correlation, PyTorch's Conv2d) with stride, padding, dilation, groups
// and an optional bias. Mirrors torch/nn/modules/conv.py semantics (aten/src/ATen/native/
// ConvolutionMM2d.cpp for the im2col formulation).
//
// Shape letters: N batch, C input channels, H/W input size, O output channels, G groups,
// Cg = C / G and Og = O / G channels per group, KH/KW kernel size, OH/OW output size.
//   x (N, C, H, W)   weight (O, Cg, KH, KW)   bias (O)   y (N, O, OH, OW)
//   OH = (H + 2 pad_h - dilation_h (KH - 1) - 1) / stride_h + 1   (floor), likewise OW.
//
// Forward, for output channel o in group g = o / Og:
//   y[n,o,i,j] = bias[o] + sum_{c<Cg, a<KH, b<KW} x[n, g Cg + c, i sh - ph + a dh, j sw - pw + b
//   dw]
//                                                 * weight[o, c, a, b]
//   (x reads outside [0, H) x [0, W) are zero: the padding).
// Backward, with dy = dL/dy:
//   dx[n, g Cg + c, r, s] = sum_{o in g, a, b, (i, j): i sh - ph + a dh = r, j sw - pw + b dw = s}
//                           dy[n,o,i,j] * weight[o, c, a, b]
//   dweight[o,c,a,b]      = sum_{n,i,j} dy[n,o,i,j] * x[n, g Cg + c, i sh - ph + a dh, ...]
//   dbias[o]              = sum_{n,i,j} dy[n,o,i,j]
//
// As matrices (im2col): per image and group, col (Cg KH KW, OH OW) holds the receptive fields, so
//   y_g = weight_g (Og, Cg KH KW) @ col,   dweight_g = dy_g @ col^T,   dcol = weight_g^T @ dy_g
// and dx = col2im(dcol) (the adjoint of im2col: scatter-add back onto the image).
//
// Implementations:
//   conv2d_*_cpu<T>       reference: direct loops, sums in double (f32 and f64).
//   conv2d_*_fast_cpu     f32: im2col + kernels::gemm_fast_cpu, batch-parallel, deterministic
//                         for any thread count (kernels/cpu/fast/conv2d.cpp).
//   conv2d_*_cuda         f32: cuDNN when built with it (kernels/cuda/conv2d_cudnn.cpp), else
//                         im2col/col2im kernels + kernels::gemm_cuda (kernels/cuda/conv2d.cu).
// Backward entry points compute only the gradients whose pointer is non-null, and WRITE them.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct Conv2dDims {
    int64_t n = 0, c = 0, h = 0, w = 0;  // input (N, C, H, W)
    int64_t o = 0, kh = 0, kw = 0;       // weight (O, C / groups, KH, KW)
    int64_t oh = 0, ow = 0;              // output (N, O, OH, OW), see conv2d_out_size
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    int64_t groups = 1;
};

// Output extent along one axis (floor division); <= 0 means the kernel does not fit.
inline int64_t conv2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad,
                               int64_t dilation) {
    const int64_t span = in + 2 * pad - dilation * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

// Multiply-adds of the forward pass: N O OH OW Cg KH KW (the backward does twice as many).
inline int64_t conv2d_macs(const Conv2dDims& d) {
    return d.n * d.o * d.oh * d.ow * (d.c / d.groups) * d.kh * d.kw;
}

// bias may be null (no bias).
template <class T>
void conv2d_forward_cpu(T* y, const T* x, const T* weight, const T* bias, Conv2dDims d);
// Any of grad_x, grad_weight, grad_bias may be null (not computed).
template <class T>
void conv2d_backward_cpu(T* grad_x, T* grad_weight, T* grad_bias, const T* grad_y, const T* x,
                         const T* weight, Conv2dDims d);

void conv2d_forward_fast_cpu(float* y, const float* x, const float* weight, const float* bias,
                             Conv2dDims d);
void conv2d_backward_fast_cpu(float* grad_x, float* grad_weight, float* grad_bias,
                              const float* grad_y, const float* x, const float* weight,
                              Conv2dDims d);

void conv2d_forward_cuda(float* y, const float* x, const float* weight, const float* bias,
                         Conv2dDims d, Stream s);
void conv2d_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias, const float* grad_y,
                          const float* x, const float* weight, Conv2dDims d, Stream s);

}  // namespace obl::kernels
