// where(cond, a, b) (nn/ops/elementwise.h) on kernels/where.h: y = cond ? a : b, all one shape;
// gradients flow to a where cond holds and to b elsewhere.
#include "kernels/where.h"

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/elementwise.h"

namespace obl {

namespace {

void check_inputs(const Tensor& cond, const Tensor& a, const Tensor& b) {
    check_defined(cond, "where", "cond");
    check_defined(a, "where", "a");
    check_defined(b, "where", "b");
    check_dtype(cond, DType::U8, "where", "cond");
    check_floating(a, "where", "a");
    check_floating(b, "where", "b");
    OBL_CHECK(a.dtype() == b.dtype(), "where: dtype mismatch: a is ", a.describe(), ", b is ",
              b.describe());
    check_same_device(a, b, "where");
    check_same_device(cond, a, "where");
    check_same_shape(a, b, "where");
    check_same_shape(cond, a, "where");
    OBL_CHECK(!a.device().is_cuda() || a.dtype() == DType::F32,
              "where: CUDA kernels are f32 only, got ", a.describe());
}

std::vector<Tensor> backward_of(const Tensor& dy, const Tensor& cond, bool want_a, bool want_b) {
    Tensor da = want_a ? Tensor::empty(dy.shape(), dy.dtype(), dy.device()) : Tensor();
    Tensor db = want_b ? Tensor::empty(dy.shape(), dy.dtype(), dy.device()) : Tensor();
    switch (dy.device().type) {
        case DeviceType::CPU:
            if (dy.dtype() == DType::F64) {
                kernels::where_backward_cpu(want_a ? da.f64() : nullptr,
                                            want_b ? db.f64() : nullptr, dy.f64(), cond.u8(),
                                            dy.numel());
            } else {
                kernels::where_backward_cpu(want_a ? da.f32() : nullptr,
                                            want_b ? db.f32() : nullptr, dy.f32(), cond.u8(),
                                            dy.numel());
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::where_backward_cuda(
                want_a ? da.f32() : nullptr, want_b ? db.f32() : nullptr, dy.f32(), cond.u8(),
                dy.numel(), cuda_context().stream()));
            break;
    }
    return {Tensor(), da, db};
}

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    check_inputs(cond, a, b);
    Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
    switch (a.device().type) {
        case DeviceType::CPU:
            if (a.dtype() == DType::F64) {
                kernels::where_forward_cpu(y.f64(), cond.u8(), a.f64(), b.f64(), a.numel());
            } else {
                kernels::where_forward_cpu(y.f32(), cond.u8(), a.f32(), b.f32(), a.numel());
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::where_forward_cuda(y.f32(), cond.u8(), a.f32(), b.f32(),
                                                      a.numel(), cuda_context().stream()));
            break;
    }
    const bool want_a = a.requires_grad(), want_b = b.requires_grad();
    return record("where", y, {cond, a, b}, [c = cond.detach(), want_a, want_b](const Tensor& dy) {
        return backward_of(dy, c, want_a, want_b);
    });
}

}  // namespace obl
