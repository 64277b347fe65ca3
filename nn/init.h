// Parameter initialisation, as PyTorch's defaults for nn.Linear / nn.Conv2d
// (torch/nn/modules/linear.py reset_parameters, torch/nn/init.py):
//   weight ~ kaiming_uniform(a = sqrt 5): bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 +
//   a^2))
//            which is exactly bound = 1 / sqrt(fan_in);
//   bias   ~ U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)).
// fan_in of a weight (O, I, k...) is I * prod(k). Values come from obl::rand_uniform (Philox), so
// the same (seed, offset) gives the same tensor on every device and every run; the draws are not
// PyTorch's (its CPU generator is a Mersenne twister), only the distribution is.
#pragma once

#include <cstdint>

#include "nn/tensor.h"

namespace obl::init {

// fan_in = shape[1] * prod(shape[2:]) for a weight of rank >= 2; shape[0] for rank 1.
int64_t fan_in(const Shape& weight_shape);

// U(lo, hi) of `shape` (f32), Philox stream (seed, offset).
Tensor uniform(const Shape& shape, double lo, double hi, uint64_t seed, uint64_t offset = 0);
// U(-b, b) with b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)) (leaky-ReLU gain).
Tensor kaiming_uniform(const Shape& shape, int64_t fan_in, double a, uint64_t seed,
                       uint64_t offset = 0);

// PyTorch's default Linear/Conv2d parameters for a weight of `weight_shape`: the weight from
// (seed, offset 0), the bias (weight_shape[0]) from (seed, offset weight numel), so the two
// never share random draws. Different layers should get different seeds.
Tensor default_weight(const Shape& weight_shape, uint64_t seed);
Tensor default_bias(const Shape& weight_shape, uint64_t seed);

}  // namespace obl::init
