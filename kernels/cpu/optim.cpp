// CPU reference for the SGD and Adam/AdamW updates (kernels/optim.h; PyTorch's
// torch/optim/sgd.py and adam.py single-tensor paths). Each element is computed in double from
// the stored values and rounded once per stored quantity.
#include "kernels/optim.h"

#include <cmath>
#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

// torch/optim/sgd.py, _single_tensor_sgd: d_p = grad.add(param, alpha=wd); buf = clone(d_p) on the
// first step, else buf.mul_(momentum).add_(d_p, alpha=1 - dampening); d_p = d_p.add(buf,
// alpha=momentum) with Nesterov, else buf; param.add_(d_p, alpha=-lr).
template <class T>
void sgd_step_cpu(T* param, T* momentum_buf, const T* grad, SgdParams p) {
    OBL_CHECK(p.momentum == 0 || momentum_buf != nullptr, "sgd_step: momentum ", p.momentum,
              " needs a momentum buffer");
#pragma omp parallel for if (parallel_worth_it(p.n * 8)) schedule(static)
    for (int64_t i = 0; i < p.n; ++i) {
        double g = static_cast<double>(grad[i]) + p.weight_decay * static_cast<double>(param[i]);
        if (p.momentum != 0) {
            // The unrounded buf feeds the Nesterov term; the stored copy is rounded to T.
            const double buf = p.first_step ? g
                                            : p.momentum * static_cast<double>(momentum_buf[i]) +
                                                  (1 - p.dampening) * g;
            momentum_buf[i] = static_cast<T>(buf);
            g = p.nesterov ? g + p.momentum * buf : buf;
        }
        param[i] = static_cast<T>(static_cast<double>(param[i]) - p.lr * g);
    }
}

// torch/optim/adam.py, _single_tensor_adam (adamw.py: the decay line becomes
// param.mul_(1 - lr * wd)): exp_avg.lerp_(grad, 1 - beta1);
// exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
// denom = exp_avg_sq.sqrt() / sqrt(bias_correction2) + eps;
// param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1).
template <class T>
void adam_step_cpu(T* param, T* exp_avg, T* exp_avg_sq, const T* grad, AdamParams p) {
    OBL_CHECK(p.step >= 1, "adam_step: step must be >= 1, got ", p.step);
    const double bias_correction1 = 1 - std::pow(p.beta1, static_cast<double>(p.step));
    const double bias_correction2 = 1 - std::pow(p.beta2, static_cast<double>(p.step));
    const double step_size = p.lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    // ~16 flops per element (one sqrt, one division) against ~8 for SGD: the parallel thresholds.
#pragma omp parallel for if (parallel_worth_it(p.n * 16)) schedule(static)
    for (int64_t i = 0; i < p.n; ++i) {
        double w = static_cast<double>(param[i]);
        double g = static_cast<double>(grad[i]);
        if (p.decoupled) {
            w *= 1 - p.lr * p.weight_decay;
        } else {
            g += p.weight_decay * w;
        }
        const double m = p.beta1 * static_cast<double>(exp_avg[i]) + (1 - p.beta1) * g;
        const double v = p.beta2 * static_cast<double>(exp_avg_sq[i]) + (1 - p.beta2) * g * g;
        exp_avg[i] = static_cast<T>(m);
        exp_avg_sq[i] = static_cast<T>(v);
        const double denom = std::sqrt(v) / bias_correction2_sqrt + p.eps;
        param[i] = static_cast<T>(w - step_size * m / denom);
    }
}

template void sgd_step_cpu<float>(float*, float*, const float*, SgdParams);
template void sgd_step_cpu<double>(double*, double*, const double*, SgdParams);
template void adam_step_cpu<float>(float*, float*, float*, const float*, AdamParams);
template void adam_step_cpu<double>(double*, double*, double*, const double*, AdamParams);

}  // namespace obl::kernels
