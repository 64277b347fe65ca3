// Optimizer update kernels: SGD (momentum, dampening, Nesterov, weight decay) and Adam / AdamW.
// PyTorch semantics exactly (torch/optim/sgd.py and adam.py / adamw.py, the single-tensor
// "foreach=False" paths, maximize=False, amsgrad=False). Elementwise over n parameters, in place.
//
// SGD, per element, lr = learning rate, mu = momentum, tau = dampening, wd = weight decay:
//   g   = grad + wd * param
//   if mu != 0:
//       buf = first_step ? g                              (PyTorch clones the gradient)
//                        : mu * buf + (1 - tau) * g
//       g   = nesterov ? g + mu * buf : buf
//   param = param - lr * g
// Adam / AdamW at step t >= 1 (t counts this update), per element:
//   AdamW: param = param * (1 - lr * wd)                (decoupled decay, before the update)
//   Adam:  g = grad + wd * param                         (L2 penalty folded into the gradient)
//   m     = beta1 * m + (1 - beta1) * g                  (exp_avg)
//   v     = beta2 * v + (1 - beta2) * g^2                (exp_avg_sq)
//   param = param - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// No backward: these are not differentiable ops. Parameters, gradients and state share one dtype.
//
// Implementations: *_cpu<T> reference (float/double), each element computed in double and
// rounded on store, OpenMP over elements; *_cuda float, one thread per element, float math with
// the bias corrections folded into two scalars on the host.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct SgdParams {
    int64_t n = 0;
    double lr = 0;
    double momentum = 0;
    double dampening = 0;
    double weight_decay = 0;
    bool nesterov = false;
    bool first_step = false;  // momentum buffer not yet initialised: buf = g
};

struct AdamParams {
    int64_t n = 0;
    double lr = 0;
    double beta1 = 0.9, beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;
    bool decoupled = false;  // false: Adam (L2 in the gradient); true: AdamW
    int64_t step = 1;        // t, the 1-based index of this update (bias correction)
};

// momentum_buf is read and written when momentum != 0 and may be null otherwise.
template <class T>
void sgd_step_cpu(T* param, T* momentum_buf, const T* grad, SgdParams p);
template <class T>
void adam_step_cpu(T* param, T* exp_avg, T* exp_avg_sq, const T* grad, AdamParams p);

void sgd_step_cuda(float* param, float* momentum_buf, const float* grad, SgdParams p, Stream s);
void adam_step_cuda(float* param, float* exp_avg, float* exp_avg_sq, const float* grad,
                    AdamParams p, Stream s);

}  // namespace obl::kernels
