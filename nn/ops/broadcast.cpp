// broadcast_to / sum_to (nn/ops/elementwise.h) on kernels/broadcast.h, NumPy rules. Each is the
// other's backward. When the shapes already agree both return a view of x (like PyTorch's
// expand), so no data moves.
#include "kernels/broadcast.h"

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/elementwise.h"

namespace obl {

namespace {

// NumPy rule: `small` right-aligned against `big`, each dim 1 or equal. `what` describes the
// call for the message, e.g. "broadcast_to: cannot broadcast f32[3, 2] on cpu to".
void check_broadcastable(const Shape& small, const Shape& big, const std::string& what) {
    OBL_CHECK(small.size() <= big.size(), what, " ", big, ": ", small.size(), " dims vs ",
              big.size(), " (NumPy rules: dims are matched from the right)");
    const int lead = big.size() - small.size();
    for (int i = 0; i < small.size(); ++i) {
        OBL_CHECK(small[i] == 1 || small[i] == big[lead + i], what, " ", big, ": dim ",
                  i - small.size(), " is ", small[i], " vs ", big[lead + i],
                  " (NumPy rules: each dim must be 1 or equal)");
    }
}

void check_input(const Tensor& x, const char* op) {
    check_defined(x, op, "x");
    check_floating(x, op, "x");
    OBL_CHECK(!x.device().is_cuda() || x.dtype() == DType::F32, op,
              ": CUDA kernels are f32 only, got ", x.describe());
}

kernels::BroadcastDims dims_for(const Shape& small, const Shape& big) {
    return kernels::make_broadcast_dims(small.begin(), small.size(), big.begin(), big.size());
}

}  // namespace

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
    check_input(x, "broadcast_to");
    check_broadcastable(x.shape(), shape, "broadcast_to: cannot broadcast " + x.describe() + " to");
    if (x.shape() == shape) return x.reshape(shape);
    Tensor y = Tensor::empty(shape, x.dtype(), x.device());
    const kernels::BroadcastDims d = dims_for(x.shape(), shape);
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::broadcast_forward_cpu(y.f64(), x.f64(), d);
            } else {
                kernels::broadcast_forward_cpu(y.f32(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(
                kernels::broadcast_forward_cuda(y.f32(), x.f32(), d, cuda_context().stream()));
            break;
    }
    return record("broadcast_to", y, {x},
                  [small = x.shape()](const Tensor& dy) -> std::vector<Tensor> {
                      return {sum_to(dy, small)};
                  });
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
    check_input(x, "sum_to");
    check_broadcastable(shape, x.shape(),
                        "sum_to: cannot sum " + x.describe() + " to " + shape.str() +
                            ", which does not broadcast to");
    if (x.shape() == shape) return x.reshape(shape);
    Tensor y = Tensor::empty(shape, x.dtype(), x.device());
    const kernels::BroadcastDims d = dims_for(shape, x.shape());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::broadcast_backward_cpu(y.f64(), x.f64(), d);
            } else {
                kernels::broadcast_backward_cpu(y.f32(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(
                kernels::broadcast_backward_cuda(y.f32(), x.f32(), d, cuda_context().stream()));
            break;
    }
    return record("sum_to", y, {x}, [big = x.shape()](const Tensor& dy) -> std::vector<Tensor> {
        return {broadcast_to(dy, big)};
    });
}

}  // namespace obl
