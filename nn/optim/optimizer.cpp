// Optimizer base: parameter checks, zero_grad, learning rate.
#include "nn/optim/optimizer.h"

#include <cmath>

namespace obl {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(0) {
    set_lr(lr);
    for (size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        OBL_CHECK(p.defined(), "optimizer: parameter ", i, " is an undefined tensor");
        OBL_CHECK(is_floating(p.dtype()), "optimizer: parameter ", i, " must be f32 or f64, got ",
                  p.describe());
        OBL_CHECK(p.is_leaf(), "optimizer: parameter ", i, " (", p.describe(),
                  ") is not a leaf tensor; optimise the leaf it was computed from");
        OBL_CHECK(p.device().is_cpu() || p.dtype() == DType::F32, "optimizer: parameter ", i,
                  " is ", p.describe(), "; CUDA parameters must be f32");
    }
}

void Optimizer::zero_grad() {
    for (Tensor& p : params_) p.zero_grad();
}

void Optimizer::set_lr(double lr) {
    OBL_CHECK(std::isfinite(lr) && lr >= 0,
              "optimizer: learning rate must be finite and >= 0, got ", lr);
    lr_ = lr;
}

Tensor Optimizer::checked_grad(size_t i, const char* optimizer) const {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) return g;
    OBL_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(),
              optimizer, ": gradient ", g.describe(), " does not match parameter ", i, " ",
              p.describe());
    return g;
}

}  // namespace obl
