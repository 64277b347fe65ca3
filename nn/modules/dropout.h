// Dropout (torch/nn/modules/dropout.py): inverted dropout, in training keep each element with
// probability 1 - p and scale it by 1 / (1 - p); identity in eval mode or when p == 0.
// Randomness: call k (k = 0, 1, ... counted over training-mode calls) uses the Philox key
// splitmix64(seed + k * golden_ratio), so successive calls draw different masks while a run, and a
// clone continuing from the same point, is reproducible. No global RNG (DESIGN.md §M.7).
#pragma once

#include <cstdint>

#include "nn/modules/module.h"

namespace obl {

class Dropout : public Module {
 public:
    explicit Dropout(double p = 0.5, uint64_t seed = 0);

    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;  // copies the call counter too
    std::string repr() const override;

    double p() const { return p_; }
    uint64_t calls() const { return calls_; }
    void set_seed(uint64_t seed, uint64_t calls = 0) { seed_ = seed, calls_ = calls; }

 private:
    double p_;
    uint64_t seed_;
    uint64_t calls_ = 0;
};

}  // namespace obl
