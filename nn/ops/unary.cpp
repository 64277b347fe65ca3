// Unary elementwise ops (nn/ops/elementwise.h) on kernels/unary.h: check -> allocate -> dispatch
// -> record. The backward keeps alive only the saved tensor its formula reads (x or y).
#include "kernels/unary.h"

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/elementwise.h"

namespace obl {

namespace {

using kernels::UnaryOp;
using kernels::UnaryParams;

void check_input(const Tensor& x, const char* op) {
    check_defined(x, op, "x");
    check_floating(x, op, "x");
    OBL_CHECK(!x.device().is_cuda() || x.dtype() == DType::F32, op,
              ": CUDA kernels are f32 only, got ", x.describe());
}

void forward_into(const Tensor& y, const Tensor& x, UnaryParams p) {
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::unary_forward_cpu(y.f64(), x.f64(), x.numel(), p);
            } else {
                kernels::unary_forward_cpu(y.f32(), x.f32(), x.numel(), p);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::unary_forward_cuda(y.f32(), x.f32(), x.numel(), p,
                                                      cuda_context().stream()));
            break;
    }
}

// dx = dy * f'(x); x or y may be undefined when the op's formula does not read it.
Tensor backward_of(const Tensor& dy, const Tensor& x, const Tensor& y, UnaryParams p) {
    Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
    switch (dy.device().type) {
        case DeviceType::CPU:
            if (dy.dtype() == DType::F64) {
                kernels::unary_backward_cpu(dx.f64(), dy.f64(), x.defined() ? x.f64() : nullptr,
                                            y.defined() ? y.f64() : nullptr, dy.numel(), p);
            } else {
                kernels::unary_backward_cpu(dx.f32(), dy.f32(), x.defined() ? x.f32() : nullptr,
                                            y.defined() ? y.f32() : nullptr, dy.numel(), p);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::unary_backward_cuda(
                dx.f32(), dy.f32(), x.defined() ? x.f32() : nullptr,
                y.defined() ? y.f32() : nullptr, dy.numel(), p, cuda_context().stream()));
            break;
    }
    return dx;
}

Tensor unary(const char* name, const Tensor& x, UnaryParams p) {
    check_input(x, name);
    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    forward_into(y, x, p);
    if (p.op == UnaryOp::AddScalar) {  // dx = dy: hand the gradient through
        return record(name, y, {x}, [](const Tensor& dy) -> std::vector<Tensor> { return {dy}; });
    }
    const Tensor saved_x = kernels::unary_backward_reads_x(p.op) ? x.detach() : Tensor();
    const Tensor saved_y = kernels::unary_backward_reads_y(p.op) ? y.detach() : Tensor();
    return record(name, y, {x}, [saved_x, saved_y, p](const Tensor& dy) -> std::vector<Tensor> {
        return {backward_of(dy, saved_x, saved_y, p)};
    });
}

}  // namespace

Tensor neg(const Tensor& x) { return unary("neg", x, {UnaryOp::Neg}); }
Tensor exp(const Tensor& x) { return unary("exp", x, {UnaryOp::Exp}); }
Tensor log(const Tensor& x) { return unary("log", x, {UnaryOp::Log}); }
Tensor sqrt(const Tensor& x) { return unary("sqrt", x, {UnaryOp::Sqrt}); }
Tensor abs(const Tensor& x) { return unary("abs", x, {UnaryOp::Abs}); }
Tensor relu(const Tensor& x) { return unary("relu", x, {UnaryOp::Relu}); }
Tensor gelu(const Tensor& x) { return unary("gelu", x, {UnaryOp::Gelu}); }
Tensor sigmoid(const Tensor& x) { return unary("sigmoid", x, {UnaryOp::Sigmoid}); }
Tensor tanh(const Tensor& x) { return unary("tanh", x, {UnaryOp::Tanh}); }
Tensor pow(const Tensor& x, double exponent) { return unary("pow", x, {UnaryOp::Pow, exponent}); }

Tensor clamp(const Tensor& x, double lo, double hi) {
    OBL_CHECK(lo <= hi, "clamp: lo (", lo, ") must not exceed hi (", hi, ")");
    return unary("clamp", x, {UnaryOp::Clamp, lo, hi});
}

Tensor add_scalar(const Tensor& x, double c) {
    return unary("add_scalar", x, {UnaryOp::AddScalar, c});
}
Tensor mul_scalar(const Tensor& x, double c) {
    return unary("mul_scalar", x, {UnaryOp::MulScalar, c});
}

}  // namespace obl
