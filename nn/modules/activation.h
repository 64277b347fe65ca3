// Parameter-free activation and reshaping modules (torch/nn/modules/activation.py, flatten.py):
//   ReLU y = max(x, 0); GELU y = x Phi(x) (exact, erf); Tanh; Sigmoid y = 1 / (1 + e^-x);
//   Flatten: (N, d1, d2, ...) -> (N, d1 * d2 * ...) from start_dim (a free view).
#pragma once

#include "nn/modules/module.h"

namespace obl {

class ReLU : public Module {
 public:
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "ReLU"; }
};

class GELU : public Module {
 public:
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "GELU"; }
};

class Tanh : public Module {
 public:
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "Tanh"; }
};

class Sigmoid : public Module {
 public:
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "Sigmoid"; }
};

class Flatten : public Module {
 public:
    explicit Flatten(int start_dim = 1) : start_dim_(start_dim) {}
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

 private:
    int start_dim_;
};

}  // namespace obl
