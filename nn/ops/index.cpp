// Differentiable indexing ops (nn/ops/shape_ops.h): index_select, gather, scatter_add.
// Kernels: kernels/index.h. Indices are i64 on the same device as the data. Indices of CPU
// tensors are validated here on the host (obl::Error naming the bad index and the size); CUDA
// indices are not validated (it would need a sync): the CUDA kernels read 0 for, and drop
// scatters to, out-of-range indices (see kernels/index.h).
#include "kernels/index.h"

#include <vector>

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/shape_ops.h"

namespace obl {

namespace {

void check_float_input(const Tensor& x, const char* op, const char* arg) {
    check_defined(x, op, arg);
    check_floating(x, op, arg);
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32, op,
              ": CUDA kernels take f32 only, got '", arg, "' ", x.describe());
}

void check_index(const Tensor& index, const Tensor& x, const char* op) {
    check_defined(index, op, "index");
    check_dtype(index, DType::I64, op, "index");
    check_same_device(x, index, op);
}

// Host validation of CPU indices against the size along `dim`.
void check_index_values(const Tensor& index, int64_t size, int dim, const Tensor& x,
                        const char* op) {
    if (!index.device().is_cpu()) return;  // CUDA: not validated, see the file comment
    const int64_t* idx = index.i64();
    const int64_t bad = kernels::first_bad_index_cpu(idx, index.numel(), size);
    OBL_CHECK(bad < 0, op, ": index ", bad < 0 ? 0 : idx[bad], " (at flat position ", bad,
              " of the index) is out of range for dim ", dim, " of size ", size, " (", x.describe(),
              "); valid indices are 0..", size - 1);
}

kernels::GatherDims gather_dims(const Tensor& x, int dim, const Tensor& index, const Shape& src) {
    kernels::GatherDims g;
    g.rank = x.dim();
    g.dim = dim;
    for (int k = 0; k < g.rank; ++k) {
        g.index_shape[k] = index.size(k);
        g.x_shape[k] = x.size(k);
        g.src_shape[k] = src[k];
    }
    return g;
}

bool is_f64(const Tensor& t) { return t.dtype() == DType::F64; }

}  // namespace

// ---- index_select ----------------------------------------------------------------------------

Tensor index_select(const Tensor& x, int dim, const Tensor& index) {
    check_float_input(x, "index_select", "x");
    check_index(index, x, "index_select");
    OBL_CHECK(index.dim() == 1, "index_select: index must be 1-D, got ", index.describe());
    const int d = x.shape().axis(dim);
    kernels::IndexSelectDims sd;
    sd.outer = x.shape().prod(0, d);
    sd.inner = x.shape().prod(d + 1, x.dim());
    sd.x_size = x.size(d);
    sd.index_size = index.numel();
    check_index_values(index, sd.x_size, d, x, "index_select");
    Shape out_shape = x.shape();
    out_shape[d] = sd.index_size;
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    if (y.numel() > 0) {
        switch (x.device().type) {
            case DeviceType::CPU:
                if (is_f64(x)) {
                    kernels::index_select_forward_cpu(y.f64(), x.f64(), index.i64(), sd);
                } else {
                    kernels::index_select_forward_cpu(y.f32(), x.f32(), index.i64(), sd);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::index_select_forward_cuda(y.f32(), x.f32(), index.i64(), sd,
                                                                 cuda_context().stream()));
                break;
        }
    }
    const Shape x_shape = x.shape();
    return record(
        "index_select", y, {x},
        [sd, x_shape, idx = index.detach()](const Tensor& dy) -> std::vector<Tensor> {
            Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
            if (dx.numel() == 0) return {dx};
            switch (dy.device().type) {
                case DeviceType::CPU:
                    if (is_f64(dy)) {
                        kernels::index_select_backward_cpu(dx.f64(), dy.f64(), idx.i64(), sd);
                    } else {
                        kernels::index_select_backward_cpu(dx.f32(), dy.f32(), idx.i64(), sd);
                    }
                    break;
                case DeviceType::CUDA:
                    OBL_CUDA_ONLY(kernels::index_select_backward_cuda(dx.f32(), dy.f32(), idx.i64(),
                                                                      sd, cuda_context().stream()));
                    break;
            }
            return {dx};
        });
}

// ---- gather ----------------------------------------------------------------------------------

Tensor gather(const Tensor& x, int dim, const Tensor& index) {
    check_float_input(x, "gather", "x");
    check_index(index, x, "gather");
    const int d = x.shape().axis(dim);
    OBL_CHECK(index.dim() == x.dim(), "gather: index ", index.shape(), " and x ", x.shape(),
              " must have the same number of dims");
    for (int k = 0; k < x.dim(); ++k)
        OBL_CHECK(k == d || index.size(k) <= x.size(k), "gather: index ", index.shape(),
                  " is larger than x ", x.shape(), " in dim ", k,
                  " (need index.size(k) <= x.size(k) for k != dim ", d, ")");
    check_index_values(index, x.size(d), d, x, "gather");
    const kernels::GatherDims g = gather_dims(x, d, index, index.shape());
    Tensor y = Tensor::empty(index.shape(), x.dtype(), x.device());
    if (y.numel() > 0) {
        switch (x.device().type) {
            case DeviceType::CPU:
                if (is_f64(x)) {
                    kernels::gather_forward_cpu(y.f64(), x.f64(), index.i64(), g);
                } else {
                    kernels::gather_forward_cpu(y.f32(), x.f32(), index.i64(), g);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::gather_forward_cuda(y.f32(), x.f32(), index.i64(), g,
                                                           cuda_context().stream()));
                break;
        }
    }
    const Shape x_shape = x.shape();
    return record("gather", y, {x},
                  [g, x_shape, idx = index.detach()](const Tensor& dy) -> std::vector<Tensor> {
                      Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
                      if (dx.numel() == 0) return {dx};
                      switch (dy.device().type) {
                          case DeviceType::CPU:
                              if (is_f64(dy)) {
                                  kernels::gather_backward_cpu(dx.f64(), dy.f64(), idx.i64(), g);
                              } else {
                                  kernels::gather_backward_cpu(dx.f32(), dy.f32(), idx.i64(), g);
                              }
                              break;
                          case DeviceType::CUDA:
                              OBL_CUDA_ONLY(kernels::gather_backward_cuda(
                                  dx.f32(), dy.f32(), idx.i64(), g, cuda_context().stream()));
                              break;
                      }
                      return {dx};
                  });
}

// ---- scatter_add -----------------------------------------------------------------------------

Tensor scatter_add(const Tensor& base, int dim, const Tensor& index, const Tensor& src) {
    check_float_input(base, "scatter_add", "base");
    check_float_input(src, "scatter_add", "src");
    check_index(index, base, "scatter_add");
    OBL_CHECK(src.dtype() == base.dtype() && src.device() == base.device(), "scatter_add: src ",
              src.describe(), " and base ", base.describe(),
              " must have the same dtype and device");
    const int d = base.shape().axis(dim);
    OBL_CHECK(index.dim() == base.dim() && src.dim() == base.dim(), "scatter_add: base ",
              base.shape(), ", index ", index.shape(), " and src ", src.shape(),
              " must have the same number of dims");
    for (int k = 0; k < base.dim(); ++k) {
        OBL_CHECK(index.size(k) <= src.size(k), "scatter_add: index ", index.shape(),
                  " is larger than src ", src.shape(), " in dim ", k);
        OBL_CHECK(k == d || index.size(k) <= base.size(k), "scatter_add: index ", index.shape(),
                  " is larger than base ", base.shape(), " in dim ", k,
                  " (need index.size(k) <= base.size(k) for k != dim ", d, ")");
    }
    check_index_values(index, base.size(d), d, base, "scatter_add");
    const kernels::GatherDims g = gather_dims(base, d, index, src.shape());
    Tensor y = Tensor::empty(base.shape(), base.dtype(), base.device());
    if (y.numel() > 0) {
        switch (base.device().type) {
            case DeviceType::CPU:
                if (is_f64(base)) {
                    kernels::scatter_add_forward_cpu(y.f64(), base.f64(), index.i64(), src.f64(),
                                                     g);
                } else {
                    kernels::scatter_add_forward_cpu(y.f32(), base.f32(), index.i64(), src.f32(),
                                                     g);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::scatter_add_forward_cuda(
                    y.f32(), base.f32(), index.i64(), src.f32(), g, cuda_context().stream()));
                break;
        }
    }
    const Shape src_shape = src.shape();
    return record(
        "scatter_add", y, {base, src},
        [g, src_shape, idx = index.detach()](const Tensor& dy) -> std::vector<Tensor> {
            Tensor dsrc = Tensor::empty(src_shape, dy.dtype(), dy.device());
            if (dsrc.numel() > 0) {
                switch (dy.device().type) {
                    case DeviceType::CPU:
                        if (is_f64(dy)) {
                            kernels::scatter_add_backward_cpu(dsrc.f64(), dy.f64(), idx.i64(), g);
                        } else {
                            kernels::scatter_add_backward_cpu(dsrc.f32(), dy.f32(), idx.i64(), g);
                        }
                        break;
                    case DeviceType::CUDA:
                        OBL_CUDA_ONLY(kernels::scatter_add_backward_cuda(
                            dsrc.f32(), dy.f32(), idx.i64(), g, cuda_context().stream()));
                        break;
                }
            }
            return {dy, dsrc};  // d base = dy (the engine copies before it ever adds)
        });
}

}  // namespace obl
