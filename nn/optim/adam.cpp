// Adam / AdamW step: dispatch of kernels::adam_step_{cpu,cuda} over the parameters.
#include "nn/optim/adam.h"

#include <cmath>

#include "kernels/optim.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"

namespace obl {

namespace {

AdamOptions from_adamw(const AdamWOptions& o) {
    AdamOptions a;
    a.lr = o.lr;
    a.beta1 = o.beta1;
    a.beta2 = o.beta2;
    a.eps = o.eps;
    a.weight_decay = o.weight_decay;
    return a;
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options, bool decoupled)
    : Optimizer(std::move(params), options.lr), options_(options), decoupled_(decoupled) {
    const char* name = decoupled ? "AdamW" : "Adam";
    OBL_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
              name, ": betas must be in [0, 1), got (", options.beta1, ", ", options.beta2, ")");
    OBL_CHECK(std::isfinite(options.eps) && options.eps >= 0, name, ": eps must be >= 0, got ",
              options.eps);
    OBL_CHECK(options.weight_decay >= 0, name, ": weight_decay must be >= 0, got ",
              options.weight_decay);
    steps_.assign(params_.size(), 0);
    exp_avg_.resize(params_.size());
    exp_avg_sq_.resize(params_.size());
}

void Adam::step() {
    NoGradGuard no_grad;
    const char* name = decoupled_ ? "AdamW" : "Adam";
    for (size_t i = 0; i < params_.size(); ++i) {
        const Tensor g = checked_grad(i, name);
        if (!g.defined()) continue;
        Tensor& p = params_[i];
        if (!exp_avg_[i].defined()) {
            exp_avg_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
            exp_avg_sq_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
        }
        kernels::AdamParams k;
        k.n = p.numel();
        k.lr = lr_;
        k.beta1 = options_.beta1;
        k.beta2 = options_.beta2;
        k.eps = options_.eps;
        k.weight_decay = options_.weight_decay;
        k.decoupled = decoupled_;
        k.step = ++steps_[i];
        Tensor& m = exp_avg_[i];
        Tensor& v = exp_avg_sq_[i];
        switch (p.device().type) {
            case DeviceType::CPU:
                if (p.dtype() == DType::F64) {
                    kernels::adam_step_cpu<double>(p.f64(), m.f64(), v.f64(), g.f64(), k);
                } else {
                    kernels::adam_step_cpu<float>(p.f32(), m.f32(), v.f32(), g.f32(), k);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::adam_step_cuda(p.f32(), m.f32(), v.f32(), g.f32(), k,
                                                      cuda_context().stream()));
                break;
        }
    }
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : Adam(std::move(params), from_adamw(options), true) {}

}  // namespace obl
