// Pooling modules (see pool.h).
#include "nn/modules/pool.h"

#include "nn/ops/conv.h"

namespace obl {

namespace {

void check_image(const Tensor& x, const std::string& who) {
    check_defined(x, who.c_str(), "x");
    OBL_CHECK(x.dim() == 4, who, ": input must be (N, C, H, W), got ", x.describe());
}

std::string window(const char* name, int64_t k, int64_t s, int64_t p) {
    return std::string(name) + "(kernel=" + std::to_string(k) + ", stride=" + std::to_string(s) +
           (p ? ", padding=" + std::to_string(p) : "") + ")";
}

}  // namespace

MaxPool2d::MaxPool2d(int64_t kernel, int64_t stride, int64_t padding)
    : kernel_(kernel), stride_(stride > 0 ? stride : kernel), padding_(padding) {
    OBL_CHECK(kernel_ > 0 && padding_ >= 0 && 2 * padding_ <= kernel_,
              "MaxPool2d: need kernel > 0 and 0 <= padding <= kernel / 2, got kernel=", kernel_,
              " padding=", padding_);
}

Tensor MaxPool2d::forward(const Tensor& x) {
    check_image(x, repr());
    return max_pool2d(x, kernel_, stride_, padding_);
}

std::unique_ptr<Module> MaxPool2d::clone() const {
    auto c = std::make_unique<MaxPool2d>(kernel_, stride_, padding_);
    c->set_own_training(is_training());
    return c;
}

std::string MaxPool2d::repr() const { return window("MaxPool2d", kernel_, stride_, padding_); }

AvgPool2d::AvgPool2d(int64_t kernel, int64_t stride, int64_t padding)
    : kernel_(kernel), stride_(stride > 0 ? stride : kernel), padding_(padding) {
    OBL_CHECK(kernel_ > 0 && padding_ >= 0 && 2 * padding_ <= kernel_,
              "AvgPool2d: need kernel > 0 and 0 <= padding <= kernel / 2, got kernel=", kernel_,
              " padding=", padding_);
}

Tensor AvgPool2d::forward(const Tensor& x) {
    check_image(x, repr());
    return avg_pool2d(x, kernel_, stride_, padding_);
}

std::unique_ptr<Module> AvgPool2d::clone() const {
    auto c = std::make_unique<AvgPool2d>(kernel_, stride_, padding_);
    c->set_own_training(is_training());
    return c;
}

std::string AvgPool2d::repr() const { return window("AvgPool2d", kernel_, stride_, padding_); }

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int64_t out_h, int64_t out_w) : out_h_(out_h), out_w_(out_w) {
    OBL_CHECK(out_h_ > 0 && out_w_ > 0, "AdaptiveAvgPool2d: output size must be positive, got ",
              out_h_, "x", out_w_);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
    check_image(x, repr());
    return adaptive_avg_pool2d(x, out_h_, out_w_);
}

std::unique_ptr<Module> AdaptiveAvgPool2d::clone() const {
    auto c = std::make_unique<AdaptiveAvgPool2d>(out_h_, out_w_);
    c->set_own_training(is_training());
    return c;
}

std::string AdaptiveAvgPool2d::repr() const {
    return "AdaptiveAvgPool2d(" + std::to_string(out_h_) + ", " + std::to_string(out_w_) + ")";
}

}  // namespace obl
