// Binary elementwise ops on equal shapes (nn/ops/elementwise.h) on kernels/binary.h.
// No implicit broadcasting: shapes must match exactly (use broadcast_to).
#include "kernels/binary.h"

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/elementwise.h"

namespace obl {

namespace {

using kernels::BinaryOp;

void check_inputs(const Tensor& a, const Tensor& b, const char* op) {
    check_defined(a, op, "a");
    check_defined(b, op, "b");
    check_floating(a, op, "a");
    check_floating(b, op, "b");
    OBL_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch: a is ", a.describe(), ", b is ",
              b.describe(), " (convert one with .to(DType))");
    check_same_device(a, b, op);
    check_same_shape(a, b, op);
    OBL_CHECK(!a.device().is_cuda() || a.dtype() == DType::F32, op,
              ": CUDA kernels are f32 only, got ", a.describe());
}

template <class T>
const T* data_or_null(const Tensor& t) {
    return t.defined() ? t.data<T>() : nullptr;
}

// da and/or db (undefined when not wanted) from dy, a, b (a and b undefined for add and sub,
// whose gradients do not read them).
std::vector<Tensor> backward_of(const Tensor& dy, const Tensor& a, const Tensor& b, bool want_a,
                                bool want_b, BinaryOp op) {
    Tensor da = want_a ? Tensor::empty(dy.shape(), dy.dtype(), dy.device()) : Tensor();
    Tensor db = want_b ? Tensor::empty(dy.shape(), dy.dtype(), dy.device()) : Tensor();
    switch (dy.device().type) {
        case DeviceType::CPU:
            if (dy.dtype() == DType::F64) {
                kernels::binary_backward_cpu(
                    want_a ? da.f64() : nullptr, want_b ? db.f64() : nullptr, dy.f64(),
                    data_or_null<double>(a), data_or_null<double>(b), dy.numel(), op);
            } else {
                kernels::binary_backward_cpu(
                    want_a ? da.f32() : nullptr, want_b ? db.f32() : nullptr, dy.f32(),
                    data_or_null<float>(a), data_or_null<float>(b), dy.numel(), op);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::binary_backward_cuda(
                want_a ? da.f32() : nullptr, want_b ? db.f32() : nullptr, dy.f32(),
                data_or_null<float>(a), data_or_null<float>(b), dy.numel(), op,
                cuda_context().stream()));
            break;
    }
    return {da, db};
}

Tensor binary(const char* name, const Tensor& a, const Tensor& b, BinaryOp op) {
    check_inputs(a, b, name);
    Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
    switch (a.device().type) {
        case DeviceType::CPU:
            if (a.dtype() == DType::F64) {
                kernels::binary_forward_cpu(y.f64(), a.f64(), b.f64(), a.numel(), op);
            } else {
                kernels::binary_forward_cpu(y.f32(), a.f32(), b.f32(), a.numel(), op);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::binary_forward_cuda(y.f32(), a.f32(), b.f32(), a.numel(), op,
                                                       cuda_context().stream()));
            break;
    }
    const bool want_a = a.requires_grad(), want_b = b.requires_grad();
    if (op == BinaryOp::Add) {  // da = db = dy: hand the gradient through (the engine copies)
        return record(name, y, {a, b}, [want_a, want_b](const Tensor& dy) -> std::vector<Tensor> {
            return {want_a ? dy : Tensor(), want_b ? dy : Tensor()};
        });
    }
    const bool reads_inputs = op != BinaryOp::Sub;  // sub: da = dy, db = -dy
    return record(name, y, {a, b},
                  [ad = reads_inputs ? a.detach() : Tensor(),
                   bd = reads_inputs ? b.detach() : Tensor(), want_a, want_b,
                   op](const Tensor& dy) { return backward_of(dy, ad, bd, want_a, want_b, op); });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary("add", a, b, BinaryOp::Add); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary("sub", a, b, BinaryOp::Sub); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary("mul", a, b, BinaryOp::Mul); }
Tensor div(const Tensor& a, const Tensor& b) { return binary("div", a, b, BinaryOp::Div); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary("pow", a, b, BinaryOp::Pow); }

}  // namespace obl
