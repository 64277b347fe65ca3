// LayerNorm module (see layer_norm.h).
#include "nn/modules/layer_norm.h"

#include <sstream>

#include "nn/ops/conv.h"

namespace obl {

LayerNorm::LayerNorm(int64_t dim, double eps, bool affine) : dim_(dim), eps_(eps), affine_(affine) {
    OBL_CHECK(dim_ > 0 && eps_ > 0, "LayerNorm: need dim > 0 and eps > 0, got dim=", dim_,
              " eps=", eps_);
    if (affine_) {
        weight_ = register_parameter("weight", Tensor::ones(Shape{dim_}));
        bias_ = register_parameter("bias", Tensor::zeros(Shape{dim_}));
    }
}

Tensor LayerNorm::forward(const Tensor& x) {
    check_defined(x, "LayerNorm", "x");
    OBL_CHECK(x.dim() >= 1 && x.size(-1) == dim_, repr(), ": input ", x.describe(),
              " must end with dim ", dim_);
    return layer_norm(x, weight_, bias_, eps_);
}

std::unique_ptr<Module> LayerNorm::clone() const {
    auto c = std::make_unique<LayerNorm>(dim_, eps_, affine_);
    c->copy_state_from(*this);
    return c;
}

std::string LayerNorm::repr() const {
    std::ostringstream os;
    os << "LayerNorm(" << dim_ << ", eps=" << eps_ << (affine_ ? "" : ", affine=false") << ")";
    return os.str();
}

}  // namespace obl
