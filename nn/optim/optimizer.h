// Optimizer base class (PyTorch's torch.optim.Optimizer, one parameter group): holds the
// parameters, updates them in place in step(), clears their gradients in zero_grad().
//
// Contract of every optimizer here:
//   - step() runs under NoGradGuard and writes parameter data in place (the Tensor handles the
//     caller holds see the new values); it never records autograd history.
//   - A parameter whose grad() is undefined is skipped, and its state (momentum, Adam moments,
//     step count) does not advance, as in PyTorch.
//   - Gradients must match their parameter's shape, dtype and device. CPU: f32 and f64; CUDA: f32.
//   - The learning rate is a plain number: schedules (nn/optim/schedule.h) compute lr_at(step) and
//     the training loop calls set_lr() with it. No hidden step counter drives the lr.
#pragma once

#include <vector>

#include "nn/tensor.h"

namespace obl {

class Optimizer {
   public:
    Optimizer(std::vector<Tensor> params, double lr);
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // One update of every parameter that has a gradient.
    virtual void step() = 0;
    // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
    void zero_grad();

    double lr() const { return lr_; }
    void set_lr(double lr);  // lr >= 0
    const std::vector<Tensor>& params() const { return params_; }

   protected:
    // The gradient of params_[i] after checking it against the parameter; undefined if none.
    Tensor checked_grad(size_t i, const char* optimizer) const;

    std::vector<Tensor> params_;
    double lr_;
};

}  // namespace obl
