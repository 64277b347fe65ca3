// batch_norm and layer_norm: check -> allocate -> dispatch -> record (kernels/batch_norm.h and
// kernels/layer_norm.h have the formulas).
#include "kernels/batch_norm.h"
#include "kernels/layer_norm.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/ops/conv.h"

namespace obl {

namespace {

template <class T>
T* data_or_null(const Tensor& t) {
    return t.defined() ? t.data<T>() : nullptr;
}

// An optional per-channel (or per-feature) vector: undefined, or (size) with x's dtype and device.
void check_vector(const Tensor& v, const Tensor& x, int64_t size, const char* op, const char* arg,
                  const char* what) {
    if (!v.defined()) return;
    check_same_device(x, v, op);
    OBL_CHECK(v.dtype() == x.dtype(), op, ": ", arg, " ", v.describe(), " and input ", x.describe(),
              " differ in dtype");
    OBL_CHECK(v.dim() == 1 && v.size(0) == size, op, ": ", arg, " ", v.shape(), " does not match ",
              what, " ", size, " of x ", x.shape());
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, double momentum, double eps) {
    check_defined(x, "batch_norm", "x");
    check_floating(x, "batch_norm", "x");
    OBL_CHECK(x.dim() >= 2, "batch_norm: input must be (N, C) or (N, C, ...), got ", x.describe());
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32,
              "batch_norm: CUDA computes in f32 only, got ", x.describe());
    OBL_CHECK(eps > 0, "batch_norm: eps must be > 0, got ", eps);
    kernels::BatchNormDims d;
    d.n = x.size(0);
    d.c = x.size(1);
    d.s = x.shape().prod(2, x.dim());
    d.training = training;
    d.momentum = momentum;
    d.eps = eps;
    check_vector(weight, x, d.c, "batch_norm", "weight", "channels");
    check_vector(bias, x, d.c, "batch_norm", "bias", "channels");
    check_vector(running_mean, x, d.c, "batch_norm", "running_mean", "channels");
    check_vector(running_var, x, d.c, "batch_norm", "running_var", "channels");
    OBL_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: pass both running_mean and running_var, or neither");
    OBL_CHECK(training || running_mean.defined(),
              "batch_norm: eval mode needs running_mean and running_var");
    OBL_CHECK(!training || d.n * d.s > 1,
              "batch_norm: training needs more than 1 value per channel, got input ", x.shape());
    OBL_CHECK(!running_mean.defined() || !running_mean.requires_grad(),
              "batch_norm: running statistics are buffers and cannot require grad");

    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    Tensor save_mean = Tensor::empty({d.c}, x.dtype(), x.device());
    Tensor save_invstd = Tensor::empty({d.c}, x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::batch_norm_forward_cpu<double>(
                    y.f64(), save_mean.f64(), save_invstd.f64(), data_or_null<double>(running_mean),
                    data_or_null<double>(running_var), x.f64(), data_or_null<double>(weight),
                    data_or_null<double>(bias), d);
            } else {
                kernels::batch_norm_forward_cpu<float>(
                    y.f32(), save_mean.f32(), save_invstd.f32(), data_or_null<float>(running_mean),
                    data_or_null<float>(running_var), x.f32(), data_or_null<float>(weight),
                    data_or_null<float>(bias), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::batch_norm_forward_cuda(
                y.f32(), save_mean.f32(), save_invstd.f32(), data_or_null<float>(running_mean),
                data_or_null<float>(running_var), x.f32(), data_or_null<float>(weight),
                data_or_null<float>(bias), d, cuda_context().stream()));
            break;
    }

    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    return record(
        "batch_norm", y, {x, weight, bias},
        [xd = x.detach(), wd = weight.defined() ? weight.detach() : Tensor(), save_mean,
         save_invstd, d, need_x, need_w, need_b](const Tensor& dy) -> std::vector<Tensor> {
            Tensor dx, dw, db;
            if (need_x) dx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
            if (need_w) dw = Tensor::empty({d.c}, xd.dtype(), xd.device());
            if (need_b) db = Tensor::empty({d.c}, xd.dtype(), xd.device());
            switch (xd.device().type) {
                case DeviceType::CPU:
                    if (xd.dtype() == DType::F64) {
                        kernels::batch_norm_backward_cpu<double>(
                            data_or_null<double>(dx), data_or_null<double>(dw),
                            data_or_null<double>(db), dy.f64(), xd.f64(), data_or_null<double>(wd),
                            save_mean.f64(), save_invstd.f64(), d);
                    } else {
                        kernels::batch_norm_backward_cpu<float>(
                            data_or_null<float>(dx), data_or_null<float>(dw),
                            data_or_null<float>(db), dy.f32(), xd.f32(), data_or_null<float>(wd),
                            save_mean.f32(), save_invstd.f32(), d);
                    }
                    break;
                case DeviceType::CUDA:
                    OBL_CUDA_ONLY(kernels::batch_norm_backward_cuda(
                        data_or_null<float>(dx), data_or_null<float>(dw), data_or_null<float>(db),
                        dy.f32(), xd.f32(), data_or_null<float>(wd), save_mean.f32(),
                        save_invstd.f32(), d, cuda_context().stream()));
                    break;
            }
            return {dx, dw, db};
        });
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
    check_defined(x, "layer_norm", "x");
    check_floating(x, "layer_norm", "x");
    OBL_CHECK(x.dim() >= 1 && x.size(-1) >= 1, "layer_norm: input needs a non-empty last dim, got ",
              x.describe());
    OBL_CHECK(x.device().is_cpu() || x.dtype() == DType::F32,
              "layer_norm: CUDA computes in f32 only, got ", x.describe());
    OBL_CHECK(eps > 0, "layer_norm: eps must be > 0, got ", eps);
    kernels::LayerNormDims d;
    d.d = x.size(-1);
    d.rows = x.numel() / d.d;
    d.eps = eps;
    check_vector(weight, x, d.d, "layer_norm", "weight", "last dim");
    check_vector(bias, x, d.d, "layer_norm", "bias", "last dim");

    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    Tensor save_mean = Tensor::empty({d.rows}, x.dtype(), x.device());
    Tensor save_rstd = Tensor::empty({d.rows}, x.dtype(), x.device());
    switch (x.device().type) {
        case DeviceType::CPU:
            if (x.dtype() == DType::F64) {
                kernels::layer_norm_forward_cpu<double>(y.f64(), save_mean.f64(), save_rstd.f64(),
                                                        x.f64(), data_or_null<double>(weight),
                                                        data_or_null<double>(bias), d);
            } else {
                kernels::layer_norm_forward_cpu<float>(y.f32(), save_mean.f32(), save_rstd.f32(),
                                                       x.f32(), data_or_null<float>(weight),
                                                       data_or_null<float>(bias), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::layer_norm_forward_cuda(
                y.f32(), save_mean.f32(), save_rstd.f32(), x.f32(), data_or_null<float>(weight),
                data_or_null<float>(bias), d, cuda_context().stream()));
            break;
    }

    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    return record(
        "layer_norm", y, {x, weight, bias},
        [xd = x.detach(), wd = weight.defined() ? weight.detach() : Tensor(), save_mean, save_rstd,
         d, need_x, need_w, need_b](const Tensor& dy) -> std::vector<Tensor> {
            Tensor dx, dw, db;
            if (need_x) dx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
            if (need_w) dw = Tensor::empty({d.d}, xd.dtype(), xd.device());
            if (need_b) db = Tensor::empty({d.d}, xd.dtype(), xd.device());
            switch (xd.device().type) {
                case DeviceType::CPU:
                    if (xd.dtype() == DType::F64) {
                        kernels::layer_norm_backward_cpu<double>(
                            data_or_null<double>(dx), data_or_null<double>(dw),
                            data_or_null<double>(db), dy.f64(), xd.f64(), data_or_null<double>(wd),
                            save_mean.f64(), save_rstd.f64(), d);
                    } else {
                        kernels::layer_norm_backward_cpu<float>(
                            data_or_null<float>(dx), data_or_null<float>(dw),
                            data_or_null<float>(db), dy.f32(), xd.f32(), data_or_null<float>(wd),
                            save_mean.f32(), save_rstd.f32(), d);
                    }
                    break;
                case DeviceType::CUDA:
                    OBL_CUDA_ONLY(kernels::layer_norm_backward_cuda(
                        data_or_null<float>(dx), data_or_null<float>(dw), data_or_null<float>(db),
                        dy.f32(), xd.f32(), data_or_null<float>(wd), save_mean.f32(),
                        save_rstd.f32(), d, cuda_context().stream()));
                    break;
            }
            return {dx, dw, db};
        });
}

}  // namespace obl
