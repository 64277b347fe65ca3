// Conv2d module (see conv2d.h).
#include "nn/modules/conv2d.h"

#include "nn/init.h"

namespace obl {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Conv2dParams params,
               bool bias, uint64_t seed)
    : in_(in_channels),
      out_(out_channels),
      kernel_(kernel),
      params_(params),
      has_bias_(bias),
      seed_(seed) {
    OBL_CHECK(in_ > 0 && out_ > 0 && kernel_ > 0, "Conv2d: sizes must be positive, got in=", in_,
              " out=", out_, " kernel=", kernel_);
    OBL_CHECK(params_.groups >= 1 && in_ % params_.groups == 0 && out_ % params_.groups == 0,
              "Conv2d: groups=", params_.groups, " must divide in=", in_, " and out=", out_);
    const Shape w{out_, in_ / params_.groups, kernel_, kernel_};
    weight_ = register_parameter("weight", init::default_weight(w, seed));
    if (has_bias_) bias_ = register_parameter("bias", init::default_bias(w, seed));
}

Tensor Conv2d::forward(const Tensor& x) {
    check_defined(x, "Conv2d", "x");
    OBL_CHECK(x.dim() == 4 && x.size(1) == in_, repr(), ": input ", x.describe(), " must be (N, ",
              in_, ", H, W)");
    return conv2d(x, weight_, bias_, params_);
}

std::unique_ptr<Module> Conv2d::clone() const {
    auto c = std::make_unique<Conv2d>(in_, out_, kernel_, params_, has_bias_, seed_);
    c->copy_state_from(*this);
    return c;
}

std::string Conv2d::repr() const {
    std::string s = "Conv2d(" + std::to_string(in_) + ", " + std::to_string(out_) +
                    ", kernel=" + std::to_string(kernel_);
    const Conv2dParams& p = params_;
    if (p.stride_h != 1 || p.stride_w != 1)
        s += ", stride=(" + std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w) + ")";
    if (p.pad_h != 0 || p.pad_w != 0)
        s += ", padding=(" + std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w) + ")";
    if (p.dilation_h != 1 || p.dilation_w != 1)
        s += ", dilation=(" + std::to_string(p.dilation_h) + ", " + std::to_string(p.dilation_w) +
             ")";
    if (p.groups != 1) s += ", groups=" + std::to_string(p.groups);
    if (!has_bias_) s += ", bias=false";
    return s + ")";
}

}  // namespace obl
