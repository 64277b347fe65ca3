// max_pool2d, avg_pool2d, adaptive_avg_pool2d: check -> allocate -> dispatch -> record
// (kernels/pool.h has the formulas).
#include "kernels/pool.h"

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/conv.h"

namespace obl {

namespace {

void check_pool_input(const Tensor& x, const char* op) {
    check_defined(x, op, "x");
    check_floating(x, op, "x");
    OBL_CHECK(x.dim() == 4, op, ": input must be (N, C, H, W), got ", x.describe());
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32, op,
              ": CUDA computes in f32 only, got ", x.describe());
}

// Window geometry of max/avg pooling, checked against PyTorch's rules.
kernels::Pool2dDims window_dims(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                                const char* op) {
    check_pool_input(x, op);
    OBL_CHECK(kernel >= 1 && stride >= 1, op, ": kernel and stride must be >= 1, got kernel ",
              kernel, ", stride ", stride);
    OBL_CHECK(padding >= 0 && 2 * padding <= kernel, op, ": padding ", padding,
              " must be between 0 and half the kernel ", kernel);
    kernels::Pool2dDims d;
    d.n = x.size(0);
    d.c = x.size(1);
    d.h = x.size(2);
    d.w = x.size(3);
    d.kh = d.kw = kernel;
    d.stride_h = d.stride_w = stride;
    d.pad_h = d.pad_w = padding;
    d.oh = kernels::pool2d_out_size(d.h, kernel, stride, padding);
    d.ow = kernels::pool2d_out_size(d.w, kernel, stride, padding);
    OBL_CHECK(d.oh >= 1 && d.ow >= 1, op, ": kernel ", kernel, " with padding ", padding,
              " does not fit input ", x.shape());
    return d;
}

Shape out_shape(const kernels::Pool2dDims& d) { return Shape{d.n, d.c, d.oh, d.ow}; }

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
    const kernels::Pool2dDims d = window_dims(x, kernel, stride, padding, "max_pool2d");
    Tensor y = Tensor::empty(out_shape(d), x.dtype(), x.device());
    Tensor argmax = Tensor::empty(out_shape(d), DType::I64, x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::max_pool2d_forward_cpu<double>(y.f64(), argmax.i64(), x.f64(), d);
            } else {
                kernels::max_pool2d_forward_cpu<float>(y.f32(), argmax.i64(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::max_pool2d_forward_cuda(y.f32(), argmax.i64(), x.f32(), d,
                                                           cuda_context().stream()));
            break;
    }
    return record("max_pool2d", y, {x},
                  [argmax, d, shape = x.shape()](const Tensor& dy) -> std::vector<Tensor> {
                      Tensor dx = Tensor::empty(shape, dy.dtype(), dy.device());
                      switch (dy.device().type) {
                          case DeviceType::CPU:
                              if (dy.dtype() == DType::F64) {
                                  kernels::max_pool2d_backward_cpu<double>(dx.f64(), dy.f64(),
                                                                           argmax.i64(), d);
                              } else {
                                  kernels::max_pool2d_backward_cpu<float>(dx.f32(), dy.f32(),
                                                                          argmax.i64(), d);
                              }
                              break;
                          case DeviceType::CUDA:
                              OBL_CUDA_ONLY(kernels::max_pool2d_backward_cuda(
                                  dx.f32(), dy.f32(), argmax.i64(), d, cuda_context().stream()));
                              break;
                      }
                      return {dx};
                  });
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
    const kernels::Pool2dDims d = window_dims(x, kernel, stride, padding, "avg_pool2d");
    Tensor y = Tensor::empty(out_shape(d), x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::avg_pool2d_forward_cpu<double>(y.f64(), x.f64(), d);
            } else {
                kernels::avg_pool2d_forward_cpu<float>(y.f32(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(
                kernels::avg_pool2d_forward_cuda(y.f32(), x.f32(), d, cuda_context().stream()));
            break;
    }
    return record("avg_pool2d", y, {x}, [d, shape = x.shape()](const Tensor& dy) {
        Tensor dx = Tensor::empty(shape, dy.dtype(), dy.device());
        switch (dy.device().type) {
            case DeviceType::CPU:
                if (dy.dtype() == DType::F64) {
                    kernels::avg_pool2d_backward_cpu<double>(dx.f64(), dy.f64(), d);
                } else {
                    kernels::avg_pool2d_backward_cpu<float>(dx.f32(), dy.f32(), d);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::avg_pool2d_backward_cuda(dx.f32(), dy.f32(), d,
                                                                cuda_context().stream()));
                break;
        }
        return std::vector<Tensor>{dx};
    });
}

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
    check_pool_input(x, "adaptive_avg_pool2d");
    OBL_CHECK(out_h >= 1 && out_w >= 1, "adaptive_avg_pool2d: output size must be >= 1, got (",
              out_h, ", ", out_w, ")");
    OBL_CHECK(x.size(2) >= 1 && x.size(3) >= 1, "adaptive_avg_pool2d: empty input ", x.shape());
    kernels::Pool2dDims d;
    d.n = x.size(0);
    d.c = x.size(1);
    d.h = x.size(2);
    d.w = x.size(3);
    d.oh = out_h;
    d.ow = out_w;
    Tensor y = Tensor::empty(out_shape(d), x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::adaptive_avg_pool2d_forward_cpu<double>(y.f64(), x.f64(), d);
            } else {
                kernels::adaptive_avg_pool2d_forward_cpu<float>(y.f32(), x.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::adaptive_avg_pool2d_forward_cuda(y.f32(), x.f32(), d,
                                                                    cuda_context().stream()));
            break;
    }
    return record("adaptive_avg_pool2d", y, {x}, [d, shape = x.shape()](const Tensor& dy) {
        Tensor dx = Tensor::empty(shape, dy.dtype(), dy.device());
        switch (dy.device().type) {
            case DeviceType::CPU:
                if (dy.dtype() == DType::F64) {
                    kernels::adaptive_avg_pool2d_backward_cpu<double>(dx.f64(), dy.f64(), d);
                } else {
                    kernels::adaptive_avg_pool2d_backward_cpu<float>(dx.f32(), dy.f32(), d);
                }
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::adaptive_avg_pool2d_backward_cuda(dx.f32(), dy.f32(), d,
                                                                         cuda_context().stream()));
                break;
        }
        return std::vector<Tensor>{dx};
    });
}

}  // namespace obl
