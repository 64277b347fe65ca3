// Differentiable data-movement ops (nn/ops/shape_ops.h): concat, stack, slice, pad, permute,
// transpose. Kernels: kernels/concat.h, slice.h, pad.h, permute.h. index_select / gather /
// scatter_add live in nn/ops/index.cpp, interpolate in nn/ops/interpolate.cpp, dropout in
// nn/ops/dropout.cpp.
#include "nn/ops/shape_ops.h"

#include <string>
#include <vector>

#include "kernels/concat.h"
#include "kernels/pad.h"
#include "kernels/permute.h"
#include "kernels/slice.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"

namespace obl {

namespace {

// Floating, and f32 when on CUDA (the CUDA kernels are f32 only).
void check_float_input(const Tensor& x, const char* op, const char* arg) {
    check_defined(x, op, arg);
    check_floating(x, op, arg);
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32, op,
              ": CUDA kernels take f32 only, got '", arg, "' ", x.describe());
}

template <class V>
std::string list_str(const std::vector<V>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

// ---- kernel dispatch, one function per kernel and direction ---------------------------------

void concat_kernel(bool forward, const Tensor& out, const Tensor& in, kernels::ConcatDims cd) {
    if (out.numel() == 0 || in.numel() == 0) return;
    switch (out.device().type) {
        case DeviceType::CPU:
            if (out.dtype() == DType::F64) {
                forward ? kernels::concat_forward_cpu(out.f64(), in.f64(), cd)
                        : kernels::concat_backward_cpu(out.f64(), in.f64(), cd);
            } else {
                forward ? kernels::concat_forward_cpu(out.f32(), in.f32(), cd)
                        : kernels::concat_backward_cpu(out.f32(), in.f32(), cd);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(forward ? kernels::concat_forward_cuda(out.f32(), in.f32(), cd,
                                                                 cuda_context().stream())
                                  : kernels::concat_backward_cuda(out.f32(), in.f32(), cd,
                                                                  cuda_context().stream()));
            break;
    }
}

void slice_kernel(bool forward, const Tensor& out, const Tensor& in, kernels::SliceDims sd) {
    if (out.numel() == 0) return;
    switch (out.device().type) {
        case DeviceType::CPU:
            if (out.dtype() == DType::F64) {
                forward ? kernels::slice_forward_cpu(out.f64(), in.f64(), sd)
                        : kernels::slice_backward_cpu(out.f64(), in.f64(), sd);
            } else {
                forward ? kernels::slice_forward_cpu(out.f32(), in.f32(), sd)
                        : kernels::slice_backward_cpu(out.f32(), in.f32(), sd);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(forward ? kernels::slice_forward_cuda(out.f32(), in.f32(), sd,
                                                                cuda_context().stream())
                                  : kernels::slice_backward_cuda(out.f32(), in.f32(), sd,
                                                                 cuda_context().stream()));
            break;
    }
}

void pad_kernel(bool forward, const Tensor& out, const Tensor& in, const kernels::PadDims& pd) {
    if (out.numel() == 0) return;
    switch (out.device().type) {
        case DeviceType::CPU:
            if (out.dtype() == DType::F64) {
                forward ? kernels::pad_forward_cpu(out.f64(), in.f64(), pd)
                        : kernels::pad_backward_cpu(out.f64(), in.f64(), pd);
            } else {
                forward ? kernels::pad_forward_cpu(out.f32(), in.f32(), pd)
                        : kernels::pad_backward_cpu(out.f32(), in.f32(), pd);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(
                forward
                    ? kernels::pad_forward_cuda(out.f32(), in.f32(), pd, cuda_context().stream())
                    : kernels::pad_backward_cuda(out.f32(), in.f32(), pd, cuda_context().stream()));
            break;
    }
}

void permute_kernel(bool forward, const Tensor& out, const Tensor& in,
                    const kernels::PermuteDims& pd) {
    if (out.numel() == 0) return;
    switch (out.device().type) {
        case DeviceType::CPU:
            if (out.dtype() == DType::F64) {
                forward ? kernels::permute_forward_cpu(out.f64(), in.f64(), pd)
                        : kernels::permute_backward_cpu(out.f64(), in.f64(), pd);
            } else {
                forward ? kernels::permute_forward_cpu(out.f32(), in.f32(), pd)
                        : kernels::permute_backward_cpu(out.f32(), in.f32(), pd);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(forward ? kernels::permute_forward_cuda(out.f32(), in.f32(), pd,
                                                                  cuda_context().stream())
                                  : kernels::permute_backward_cuda(out.f32(), in.f32(), pd,
                                                                   cuda_context().stream()));
            break;
    }
}

}  // namespace

// ---- concat / stack --------------------------------------------------------------------------

Tensor concat(const std::vector<Tensor>& xs, int dim) {
    OBL_CHECK(!xs.empty(), "concat: needs at least one tensor");
    for (const Tensor& x : xs) check_float_input(x, "concat", "xs[i]");
    const Tensor& x0 = xs[0];
    const int d = x0.shape().axis(dim);
    Shape out_shape = x0.shape();
    out_shape[d] = 0;
    for (size_t k = 0; k < xs.size(); ++k) {
        const Tensor& x = xs[k];
        OBL_CHECK(x.dtype() == x0.dtype() && x.device() == x0.device(), "concat: input ", k, " is ",
                  x.describe(), " but input 0 is ", x0.describe(),
                  " (dtypes and devices must match)");
        bool match = x.dim() == x0.dim();
        for (int i = 0; match && i < x0.dim(); ++i) match = i == d || x.size(i) == x0.size(i);
        OBL_CHECK(match, "concat: input ", k, " has shape ", x.shape(), " but input 0 has shape ",
                  x0.shape(), "; shapes must match in every dim except dim ", d);
        out_shape[d] += x.size(d);
    }
    Tensor y = Tensor::empty(out_shape, x0.dtype(), x0.device());
    std::vector<kernels::ConcatDims> dims;
    std::vector<Shape> shapes;
    int64_t offset = 0;
    for (const Tensor& x : xs) {
        kernels::ConcatDims cd;
        cd.outer = out_shape.prod(0, d);
        cd.inner = out_shape.prod(d + 1, out_shape.size());
        cd.x_size = x.size(d);
        cd.y_size = out_shape[d];
        cd.offset = offset;
        offset += cd.x_size;
        concat_kernel(true, y, x, cd);
        dims.push_back(cd);
        shapes.push_back(x.shape());
    }
    return record("concat", y, xs, [dims, shapes](const Tensor& dy) {
        std::vector<Tensor> dxs;
        for (size_t k = 0; k < dims.size(); ++k) {
            Tensor dx = Tensor::empty(shapes[k], dy.dtype(), dy.device());
            concat_kernel(false, dx, dy, dims[k]);
            dxs.push_back(dx);
        }
        return dxs;
    });
}

Tensor stack(const std::vector<Tensor>& xs, int dim) {
    OBL_CHECK(!xs.empty(), "stack: needs at least one tensor");
    for (const Tensor& x : xs) check_defined(x, "stack", "xs[i]");
    const Shape& s0 = xs[0].shape();
    const int r = s0.size();
    OBL_CHECK(dim >= -(r + 1) && dim <= r, "stack: dim ", dim, " out of range for inputs of shape ",
              s0, " (valid: ", -(r + 1), " to ", r, ")");
    const int d = dim < 0 ? dim + r + 1 : dim;
    Shape unit;  // s0 with a size-1 dim inserted at d
    for (int i = 0; i <= r; ++i) {
        if (i == d) unit.push_back(1);
        if (i < r) unit.push_back(s0[i]);
    }
    std::vector<Tensor> views;
    for (size_t k = 0; k < xs.size(); ++k) {
        OBL_CHECK(xs[k].shape() == s0, "stack: input ", k, " has shape ", xs[k].shape(),
                  " but input 0 has shape ", s0, "; stack needs equal shapes");
        views.push_back(xs[k].reshape(unit));
    }
    return concat(views, d);
}

// ---- slice -----------------------------------------------------------------------------------

Tensor slice(const Tensor& x, int dim, int64_t start, int64_t end, int64_t step) {
    check_float_input(x, "slice", "x");
    const int d = x.shape().axis(dim);
    const int64_t size = x.size(d);
    OBL_CHECK(0 <= start && start <= end && end <= size, "slice: range [", start, ", ", end,
              ") out of range for dim ", d, " of size ", size, " (x is ", x.describe(),
              "; need 0 <= start <= end <= ", size, ")");
    OBL_CHECK(step >= 1, "slice: step must be >= 1, got ", step);
    kernels::SliceDims sd;
    sd.outer = x.shape().prod(0, d);
    sd.inner = x.shape().prod(d + 1, x.dim());
    sd.x_size = size;
    sd.y_size = (end - start + step - 1) / step;
    sd.start = start;
    sd.step = step;
    Shape out_shape = x.shape();
    out_shape[d] = sd.y_size;
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    slice_kernel(true, y, x, sd);
    const Shape x_shape = x.shape();
    return record("slice", y, {x}, [sd, x_shape](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
        slice_kernel(false, dx, dy, sd);
        return {dx};
    });
}

// ---- pad -------------------------------------------------------------------------------------

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value) {
    check_float_input(x, "pad", "x");
    const int r = x.dim();
    OBL_CHECK(pads.size() % 2 == 0 && static_cast<int>(pads.size()) <= 2 * r, "pad: ", pads.size(),
              " pad values ", list_str(pads), " for ", x.describe(),
              "; need an even number, at most 2 per dim");
    for (int64_t p : pads)
        OBL_CHECK(p >= 0, "pad: negative pads are not supported, got ", list_str(pads));
    kernels::PadDims pd;
    pd.rank = r == 0 ? 1 : r;  // a 0-d tensor is padded as [1] (with no pads)
    pd.x_shape[0] = 1;
    for (int i = 0; i < r; ++i) pd.x_shape[i] = x.size(i);
    for (size_t i = 0; i < pads.size() / 2; ++i) {  // pads start from the last dim
        pd.lo[r - 1 - i] = pads[2 * i];
        pd.hi[r - 1 - i] = pads[2 * i + 1];
    }
    pd.value = value;
    Shape out_shape = x.shape();
    for (int i = 0; i < r; ++i) out_shape[i] += pd.lo[i] + pd.hi[i];
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    pad_kernel(true, y, x, pd);
    const Shape x_shape = x.shape();
    return record("pad", y, {x}, [pd, x_shape](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
        pad_kernel(false, dx, dy, pd);
        return {dx};
    });
}

// ---- permute / transpose ---------------------------------------------------------------------

Tensor permute(const Tensor& x, const std::vector<int>& dims) {
    check_float_input(x, "permute", "x");
    const int r = x.dim();
    OBL_CHECK(static_cast<int>(dims.size()) == r, "permute: ", dims.size(), " dims ",
              list_str(dims), " for ", x.describe(), "; need exactly ", r);
    kernels::PermuteDims pd;
    pd.rank = r;
    bool seen[Shape::kMaxDims] = {};
    Shape out_shape;
    for (int k = 0; k < r; ++k) {
        OBL_CHECK(dims[k] >= -r && dims[k] < r, "permute: dim ", dims[k], " in ", list_str(dims),
                  " out of range for ", x.describe());
        const int a = dims[k] < 0 ? dims[k] + r : dims[k];
        OBL_CHECK(!seen[a], "permute: dim ", a, " is repeated in ", list_str(dims), " for ",
                  x.describe(), "; dims must be a permutation of 0..", r - 1);
        seen[a] = true;
        pd.perm[k] = a;
        pd.x_shape[k] = x.size(k);
        out_shape.push_back(x.size(a));
    }
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    permute_kernel(true, y, x, pd);
    const Shape x_shape = x.shape();
    return record("permute", y, {x}, [pd, x_shape](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
        permute_kernel(false, dx, dy, pd);
        return {dx};
    });
}

Tensor transpose(const Tensor& x, int dim0, int dim1) {
    check_defined(x, "transpose", "x");
    const int a = x.shape().axis(dim0), b = x.shape().axis(dim1);
    std::vector<int> dims(static_cast<size_t>(x.dim()));
    for (int k = 0; k < x.dim(); ++k) dims[k] = k;
    std::swap(dims[a], dims[b]);
    return permute(x, dims);
}

}  // namespace obl
