// Adam (torch.optim.Adam: L2 weight decay folded into the gradient) and AdamW (torch.optim.AdamW:
// decoupled decay param *= 1 - lr * wd), PyTorch semantics exactly, amsgrad off; the update is in
// kernels/optim.h. Each parameter keeps its own step count t (bias correction 1 - beta^t) and
// moments m, v, created as zeros on its first step with a gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/optim/optimizer.h"

namespace obl {

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.999;  // in [0, 1)
    double eps = 1e-8;                  // added to sqrt(v_hat), as PyTorch
    double weight_decay = 0;            // Adam's default
};

// The same fields with AdamW's default decay (PyTorch: 1e-2).
struct AdamWOptions {
    double lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 1e-2;
};

class Adam : public Optimizer {
   public:
    Adam(std::vector<Tensor> params, const AdamOptions& options);
    void step() override;

    const AdamOptions& options() const { return options_; }
    bool decoupled() const { return decoupled_; }
    // Per-parameter state: updates taken so far, and the moments (undefined before the first).
    int64_t step_count(size_t i) const { return steps_.at(i); }
    const Tensor& exp_avg(size_t i) const { return exp_avg_.at(i); }
    const Tensor& exp_avg_sq(size_t i) const { return exp_avg_sq_.at(i); }

   protected:
    Adam(std::vector<Tensor> params, const AdamOptions& options, bool decoupled);

   private:
    AdamOptions options_;
    bool decoupled_;
    std::vector<int64_t> steps_;
    std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

class AdamW : public Adam {
   public:
    AdamW(std::vector<Tensor> params, const AdamWOptions& options);
};

}  // namespace obl
