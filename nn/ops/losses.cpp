// Fused losses (kernels/cross_entropy.h, kernels/kl_div.h): cross_entropy (hard targets, label
// smoothing), cross_entropy_soft (target distributions) and kl_div (batchmean).
//
// cross_entropy on f32 CPU takes the fused fast path unless ReferenceCpuGuard: its forward also
// writes the gradient for dloss = 1, and the backward only scales it. The reference and CUDA
// paths save softmax(x) and run one fused backward kernel. Targets: i64 (i32 is accepted and
// widened). Out-of-range targets throw obl::Error on CPU tensors (naming the target and K); on
// CUDA they are not checked on the host (that would sync every step): the kernel makes that
// row's loss and gradient NaN instead.
#include "kernels/cross_entropy.h"
#include "kernels/kl_div.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"
#include "nn/ops/softmax.h"

namespace obl {

namespace {

using kernels::CrossEntropyDims;

CrossEntropyDims check_logits(const Tensor& logits, const char* op) {
    check_defined(logits, op, "logits");
    check_floating(logits, op, "logits");
    OBL_CHECK(logits.dim() == 2, op, ": logits must be (N, K), got ", logits.describe());
    OBL_CHECK(logits.size(0) > 0 && logits.size(1) > 0, op,
              ": logits need N >= 1 rows and K >= 1 classes, got ", logits.describe());
    if (logits.device().is_cuda()) check_dtype(logits, DType::F32, op, "logits");
    return CrossEntropyDims{logits.size(0), logits.size(1)};
}

// The second argument must not carry a gradient we would silently drop.
void check_no_grad(const Tensor& t, const char* op, const char* arg) {
    OBL_CHECK(!(GradMode::enabled() && t.requires_grad()), op, ": '", arg,
              "' requires grad, but no gradient flows to it; pass ", arg,
              ".detach() (or compute it under NoGradGuard)");
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, double label_smoothing) {
    const CrossEntropyDims d = check_logits(logits, "cross_entropy");
    check_defined(targets, "cross_entropy", "targets");
    OBL_CHECK(targets.dtype() == DType::I64 || targets.dtype() == DType::I32,
              "cross_entropy: targets must be i64 (or i32) class indices, got ",
              targets.describe());
    OBL_CHECK(targets.dim() == 1 && targets.size(0) == d.n, "cross_entropy: targets ",
              targets.shape(), " do not match logits ", logits.shape(), " (need targets [", d.n,
              "])");
    check_same_device(logits, targets, "cross_entropy");
    OBL_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
              "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
    const Tensor t = targets.dtype() == DType::I64 ? targets : targets.to(DType::I64);
    const double e = label_smoothing;

    const bool need_grad = GradMode::enabled() && logits.requires_grad();
    Tensor loss = Tensor::empty(Shape{}, logits.dtype(), logits.device());
    // The reference and CUDA paths save p = softmax(x); the fast path saves (p - q) / N.
    Tensor saved =
        need_grad ? Tensor::empty(logits.shape(), logits.dtype(), logits.device()) : Tensor();
    bool fused = false;
    switch (logits.device().type) {
        case DeviceType::CPU:
            if (logits.dtype() == DType::F64) {
                kernels::cross_entropy_forward_cpu<double>(
                    loss.f64(), need_grad ? saved.f64() : nullptr, logits.f64(), t.i64(), d, e);
            } else if (use_fast_cpu()) {
                fused = true;
                kernels::cross_entropy_fused_fast_cpu(loss.f32(), need_grad ? saved.f32() : nullptr,
                                                      logits.f32(), t.i64(), d,
                                                      static_cast<float>(e));
            } else {
                kernels::cross_entropy_forward_cpu<float>(
                    loss.f32(), need_grad ? saved.f32() : nullptr, logits.f32(), t.i64(), d, e);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::cross_entropy_forward_cuda(
                loss.f32(), need_grad ? saved.f32() : nullptr, logits.f32(), t.i64(), d,
                static_cast<float>(e), cuda_context().stream()));
            break;
    }
    return record("cross_entropy", loss, {logits},
                  [saved, t, d, e, fused](const Tensor& dloss) -> std::vector<Tensor> {
                      Tensor dx = Tensor::empty(saved.shape(), saved.dtype(), saved.device());
                      switch (saved.device().type) {
                          case DeviceType::CPU:
                              if (fused)
                                  kernels::cross_entropy_backward_fast_cpu(dx.f32(), dloss.f32(),
                                                                           saved.f32(), d);
                              else if (saved.dtype() == DType::F64)
                                  kernels::cross_entropy_backward_cpu<double>(
                                      dx.f64(), dloss.f64(), saved.f64(), t.i64(), d, e);
                              else
                                  kernels::cross_entropy_backward_cpu<float>(
                                      dx.f32(), dloss.f32(), saved.f32(), t.i64(), d, e);
                              break;
                          case DeviceType::CUDA:
                              OBL_CUDA_ONLY(kernels::cross_entropy_backward_cuda(
                                  dx.f32(), dloss.f32(), saved.f32(), t.i64(), d,
                                  static_cast<float>(e), cuda_context().stream()));
                              break;
                      }
                      return {dx};
                  });
}

Tensor cross_entropy_soft(const Tensor& logits, const Tensor& target_probs) {
    const CrossEntropyDims d = check_logits(logits, "cross_entropy_soft");
    check_defined(target_probs, "cross_entropy_soft", "target_probs");
    check_same_shape(logits, target_probs, "cross_entropy_soft");
    check_same_device(logits, target_probs, "cross_entropy_soft");
    check_dtype(target_probs, logits.dtype(), "cross_entropy_soft", "target_probs");
    check_no_grad(target_probs, "cross_entropy_soft", "target_probs");
    const Tensor q = target_probs.detach();

    const bool need_grad = GradMode::enabled() && logits.requires_grad();
    Tensor loss = Tensor::empty(Shape{}, logits.dtype(), logits.device());
    Tensor saved =
        need_grad ? Tensor::empty(logits.shape(), logits.dtype(), logits.device()) : Tensor();
    bool fused = false;
    switch (logits.device().type) {
        case DeviceType::CPU:
            if (logits.dtype() == DType::F64) {
                kernels::cross_entropy_soft_forward_cpu<double>(
                    loss.f64(), need_grad ? saved.f64() : nullptr, logits.f64(), q.f64(), d);
            } else if (use_fast_cpu()) {
                fused = true;
                kernels::cross_entropy_soft_fused_fast_cpu(
                    loss.f32(), need_grad ? saved.f32() : nullptr, logits.f32(), q.f32(), d);
            } else {
                kernels::cross_entropy_soft_forward_cpu<float>(
                    loss.f32(), need_grad ? saved.f32() : nullptr, logits.f32(), q.f32(), d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::cross_entropy_soft_forward_cuda(
                loss.f32(), need_grad ? saved.f32() : nullptr, logits.f32(), q.f32(), d,
                cuda_context().stream()));
            break;
    }
    return record(
        "cross_entropy_soft", loss, {logits},
        [saved, q, d, fused](const Tensor& dloss) -> std::vector<Tensor> {
            Tensor dx = Tensor::empty(saved.shape(), saved.dtype(), saved.device());
            switch (saved.device().type) {
                case DeviceType::CPU:
                    if (fused)
                        kernels::cross_entropy_backward_fast_cpu(dx.f32(), dloss.f32(), saved.f32(),
                                                                 d);
                    else if (saved.dtype() == DType::F64)
                        kernels::cross_entropy_soft_backward_cpu<double>(dx.f64(), dloss.f64(),
                                                                         saved.f64(), q.f64(), d);
                    else
                        kernels::cross_entropy_soft_backward_cpu<float>(dx.f32(), dloss.f32(),
                                                                        saved.f32(), q.f32(), d);
                    break;
                case DeviceType::CUDA:
                    OBL_CUDA_ONLY(kernels::cross_entropy_soft_backward_cuda(
                        dx.f32(), dloss.f32(), saved.f32(), q.f32(), d, cuda_context().stream()));
                    break;
            }
            return {dx};
        });
}

Tensor kl_div(const Tensor& log_q, const Tensor& p) {
    check_defined(log_q, "kl_div", "log_q");
    check_defined(p, "kl_div", "p");
    check_floating(log_q, "kl_div", "log_q");
    check_same_shape(log_q, p, "kl_div");
    check_same_device(log_q, p, "kl_div");
    check_dtype(p, log_q.dtype(), "kl_div", "p");
    OBL_CHECK(log_q.dim() >= 1 && log_q.size(0) > 0,
              "kl_div: needs a batch dim with N >= 1 (batchmean divides by size(0)), got ",
              log_q.describe());
    if (log_q.device().is_cuda()) check_dtype(log_q, DType::F32, "kl_div", "log_q");
    check_no_grad(p, "kl_div", "p");
    const kernels::KlDivDims d{log_q.size(0), log_q.numel() / log_q.size(0)};
    const Tensor pd = p.detach();

    Tensor loss = Tensor::empty(Shape{}, log_q.dtype(), log_q.device());
    switch (log_q.device().type) {
        case DeviceType::CPU:
            if (log_q.dtype() == DType::F64)
                kernels::kl_div_forward_cpu<double>(loss.f64(), log_q.f64(), pd.f64(), d);
            else
                kernels::kl_div_forward_cpu<float>(loss.f32(), log_q.f32(), pd.f32(), d);
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::kl_div_forward_cuda(loss.f32(), log_q.f32(), pd.f32(), d,
                                                       cuda_context().stream()));
            break;
    }
    return record("kl_div", loss, {log_q}, [pd, d](const Tensor& dloss) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(pd.shape(), pd.dtype(), pd.device());
        switch (pd.device().type) {
            case DeviceType::CPU:
                if (pd.dtype() == DType::F64)
                    kernels::kl_div_backward_cpu<double>(dx.f64(), dloss.f64(), pd.f64(), d);
                else
                    kernels::kl_div_backward_cpu<float>(dx.f32(), dloss.f32(), pd.f32(), d);
                break;
            case DeviceType::CUDA:
                OBL_CUDA_ONLY(kernels::kl_div_backward_cuda(dx.f32(), dloss.f32(), pd.f32(), d,
                                                            cuda_context().stream()));
                break;
        }
        return {dx};
    });
}

}  // namespace obl
