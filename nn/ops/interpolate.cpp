// Differentiable bilinear/bicubic resize (nn/ops/shape_ops.h: interpolate); kernels in
// kernels/interpolate.h, which states PyTorch's source-index and weight rules.
#include "kernels/interpolate.h"

#include <vector>

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/shape_ops.h"

namespace obl {

Tensor interpolate(const Tensor& x, int64_t out_h, int64_t out_w, InterpMode mode,
                   bool align_corners) {
    check_defined(x, "interpolate", "x");
    check_floating(x, "interpolate", "x");
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32,
              "interpolate: CUDA kernels take f32 only, got ", x.describe());
    OBL_CHECK(x.dim() == 4, "interpolate: expects x of shape (N, C, H, W), got ", x.describe());
    OBL_CHECK(x.size(2) >= 1 && x.size(3) >= 1, "interpolate: empty image ", x.describe());
    OBL_CHECK(out_h >= 1 && out_w >= 1, "interpolate: output size must be >= 1, got ", out_h, "x",
              out_w);
    kernels::InterpolateDims d;
    d.planes = x.size(0) * x.size(1);
    d.in_h = x.size(2);
    d.in_w = x.size(3);
    d.out_h = out_h;
    d.out_w = out_w;
    d.kind =
        mode == InterpMode::Bicubic ? kernels::InterpKind::Bicubic : kernels::InterpKind::Bilinear;
    d.align_corners = align_corners;
    Tensor y = Tensor::empty(Shape{x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
    if (d.planes > 0) {
        switch (x.device().type) {
            case DeviceType::CPU:
                if (x.dtype() == DType::F64) {
                    kernels::interpolate_forward_cpu(y.f64(), x.f64(), d);
                } else {
                    kernels::interpolate_forward_cpu(y.f32(), x.f32(), d);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::interpolate_forward_cuda(y.f32(), x.f32(), d,
                                                                cuda_context().stream()));
                break;
        }
    }
    const Shape x_shape = x.shape();
    return record("interpolate", y, {x}, [d, x_shape](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
        if (d.planes == 0) return {dx};
        switch (dy.device().type) {
            case DeviceType::CPU:
                if (dy.dtype() == DType::F64) {
                    kernels::interpolate_backward_cpu(dx.f64(), dy.f64(), d);
                } else {
                    kernels::interpolate_backward_cpu(dx.f32(), dy.f32(), d);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::interpolate_backward_cuda(dx.f32(), dy.f32(), d,
                                                                 cuda_context().stream()));
                break;
        }
        return {dx};
    });
}

}  // namespace obl
