// Conv2d: y = conv2d(x, W, b) on NCHW images, W (out, in / groups, k, k)
// (torch/nn/modules/conv.py). Default init as PyTorch's (nn/init.h), deterministic per seed.
#pragma once

#include <cstdint>

#include "nn/modules/module.h"
#include "nn/ops/conv.h"

namespace obl {

class Conv2d : public Module {
 public:
    // Square kernel `kernel`; stride/padding/dilation/groups in `params`. Parameters "weight"
    // (out, in / groups, kernel, kernel) and, when bias, "bias" (out).
    Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Conv2dParams params = {},
           bool bias = true, uint64_t seed = 0);

    // x (N, in, H, W) -> (N, out, OH, OW).
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }  // undefined without bias
    const Conv2dParams& params() const { return params_; }

 private:
    int64_t in_, out_, kernel_;
    Conv2dParams params_;
    bool has_bias_;
    uint64_t seed_;
    Tensor weight_, bias_;
};

}  // namespace obl
