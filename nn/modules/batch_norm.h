// Batch normalisation (torch/nn/modules/batchnorm.py), over channel dim 1:
//   training: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias with batch statistics
//             (biased var), and running_mean/var <- (1 - momentum) * running + momentum * batch
//             (unbiased var), num_batches_tracked += 1;
//   eval:     the same with running_mean/running_var (nothing is updated).
// Buffers as PyTorch's: running_mean (C) zeros, running_var (C) ones, num_batches_tracked (i64
// scalar) 0; parameters weight (C) ones, bias (C) zeros when affine.
#pragma once

#include <cstdint>

#include "nn/modules/module.h"

namespace obl {

// Shared implementation; use BatchNorm2d (N, C, H, W) or BatchNorm1d (N, C).
class BatchNorm : public Module {
 public:
    Tensor forward(const Tensor& x) override;

    int64_t num_features() const { return c_; }
    double eps() const { return eps_; }
    double momentum() const { return momentum_; }
    const Tensor& weight() const { return weight_; }  // undefined without affine
    const Tensor& bias() const { return bias_; }      // undefined without affine
    const Tensor& running_mean() const { return running_mean_; }
    const Tensor& running_var() const { return running_var_; }
    const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
    BatchNorm(const char* name, int rank, int64_t num_features, double eps, double momentum,
              bool affine);
    std::string describe_config() const;

    int64_t c_;
    double eps_, momentum_;
    bool affine_;

 private:
    const char* name_;
    int rank_;
    Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
    Tensor one_;  // i64 1 on the buffers' device, to count batches without a host round trip
};

class BatchNorm2d : public BatchNorm {
 public:
    explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                         bool affine = true);
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "BatchNorm2d(" + describe_config() + ")"; }
};

class BatchNorm1d : public BatchNorm {
 public:
    explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                         bool affine = true);
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "BatchNorm1d(" + describe_config() + ")"; }
};

}  // namespace obl
