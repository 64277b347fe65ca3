// Reductions over one dim (kernels/reduce.h): check -> allocate -> dispatch -> record.
#include "nn/ops/reduce.h"

#include "kernels/reduce.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"

namespace obl {

namespace {

using kernels::ReduceDims;
using kernels::ReduceOp;

// The (O, R, I) view of x around `dim` and the output shape (dim removed, or kept as 1).
// A 0-d tensor reduces like a [1] tensor over dim 0 / -1, as in PyTorch.
struct ReduceView {
    ReduceDims d;
    Shape out_shape;
};

ReduceView view_of(const Tensor& x, int dim, bool keepdim) {
    const Shape& s = x.shape();
    if (s.size() == 0) {
        OBL_CHECK(dim == 0 || dim == -1, "dim ", dim, " out of range for a 0-d tensor");
        return {ReduceDims{1, 1, 1}, Shape{}};
    }
    const int a = s.axis(dim);
    ReduceView v;
    v.d = ReduceDims{s.prod(0, a), s[a], s.prod(a + 1, s.size())};
    for (int i = 0; i < s.size(); ++i) {
        if (i != a) v.out_shape.push_back(s[i]);
        if (i == a && keepdim) v.out_shape.push_back(1);
    }
    return v;
}

// The whole tensor as one reduced dim: (1, numel, 1) -> shape [].
ReduceView view_all(const Tensor& x) { return {ReduceDims{1, x.numel(), 1}, Shape{}}; }

void check_input(const Tensor& x, const char* op) {
    check_defined(x, op, "x");
    check_floating(x, op, "x");
}

// sum / mean / max / min forward + backward.
Tensor reduce_op(const char* name, const Tensor& x, const ReduceView& v, ReduceOp op) {
    const ReduceDims d = v.d;
    OBL_CHECK(d.r > 0 || op == ReduceOp::Sum || op == ReduceOp::Mean, name,
              ": cannot reduce an empty dim of ", x.describe());
    Tensor y = Tensor::empty(v.out_shape, x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64)
                kernels::reduce_forward_cpu<double>(y.f64(), x.f64(), d, op);
            else
                kernels::reduce_forward_cpu<float>(y.f32(), x.f32(), d, op);
            break;
        case DeviceType::CUDA:
            check_dtype(x, DType::F32, name, "x");
            OBL_CUDA_ONLY(
                kernels::reduce_forward_cuda(y.f32(), x.f32(), d, op, cuda_context().stream()));
            break;
    }
    const Shape x_shape = x.shape();
    if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
        return record(name, y, {x}, [x_shape, d, op](const Tensor& dy) -> std::vector<Tensor> {
            Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
            switch (dy.device().type) {
                case DeviceType::CPU:
                    if (dy.dtype() == DType::F64)
                        kernels::reduce_backward_cpu<double>(dx.f64(), dy.f64(), d, op);
                    else
                        kernels::reduce_backward_cpu<float>(dx.f32(), dy.f32(), d, op);
                    break;
                case DeviceType::CUDA:
                    OBL_CUDA_ONLY(kernels::reduce_backward_cuda(dx.f32(), dy.f32(), d, op,
                                                                cuda_context().stream()));
                    break;
            }
            return {dx};
        });
    }
    // max / min: the gradient goes to the first extremum, found again from x.
    return record(name, y, {x}, [xd = x.detach(), d, op](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(xd.shape(), dy.dtype(), dy.device());
        Tensor index = Tensor::empty(Shape{d.outer * d.inner}, DType::I64, dy.device());
        switch (dy.device().type) {
            case DeviceType::CPU:
                if (dy.dtype() == DType::F64) {
                    kernels::arg_reduce_cpu<double>(index.i64(), xd.f64(), d, op);
                    kernels::select_backward_cpu<double>(dx.f64(), dy.f64(), index.i64(), d);
                } else {
                    kernels::arg_reduce_cpu<float>(index.i64(), xd.f32(), d, op);
                    kernels::select_backward_cpu<float>(dx.f32(), dy.f32(), index.i64(), d);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(
                    kernels::arg_reduce_cuda(index.i64(), xd.f32(), d, op, cuda_context().stream());
                    kernels::select_backward_cuda(dx.f32(), dy.f32(), index.i64(), d,
                                                  cuda_context().stream()));
                break;
        }
        return {dx};
    });
}

Tensor arg_op(const char* name, const Tensor& x, const ReduceView& v, ReduceOp op) {
    OBL_CHECK(v.d.r > 0, name, ": cannot reduce an empty dim of ", x.describe());
    Tensor index = Tensor::empty(v.out_shape, DType::I64, x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64)
                kernels::arg_reduce_cpu<double>(index.i64(), x.f64(), v.d, op);
            else
                kernels::arg_reduce_cpu<float>(index.i64(), x.f32(), v.d, op);
            break;
        case DeviceType::CUDA:
            check_dtype(x, DType::F32, name, "x");
            OBL_CUDA_ONLY(
                kernels::arg_reduce_cuda(index.i64(), x.f32(), v.d, op, cuda_context().stream()));
            break;
    }
    return index;  // integer output: not differentiable, nothing recorded
}

}  // namespace

Tensor sum(const Tensor& x, int dim, bool keepdim) {
    check_input(x, "sum");
    return reduce_op("sum", x, view_of(x, dim, keepdim), ReduceOp::Sum);
}

Tensor mean(const Tensor& x, int dim, bool keepdim) {
    check_input(x, "mean");
    return reduce_op("mean", x, view_of(x, dim, keepdim), ReduceOp::Mean);
}

Tensor max(const Tensor& x, int dim, bool keepdim) {
    check_input(x, "max");
    return reduce_op("max", x, view_of(x, dim, keepdim), ReduceOp::Max);
}

Tensor min(const Tensor& x, int dim, bool keepdim) {
    check_input(x, "min");
    return reduce_op("min", x, view_of(x, dim, keepdim), ReduceOp::Min);
}

Tensor argmax(const Tensor& x, int dim, bool keepdim) {
    check_input(x, "argmax");
    return arg_op("argmax", x, view_of(x, dim, keepdim), ReduceOp::Max);
}

Tensor var(const Tensor& x, int dim, bool unbiased, bool keepdim) {
    check_input(x, "var");
    const ReduceView v = view_of(x, dim, keepdim);
    const ReduceDims d = v.d;
    const int64_t c = unbiased ? 1 : 0;
    OBL_CHECK(d.r > 0, "var: cannot reduce an empty dim of ", x.describe());
    Tensor y = Tensor::empty(v.out_shape, x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64)
                kernels::var_forward_cpu<double>(y.f64(), x.f64(), d, c);
            else
                kernels::var_forward_cpu<float>(y.f32(), x.f32(), d, c);
            break;
        case DeviceType::CUDA:
            check_dtype(x, DType::F32, "var", "x");
            OBL_CUDA_ONLY(
                kernels::var_forward_cuda(y.f32(), x.f32(), d, c, cuda_context().stream()));
            break;
    }
    return record("var", y, {x}, [xd = x.detach(), d, c](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(xd.shape(), dy.dtype(), dy.device());
        switch (dy.device().type) {
            case DeviceType::CPU:
                if (dy.dtype() == DType::F64)
                    kernels::var_backward_cpu<double>(dx.f64(), dy.f64(), xd.f64(), d, c);
                else
                    kernels::var_backward_cpu<float>(dx.f32(), dy.f32(), xd.f32(), d, c);
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::var_backward_cuda(dx.f32(), dy.f32(), xd.f32(), d, c,
                                                         cuda_context().stream()));
                break;
        }
        return {dx};
    });
}

Tensor sum_all(const Tensor& x) {
    check_input(x, "sum_all");
    return reduce_op("sum_all", x, view_all(x), ReduceOp::Sum);
}

Tensor mean_all(const Tensor& x) {
    check_input(x, "mean_all");
    return reduce_op("mean_all", x, view_all(x), ReduceOp::Mean);
}

}  // namespace obl
