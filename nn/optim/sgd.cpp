// SGD step: dispatch of kernels::sgd_step_{cpu,cuda} over the parameters.
#include "nn/optim/sgd.h"

#include "kernels/optim.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"

namespace obl {

Sgd::Sgd(std::vector<Tensor> params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr), options_(options) {
    OBL_CHECK(options.momentum >= 0, "Sgd: momentum must be >= 0, got ", options.momentum);
    OBL_CHECK(options.weight_decay >= 0, "Sgd: weight_decay must be >= 0, got ",
              options.weight_decay);
    OBL_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "Sgd: Nesterov momentum requires momentum > 0 and zero dampening, got momentum ",
              options.momentum, ", dampening ", options.dampening);
    buffers_.resize(params_.size());
}

void Sgd::step() {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
        const Tensor g = checked_grad(i, "Sgd");
        if (!g.defined()) continue;
        Tensor& p = params_[i];
        kernels::SgdParams k;
        k.n = p.numel();
        k.lr = lr_;
        k.momentum = options_.momentum;
        k.dampening = options_.dampening;
        k.weight_decay = options_.weight_decay;
        k.nesterov = options_.nesterov;
        k.first_step = !buffers_[i].defined();
        if (options_.momentum != 0 && k.first_step)
            buffers_[i] = Tensor::empty(p.shape(), p.dtype(), p.device());  // set by the kernel
        Tensor& buf = buffers_[i];
        switch (p.device().type) {
            case DeviceType::CPU:
                if (p.dtype() == DType::F64) {
                    kernels::sgd_step_cpu<double>(p.f64(), buf.defined() ? buf.f64() : nullptr,
                                                  g.f64(), k);
                } else {
                    kernels::sgd_step_cpu<float>(p.f32(), buf.defined() ? buf.f32() : nullptr,
                                                 g.f32(), k);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::sgd_step_cuda(p.f32(), buf.defined() ? buf.f32() : nullptr,
                                                     g.f32(), k, cuda_context().stream()));
                break;
        }
    }
}

}  // namespace obl
