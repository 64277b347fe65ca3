// Pooling modules over NCHW images (torch/nn/modules/pooling.py), wrapping nn/ops/conv.h:
//   MaxPool2d:         y = max over each k x k window (padding counts as -inf);
//   AvgPool2d:         y = mean over each k x k window (count_include_pad = True);
//   AdaptiveAvgPool2d: PyTorch's adaptive windows start = floor(i H / OH), end = ceil((i+1) H /
//   OH).
// Floor output size; stride defaults to the kernel size as in PyTorch.
#pragma once

#include <cstdint>

#include "nn/modules/module.h"

namespace obl {

class MaxPool2d : public Module {
 public:
    // stride <= 0 means stride = kernel.
    explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

 private:
    int64_t kernel_, stride_, padding_;
};

class AvgPool2d : public Module {
 public:
    // stride <= 0 means stride = kernel.
    explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

 private:
    int64_t kernel_, stride_, padding_;
};

class AdaptiveAvgPool2d : public Module {
 public:
    AdaptiveAvgPool2d(int64_t out_h, int64_t out_w);
    explicit AdaptiveAvgPool2d(int64_t out) : AdaptiveAvgPool2d(out, out) {}
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

 private:
    int64_t out_h_, out_w_;
};

}  // namespace obl
