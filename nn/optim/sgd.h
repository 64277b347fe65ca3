// Stochastic gradient descent with momentum (torch.optim.SGD, PyTorch semantics exactly; the
// update formula is in kernels/optim.h). The momentum buffer of a parameter is created on its
// first step with a gradient, as a copy of the (weight-decayed) gradient.
#pragma once

#include <vector>

#include "nn/optim/optimizer.h"

namespace obl {

struct SgdOptions {
    double lr = 1e-3;         // PyTorch's default
    double momentum = 0;      // mu >= 0
    double dampening = 0;     // tau: the new gradient enters the buffer with weight 1 - tau
    double weight_decay = 0;  // L2 penalty wd: g = grad + wd * param
    bool nesterov = false;    // needs momentum > 0 and dampening == 0 (checked, as PyTorch)
};

class Sgd : public Optimizer {
   public:
    Sgd(std::vector<Tensor> params, const SgdOptions& options);
    void step() override;

    const SgdOptions& options() const { return options_; }
    // Momentum buffer of parameter i: undefined before its first step (or when momentum == 0).
    const Tensor& momentum_buffer(size_t i) const { return buffers_.at(i); }

   private:
    SgdOptions options_;
    std::vector<Tensor> buffers_;
};

}  // namespace obl
