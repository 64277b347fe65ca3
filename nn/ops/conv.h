// Convolution, pooling and normalisation (kernels/conv2d.h, pool.h, batch_norm.h, layer_norm.h).
// Images are NCHW. CUDA uses cuDNN where available.
#pragma once

#include <cstdint>

#include "nn/tensor.h"

namespace obl {

struct Conv2dParams {
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    int64_t groups = 1;
};

// x (N, C, H, W), weight (O, C / groups, KH, KW), bias (O) or undefined -> (N, O, OH, OW).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);

// Max / average pooling (padding counts as -inf for max; avg divides by the full window,
// PyTorch's count_include_pad=True), floor output size.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
// PyTorch's adaptive windows: start = floor(i * H / OH), end = ceil((i + 1) * H / OH).
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// Batch norm over (N, C, H, W) or (N, C). Training: normalise by batch statistics (biased var)
// and update running_mean/running_var in place with `momentum` (unbiased var, PyTorch's rule);
// eval: normalise by the running statistics. weight/bias (C) may be undefined (affine off).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// Layer norm over the last dim D: y = (x - mean) / sqrt(var + eps) * weight + bias.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

}  // namespace obl
