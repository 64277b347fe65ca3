// softmax / log_softmax over the last dim (kernels/softmax.h): check -> allocate -> dispatch
// (f32 CPU: fast path unless ReferenceCpuGuard) -> record. Backward uses the saved output.
#include "nn/ops/softmax.h"

#include "kernels/softmax.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"

namespace obl {

namespace {

using kernels::SoftmaxDims;

SoftmaxDims rows_of(const Tensor& x, const char* op) {
    check_defined(x, op, "x");
    check_floating(x, op, "x");
    OBL_CHECK(x.dim() >= 1, op, ": needs at least one dim (the classes), got ", x.describe());
    if (x.device().is_cuda()) check_dtype(x, DType::F32, op, "x");
    return SoftmaxDims{x.shape().prod(0, x.dim() - 1), x.shape().back()};
}

// One function per direction and kind; `log` picks log_softmax.
void forward(const Tensor& y, const Tensor& x, SoftmaxDims d, bool log) {
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                log ? kernels::log_softmax_forward_cpu<double>(y.f64(), x.f64(), d)
                    : kernels::softmax_forward_cpu<double>(y.f64(), x.f64(), d);
            } else if (use_fast_cpu()) {
                log ? kernels::log_softmax_forward_fast_cpu(y.f32(), x.f32(), d)
                    : kernels::softmax_forward_fast_cpu(y.f32(), x.f32(), d);
            } else {
                log ? kernels::log_softmax_forward_cpu<float>(y.f32(), x.f32(), d)
                    : kernels::softmax_forward_cpu<float>(y.f32(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(
                log ? kernels::log_softmax_forward_cuda(y.f32(), x.f32(), d,
                                                        cuda_context().stream())
                    : kernels::softmax_forward_cuda(y.f32(), x.f32(), d, cuda_context().stream()));
            break;
    }
}

Tensor backward(const Tensor& dy, const Tensor& y, SoftmaxDims d, bool log) {
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    switch (y.device().type) {
        case DeviceType::CPU:
            if (y.dtype() == DType::F64) {
                log ? kernels::log_softmax_backward_cpu<double>(dx.f64(), dy.f64(), y.f64(), d)
                    : kernels::softmax_backward_cpu<double>(dx.f64(), dy.f64(), y.f64(), d);
            } else if (use_fast_cpu()) {
                log ? kernels::log_softmax_backward_fast_cpu(dx.f32(), dy.f32(), y.f32(), d)
                    : kernels::softmax_backward_fast_cpu(dx.f32(), dy.f32(), y.f32(), d);
            } else {
                log ? kernels::log_softmax_backward_cpu<float>(dx.f32(), dy.f32(), y.f32(), d)
                    : kernels::softmax_backward_cpu<float>(dx.f32(), dy.f32(), y.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(log ? kernels::log_softmax_backward_cuda(dx.f32(), dy.f32(), y.f32(), d,
                                                                   cuda_context().stream())
                              : kernels::softmax_backward_cuda(dx.f32(), dy.f32(), y.f32(), d,
                                                               cuda_context().stream()));
            break;
    }
    return dx;
}

Tensor softmax_family(const char* name, const Tensor& x, bool log) {
    const SoftmaxDims d = rows_of(x, name);
    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    forward(y, x, d, log);
    return record(name, y, {x}, [yd = y.detach(), d, log](const Tensor& dy) -> std::vector<Tensor> {
        return {backward(dy, yd, d, log)};
    });
}

}  // namespace

Tensor softmax(const Tensor& x) { return softmax_family("softmax", x, false); }

Tensor log_softmax(const Tensor& x) { return softmax_family("log_softmax", x, true); }

}  // namespace obl
