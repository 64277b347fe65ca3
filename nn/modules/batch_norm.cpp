// BatchNorm modules (see batch_norm.h).
#include "nn/modules/batch_norm.h"

#include <sstream>

#include "kernels/common/memory.h"
#include "nn/cuda_context.h"
#include "nn/ops/conv.h"

namespace obl {

BatchNorm::BatchNorm(const char* name, int rank, int64_t num_features, double eps, double momentum,
                     bool affine)
    : c_(num_features), eps_(eps), momentum_(momentum), affine_(affine), name_(name), rank_(rank) {
    OBL_CHECK(c_ > 0, name_, ": num_features must be positive, got ", c_);
    OBL_CHECK(eps_ > 0 && momentum_ >= 0 && momentum_ <= 1, name_,
              ": need eps > 0 and momentum in ", "[0, 1], got eps=", eps_, " momentum=", momentum_);
    if (affine_) {
        weight_ = register_parameter("weight", Tensor::ones(Shape{c_}));
        bias_ = register_parameter("bias", Tensor::zeros(Shape{c_}));
    }
    running_mean_ = register_buffer("running_mean", Tensor::zeros(Shape{c_}));
    running_var_ = register_buffer("running_var", Tensor::ones(Shape{c_}));
    num_batches_tracked_ = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::I64));
}

Tensor BatchNorm::forward(const Tensor& x) {
    check_defined(x, name_, "x");
    OBL_CHECK(x.dim() == rank_ && x.size(1) == c_, repr(), ": input ", x.describe(), " must be ",
              rank_ == 4 ? "(N, C, H, W)" : "(N, C)", " with C = ", c_);
    const bool training = is_training();
    OBL_CHECK(!training || x.numel() / c_ > 1, repr(),
              ": training needs more than one value per channel, got input ", x.describe());
    Tensor y =
        batch_norm(x, weight_, bias_, running_mean_, running_var_, training, momentum_, eps_);
    if (training) {  // counted after the op, so a failed call leaves the counter alone
        const Tensor& n = num_batches_tracked_;
        if (n.device().is_cpu()) {
            ++*n.i64();
        } else {
            if (!one_.defined() || one_.device() != n.device())
                one_ = Tensor::ones({}, DType::I64, n.device());
            OBL_CUDA_ONLY(kernels::accumulate_cuda(n.raw(), one_.raw(), dtype_code(DType::I64), 1,
                                                   cuda_context().stream()));
        }
    }
    return y;
}

std::string BatchNorm::describe_config() const {
    std::ostringstream os;
    os << c_ << ", eps=" << eps_ << ", momentum=" << momentum_;
    if (!affine_) os << ", affine=false";
    return os.str();
}

BatchNorm2d::BatchNorm2d(int64_t num_features, double eps, double momentum, bool affine)
    : BatchNorm("BatchNorm2d", 4, num_features, eps, momentum, affine) {}

std::unique_ptr<Module> BatchNorm2d::clone() const {
    auto c = std::make_unique<BatchNorm2d>(c_, eps_, momentum_, affine_);
    c->copy_state_from(*this);
    return c;
}

BatchNorm1d::BatchNorm1d(int64_t num_features, double eps, double momentum, bool affine)
    : BatchNorm("BatchNorm1d", 2, num_features, eps, momentum, affine) {}

std::unique_ptr<Module> BatchNorm1d::clone() const {
    auto c = std::make_unique<BatchNorm1d>(c_, eps_, momentum_, affine_);
    c->copy_state_from(*this);
    return c;
}

}  // namespace obl
