// Linear: y = x W^T + b, W (out, in), b (out) (torch/nn/modules/linear.py). Default init as
// PyTorch's (nn/init.h), deterministic per seed.
#pragma once

#include <cstdint>

#include "nn/modules/module.h"

namespace obl {

class Linear : public Module {
 public:
    // x (..., in) -> (..., out). Parameters "weight" (out, in) and, when bias, "bias" (out).
    Linear(int64_t in_features, int64_t out_features, bool bias = true, uint64_t seed = 0);

    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }  // undefined without bias
    int64_t in_features() const { return in_; }
    int64_t out_features() const { return out_; }

 private:
    int64_t in_, out_;
    bool has_bias_;
    uint64_t seed_;
    Tensor weight_, bias_;
};

}  // namespace obl
