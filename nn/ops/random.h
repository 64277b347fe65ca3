// Random tensors from Philox4x32-10 (kernels/common/philox.h, kernels/random.h). Element i is
// stream position e = i + offset under key `seed`: word e % 4 of Philox block e / 4 — never the
// launch geometry — so CPU and CUDA give the same values for the same (seed, offset).
#pragma once

#include <cstdint>

#include "nn/tensor.h"

namespace obl {

Tensor rand_uniform(const Shape& shape, double lo, double hi, uint64_t seed, uint64_t offset = 0,
                    Device device = Device::cpu());
Tensor randn(const Shape& shape, double mean, double std, uint64_t seed, uint64_t offset = 0,
             Device device = Device::cpu());
// Uniform integers in [0, n) as i64 (shuffling, random labels).
Tensor randint(const Shape& shape, int64_t n, uint64_t seed, uint64_t offset = 0,
               Device device = Device::cpu());

}  // namespace obl
