// dropout (nn/ops/shape_ops.h): inverted dropout with a Philox mask regenerated from (seed, index)
// in forward and backward (kernels/dropout.h), so nothing but the seed is kept for backward.
#include "kernels/dropout.h"

#include <cmath>

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/shape_ops.h"

namespace obl {

namespace {

// y = mask * x / (1 - p); also the backward, applied to dy.
Tensor apply_dropout(const Tensor& x, const kernels::DropoutDims& d, bool backward) {
    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                backward ? kernels::dropout_backward_cpu<double>(y.f64(), x.f64(), d)
                         : kernels::dropout_forward_cpu<double>(y.f64(), x.f64(), d);
            } else {
                backward ? kernels::dropout_backward_cpu<float>(y.f32(), x.f32(), d)
                         : kernels::dropout_forward_cpu<float>(y.f32(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CHECK(x.dtype() == DType::F32, "dropout: CUDA supports f32 only, got ",
                      x.describe());
            OBL_CUDA_ONLY(
                backward
                    ? kernels::dropout_backward_cuda(y.f32(), x.f32(), d, cuda_context().stream())
                    : kernels::dropout_forward_cuda(y.f32(), x.f32(), d, cuda_context().stream()));
            break;
    }
    return y;
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed) {
    check_defined(x, "dropout", "x");
    check_floating(x, "dropout", "x");
    OBL_CHECK(std::isfinite(p) && p >= 0 && p <= 1, "dropout: p must be in [0, 1], got ", p,
              " for ", x.describe());
    if (!training || p == 0) return x;
    kernels::DropoutDims d;
    d.n = x.numel();
    d.p = p;
    d.seed = seed;
    Tensor y = apply_dropout(x, d, false);
    return record("dropout", y, {x}, [d](const Tensor& dy) -> std::vector<Tensor> {
        return {apply_dropout(dy, d, true)};
    });
}

}  // namespace obl
