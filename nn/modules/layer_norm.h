// LayerNorm over the last dim D (torch/nn/modules/normalization.py with normalized_shape = D):
//   y = (x - mean) / sqrt(var + eps) * weight + bias, biased var; weight (D) ones, bias (D) zeros.
#pragma once

#include <cstdint>

#include "nn/modules/module.h"

namespace obl {

class LayerNorm : public Module {
 public:
    explicit LayerNorm(int64_t dim, double eps = 1e-5, bool affine = true);

    // x (..., D) -> (..., D).
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

    const Tensor& weight() const { return weight_; }  // undefined without affine
    const Tensor& bias() const { return bias_; }      // undefined without affine

 private:
    int64_t dim_;
    double eps_;
    bool affine_;
    Tensor weight_, bias_;
};

}  // namespace obl
