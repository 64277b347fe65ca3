// conv2d: check -> allocate -> dispatch -> record (kernels/conv2d.h has the formulas).
#include "kernels/conv2d.h"

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"
#include "nn/ops/conv.h"

namespace obl {

namespace {

void check_conv_args(const Tensor& x, const Tensor& weight, const Tensor& bias,
                     const Conv2dParams& p) {
    check_defined(x, "conv2d", "x");
    check_defined(weight, "conv2d", "weight");
    check_floating(x, "conv2d", "x");
    OBL_CHECK(x.dim() == 4, "conv2d: input must be (N, C, H, W), got ", x.describe());
    OBL_CHECK(weight.dim() == 4, "conv2d: weight must be (O, C / groups, KH, KW), got ",
              weight.describe());
    check_same_device(x, weight, "conv2d");
    OBL_CHECK(weight.dtype() == x.dtype(), "conv2d: weight ", weight.describe(), " and input ",
              x.describe(), " differ in dtype");
    OBL_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "conv2d: stride must be >= 1, got (", p.stride_h,
              ", ", p.stride_w, ")");
    OBL_CHECK(p.dilation_h >= 1 && p.dilation_w >= 1, "conv2d: dilation must be >= 1, got (",
              p.dilation_h, ", ", p.dilation_w, ")");
    OBL_CHECK(p.pad_h >= 0 && p.pad_w >= 0, "conv2d: padding must be >= 0, got (", p.pad_h, ", ",
              p.pad_w, ")");
    OBL_CHECK(p.groups >= 1, "conv2d: groups must be >= 1, got ", p.groups);
    OBL_CHECK(x.size(1) % p.groups == 0, "conv2d: input channels ", x.size(1),
              " are not divisible by groups ", p.groups, " (input ", x.shape(), ")");
    OBL_CHECK(weight.size(0) % p.groups == 0, "conv2d: output channels ", weight.size(0),
              " are not divisible by groups ", p.groups, " (weight ", weight.shape(), ")");
    OBL_CHECK(x.size(1) == weight.size(1) * p.groups, "conv2d: input has ", x.size(1),
              " channels, weight expects ", weight.size(1) * p.groups, " (input ", x.shape(),
              ", weight ", weight.shape(), ", groups ", p.groups, ")");
    if (bias.defined()) {
        check_same_device(x, bias, "conv2d");
        OBL_CHECK(bias.dtype() == x.dtype(), "conv2d: bias ", bias.describe(), " and input ",
                  x.describe(), " differ in dtype");
        OBL_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "conv2d: bias ", bias.shape(),
                  " must be (", weight.size(0), ") for weight ", weight.shape());
    }
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32,
              "conv2d: CUDA computes in f32 only, got ", x.describe());
}

template <class T>
T* data_or_null(const Tensor& t) {
    return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
    check_conv_args(x, weight, bias, p);
    kernels::Conv2dDims d;
    d.n = x.size(0);
    d.c = x.size(1);
    d.h = x.size(2);
    d.w = x.size(3);
    d.o = weight.size(0);
    d.kh = weight.size(2);
    d.kw = weight.size(3);
    d.stride_h = p.stride_h;
    d.stride_w = p.stride_w;
    d.pad_h = p.pad_h;
    d.pad_w = p.pad_w;
    d.dilation_h = p.dilation_h;
    d.dilation_w = p.dilation_w;
    d.groups = p.groups;
    d.oh = kernels::conv2d_out_size(d.h, d.kh, d.stride_h, d.pad_h, d.dilation_h);
    d.ow = kernels::conv2d_out_size(d.w, d.kw, d.stride_w, d.pad_w, d.dilation_w);
    OBL_CHECK(d.oh >= 1 && d.ow >= 1, "conv2d: kernel ", weight.shape(), " with dilation (",
              d.dilation_h, ", ", d.dilation_w, ") does not fit input ", x.shape(), " padded by (",
              d.pad_h, ", ", d.pad_w, ")");

    Tensor y = Tensor::empty({d.n, d.o, d.oh, d.ow}, x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::conv2d_forward_cpu<double>(y.f64(), x.f64(), weight.f64(),
                                                    data_or_null<double>(bias), d);
            } else if (use_fast_cpu()) {
                kernels::conv2d_forward_fast_cpu(y.f32(), x.f32(), weight.f32(),
                                                 data_or_null<float>(bias), d);
            } else {
                kernels::conv2d_forward_cpu<float>(y.f32(), x.f32(), weight.f32(),
                                                   data_or_null<float>(bias), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::conv2d_forward_cuda(y.f32(), x.f32(), weight.f32(),
                                                       data_or_null<float>(bias), d,
                                                       cuda_context().stream()));
            break;
    }

    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    return record(
        "conv2d", y, {x, weight, bias},
        [xd = x.detach(), wd = weight.detach(), d, need_x, need_w,
         need_b](const Tensor& dy) -> std::vector<Tensor> {
            Tensor dx, dw, db;
            if (need_x) dx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
            if (need_w) dw = Tensor::empty(wd.shape(), wd.dtype(), wd.device());
            if (need_b) db = Tensor::empty({d.o}, xd.dtype(), xd.device());
            switch (xd.device().type) {
                case DeviceType::CPU:
                    if (xd.dtype() == DType::F64) {
                        kernels::conv2d_backward_cpu<double>(
                            data_or_null<double>(dx), data_or_null<double>(dw),
                            data_or_null<double>(db), dy.f64(), xd.f64(), wd.f64(), d);
                    } else if (use_fast_cpu()) {
                        kernels::conv2d_backward_fast_cpu(
                            data_or_null<float>(dx), data_or_null<float>(dw),
                            data_or_null<float>(db), dy.f32(), xd.f32(), wd.f32(), d);
                    } else {
                        kernels::conv2d_backward_cpu<float>(
                            data_or_null<float>(dx), data_or_null<float>(dw),
                            data_or_null<float>(db), dy.f32(), xd.f32(), wd.f32(), d);
                    }
                    break;
                case DeviceType::CUDA:
                    OBL_CUDA_ONLY(kernels::conv2d_backward_cuda(
                        data_or_null<float>(dx), data_or_null<float>(dw), data_or_null<float>(db),
                        dy.f32(), xd.f32(), wd.f32(), d, cuda_context().stream()));
                    break;
            }
            return {dx, dw, db};
        });
}

}  // namespace obl
