// Linear module (see linear.h).
#include "nn/modules/linear.h"

#include "nn/init.h"
#include "nn/ops/matmul.h"

namespace obl {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, uint64_t seed)
    : in_(in_features), out_(out_features), has_bias_(bias), seed_(seed) {
    OBL_CHECK(in_ > 0 && out_ > 0, "Linear: sizes must be positive, got in=", in_, " out=", out_);
    const Shape w{out_, in_};
    weight_ = register_parameter("weight", init::default_weight(w, seed));
    if (has_bias_) bias_ = register_parameter("bias", init::default_bias(w, seed));
}

Tensor Linear::forward(const Tensor& x) {
    check_defined(x, "Linear", "x");
    OBL_CHECK(x.dim() >= 1 && x.size(-1) == in_, repr(), ": input ", x.describe(),
              " must end with dim ", in_);
    return linear(x, weight_, bias_);
}

std::unique_ptr<Module> Linear::clone() const {
    auto c = std::make_unique<Linear>(in_, out_, has_bias_, seed_);
    c->copy_state_from(*this);
    return c;
}

std::string Linear::repr() const {
    return "Linear(in=" + std::to_string(in_) + ", out=" + std::to_string(out_) +
           (has_bias_ ? "" : ", bias=false") + ")";
}

}  // namespace obl
