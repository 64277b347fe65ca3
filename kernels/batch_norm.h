// Batch normalisation over (N, C, S), S = H W (or 1 for (N, C) inputs): statistics per channel
// over the N S values of that channel. Mirrors torch.nn.functional.batch_norm
// (aten/src/ATen/native/Normalization.cpp); Ioffe & Szegedy 2015.
//
// Shape letters: N batch, C channels, S spatial size, M = N S values per channel.
//   x, y (N, C, S);  weight, bias, running_mean, running_var, save_mean, save_invstd (C).
// Forward, training:
//   mean_c = (1/M) sum x,   var_c = (1/M) sum (x - mean_c)^2         (biased: used to normalise)
//   invstd_c = 1 / sqrt(var_c + eps),   xhat = (x - mean_c) invstd_c,   y = xhat w_c + b_c
//   running_mean = (1 - momentum) running_mean + momentum mean_c
//   running_var  = (1 - momentum) running_var  + momentum var_c M / (M - 1)   (unbiased; PyTorch)
// Forward, eval: mean_c = running_mean_c, invstd_c = 1 / sqrt(running_var_c + eps); same y.
// Both modes write the mean and invstd they used to save_mean / save_invstd for the backward.
// Backward (w = 1 and b = 0 when the affine parameters are absent):
//   dbias_c = sum dy,   dweight_c = sum dy xhat
//   training (the full formula through the batch statistics):
//     dx = w_c invstd_c / M (M dy - sum dy - xhat sum(dy xhat))
//   eval (statistics are constants):  dx = dy w_c invstd_c
// Running statistics are buffers, never differentiated.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct BatchNormDims {
    int64_t n = 0, c = 0, s = 1;  // x is (N, C, S)
    bool training = true;
    double momentum = 0.1;
    double eps = 1e-5;
};

// weight/bias may be null (affine off). running_mean/running_var are read in eval and updated in
// place in training; in training they may be null (no running statistics kept).
template <class T>
void batch_norm_forward_cpu(T* y, T* save_mean, T* save_invstd, T* running_mean, T* running_var,
                            const T* x, const T* weight, const T* bias, BatchNormDims d);
// grad_x / grad_weight / grad_bias may be null (not computed); weight may be null (taken as 1).
template <class T>
void batch_norm_backward_cpu(T* grad_x, T* grad_weight, T* grad_bias, const T* grad_y, const T* x,
                             const T* weight, const T* save_mean, const T* save_invstd,
                             BatchNormDims d);

void batch_norm_forward_cuda(float* y, float* save_mean, float* save_invstd, float* running_mean,
                             float* running_var, const float* x, const float* weight,
                             const float* bias, BatchNormDims d, Stream s);
void batch_norm_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias,
                              const float* grad_y, const float* x, const float* weight,
                              const float* save_mean, const float* save_invstd, BatchNormDims d,
                              Stream s);

}  // namespace obl::kernels
