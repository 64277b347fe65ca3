// Layer normalisation over the last dim D (torch.nn.functional.layer_norm with normalized_shape =
// (D,); aten/src/ATen/native/layer_norm.cpp; Ba, Kiros & Hinton 2016).
//
// Shape letters: R rows (the product of all leading dims, e.g. N T), D the normalised dim.
//   x, y (R, D);  weight, bias (D);  save_mean, save_rstd (R).
// Forward, per row:
//   mean = (1/D) sum_d x,   var = (1/D) sum_d (x - mean)^2 (biased),   rstd = 1 / sqrt(var + eps)
//   xhat = (x - mean) rstd,   y = xhat weight + bias
// Backward, per row, with g = dy weight (weight = 1 when absent):
//   dx = rstd (g - mean_d(g) - xhat mean_d(g xhat))
//   dweight[d] = sum_rows dy xhat,   dbias[d] = sum_rows dy
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct LayerNormDims {
    int64_t rows = 0, d = 0;  // x is (R, D)
    double eps = 1e-5;
};

// weight/bias may be null (no elementwise affine).
template <class T>
void layer_norm_forward_cpu(T* y, T* save_mean, T* save_rstd, const T* x, const T* weight,
                            const T* bias, LayerNormDims d);
// grad_x / grad_weight / grad_bias may be null (not computed); weight may be null (taken as 1).
template <class T>
void layer_norm_backward_cpu(T* grad_x, T* grad_weight, T* grad_bias, const T* grad_y, const T* x,
                             const T* weight, const T* save_mean, const T* save_rstd,
                             LayerNormDims d);

void layer_norm_forward_cuda(float* y, float* save_mean, float* save_rstd, const float* x,
                             const float* weight, const float* bias, LayerNormDims d, Stream s);
void layer_norm_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias,
                              const float* grad_y, const float* x, const float* weight,
                              const float* save_mean, const float* save_rstd, LayerNormDims d,
                              Stream s);

}  // namespace obl::kernels
