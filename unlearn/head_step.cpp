// head_step(): check -> allocate -> dispatch for the fused linear-head step (kernels/head_step.h);
// find_linear_head(): the structural test the methods use to pick it.
#include "unlearn/head_step.h"

#include "kernels/head_step.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"
#include "nn/modules/sequential.h"

namespace obl {

HeadStepResult head_step(const Tensor& z, const Tensor& weight, const Tensor& bias,
                         const Tensor& targets, const Tensor& sample_weights) {
    const char* op = "head_step";
    check_defined(z, op, "z");
    check_defined(weight, op, "weight");
    check_defined(targets, op, "targets");
    check_floating(z, op, "z");
    OBL_CHECK(z.dim() == 2 && weight.dim() == 2 && z.size(1) == weight.size(1),
              "head_step: z must be (N, D) and weight (K, D), got z ", z.shape(), " and weight ",
              weight.shape());
    OBL_CHECK(z.size(0) >= 1 && weight.size(0) >= 1 && z.size(1) >= 1,
              "head_step: needs N, K, D >= 1, got z ", z.shape(), " and weight ", weight.shape());
    const kernels::HeadStepDims d{z.size(0), z.size(1), weight.size(0)};
    check_dtype(weight, z.dtype(), op, "weight");
    check_same_device(z, weight, op);
    if (bias.defined()) {
        OBL_CHECK(bias.dim() == 1 && bias.size(0) == d.k, "head_step: bias must be (K) = [", d.k,
                  "], got ", bias.shape());
        check_dtype(bias, z.dtype(), op, "bias");
        check_same_device(z, bias, op);
    }
    OBL_CHECK(targets.dtype() == DType::I64 && targets.dim() == 1 && targets.size(0) == d.n,
              "head_step: targets must be i64 (N) = [", d.n, "], got ", targets.describe());
    check_same_device(z, targets, op);
    if (sample_weights.defined()) {
        OBL_CHECK(sample_weights.dim() == 1 && sample_weights.size(0) == d.n,
                  "head_step: sample_weights must be (N) = [", d.n, "], got ",
                  sample_weights.shape());
        check_dtype(sample_weights, z.dtype(), op, "sample_weights");
        check_same_device(z, sample_weights, op);
    }
    if (z.device().is_cuda()) check_dtype(z, DType::F32, op, "z");

    const Device dev = z.device();
    const DType dt = z.dtype();
    HeadStepResult r;
    r.loss = Tensor::empty(Shape{}, dt, dev);
    r.logits = Tensor::empty(Shape{d.n, d.k}, dt, dev);
    r.grad_logits = Tensor::empty(Shape{d.n, d.k}, dt, dev);
    r.grad_weight = Tensor::empty(Shape{d.k, d.d}, dt, dev);
    if (bias.defined()) r.grad_bias = Tensor::empty(Shape{d.k}, dt, dev);
    switch (dev.type) {
        case DeviceType::CPU:
            if (dt == DType::F64) {
                kernels::head_step_cpu<double>(
                    r.loss.f64(), r.grad_weight.f64(), bias.defined() ? r.grad_bias.f64() : nullptr,
                    r.logits.f64(), r.grad_logits.f64(), z.f64(), weight.f64(),
                    bias.defined() ? bias.f64() : nullptr, targets.i64(),
                    sample_weights.defined() ? sample_weights.f64() : nullptr, d);
            } else if (use_fast_cpu()) {
                kernels::head_step_fast_cpu(
                    r.loss.f32(), r.grad_weight.f32(), bias.defined() ? r.grad_bias.f32() : nullptr,
                    r.logits.f32(), r.grad_logits.f32(), z.f32(), weight.f32(),
                    bias.defined() ? bias.f32() : nullptr, targets.i64(),
                    sample_weights.defined() ? sample_weights.f32() : nullptr, d);
            } else {
                kernels::head_step_cpu<float>(
                    r.loss.f32(), r.grad_weight.f32(), bias.defined() ? r.grad_bias.f32() : nullptr,
                    r.logits.f32(), r.grad_logits.f32(), z.f32(), weight.f32(),
                    bias.defined() ? bias.f32() : nullptr, targets.i64(),
                    sample_weights.defined() ? sample_weights.f32() : nullptr, d);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::head_step_cuda(
                r.loss.f32(), r.grad_weight.f32(), bias.defined() ? r.grad_bias.f32() : nullptr,
                r.logits.f32(), r.grad_logits.f32(), z.f32(), weight.f32(),
                bias.defined() ? bias.f32() : nullptr, targets.i64(),
                sample_weights.defined() ? sample_weights.f32() : nullptr, d,
                cuda_context().stream()));
            break;
    }
    return r;
}

namespace {

bool has_trainable(const Module& m) {
    for (const auto& [name, p] : m.named_parameters())
        if (p.requires_grad()) return true;
    return false;
}

// Appends the leaves of nested Sequentials, in execution order.
void flatten_sequential(Module& m, std::vector<Module*>& out) {
    if (auto* seq = dynamic_cast<Sequential*>(&m)) {
        for (const auto& child : seq->modules()) flatten_sequential(*child, out);
    } else {
        out.push_back(&m);
    }
}

}  // namespace

Tensor LinearHead::features(const Tensor& x) const {
    NoGradGuard no_grad;
    Tensor z = x;
    for (Module* m : prefix) z = m->forward(z);
    return z.detach();
}

std::optional<LinearHead> find_linear_head(Module& model) {
    std::vector<Module*> chain;
    flatten_sequential(model, chain);
    if (chain.empty()) return std::nullopt;
    auto* linear = dynamic_cast<Linear*>(chain.back());
    if (!linear || !linear->weight().requires_grad()) return std::nullopt;
    if (linear->bias().defined() && !linear->bias().requires_grad()) return std::nullopt;
    chain.pop_back();
    for (Module* m : chain)
        if (has_trainable(*m)) return std::nullopt;
    return LinearHead{chain, linear};
}

}  // namespace obl
