// PyTorch's default initialisers on Philox draws (see init.h).
#include "nn/init.h"

#include <cmath>

#include "nn/ops/random.h"

namespace obl::init {

int64_t fan_in(const Shape& s) {
    OBL_CHECK(s.size() >= 1, "fan_in of a scalar shape");
    const int64_t f = s.size() == 1 ? s[0] : s[1] * s.prod(2, s.size());
    OBL_CHECK(f > 0, "fan_in of shape ", s, " is zero");
    return f;
}

Tensor uniform(const Shape& shape, double lo, double hi, uint64_t seed, uint64_t offset) {
    return rand_uniform(shape, lo, hi, seed, offset);
}

Tensor kaiming_uniform(const Shape& shape, int64_t fan, double a, uint64_t seed, uint64_t offset) {
    OBL_CHECK(fan > 0, "kaiming_uniform: fan_in must be positive, got ", fan);
    const double gain = std::sqrt(2.0 / (1.0 + a * a));
    const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan));
    return uniform(shape, -bound, bound, seed, offset);
}

Tensor default_weight(const Shape& weight_shape, uint64_t seed) {
    return kaiming_uniform(weight_shape, fan_in(weight_shape), std::sqrt(5.0), seed, 0);
}

Tensor default_bias(const Shape& weight_shape, uint64_t seed) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(weight_shape)));
    return uniform(Shape{weight_shape[0]}, -bound, bound, seed,
                   static_cast<uint64_t>(weight_shape.numel()));
}

}  // namespace obl::init
