// Op-table rows for the fused linear-head step (kernels/head_step.h).
//   Non-differentiable (the op IS a forward + backward; its gradients are checked against autodiff
//   and finite differences in tests/unlearn/test_head_step.cpp). inputs[0] is z (N, D), inputs[1]
//   the weight W (K, D), inputs[2] (when present) the bias b (K). fn builds fixed targets
//   t_n = (7 n + 3) mod K and signed per-sample weights, runs head_step (unlearn/head_step.h) and
//   returns every output flattened into one vector: [loss, dW, db, logits, G], so FastVsRef and
//   CpuVsCuda compare all of them. Tolerance: GEMM on random data (1e-4 / 1e-4, DESIGN.md §K): the
//   fast path and cuBLAS sum in float, the reference in double.
#include "tests/kernels/op_case.h"
#include "unlearn/head_step.h"

namespace obl::test {

namespace {

OpCase head_step_row(const std::string& name, int64_t n, int64_t d, int64_t k, bool bias,
                     bool weighted) {
    OpCase c;
    c.name = name;
    c.kernel = "head_step";
    c.inputs = {{n, d}, {k, d}};
    if (bias) c.inputs.push_back({k});
    c.lo = -2.0;
    c.hi = 2.0;
    c.differentiable = false;
    c.has_fast_cpu = true;
    c.atol = 1e-4;
    c.rtol = 1e-4;
    c.fn = [=](const std::vector<Tensor>& in) {
        const Device dev = in[0].device();
        std::vector<int64_t> t(static_cast<size_t>(n));
        std::vector<double> w(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
            t[static_cast<size_t>(i)] = (7 * i + 3) % k;
            w[static_cast<size_t>(i)] = (i % 3 == 1 ? -0.5 : 1.0) / static_cast<double>(n);
        }
        const Tensor targets = Tensor::from_vector(t, Shape{n}).to(dev);
        const Tensor weights =
            weighted ? Tensor::from_vector(w, Shape{n}).to(in[0].dtype()).to(dev) : Tensor();
        const HeadStepResult r = head_step(in[0], in[1], bias ? in[2] : Tensor(), targets, weights);
        std::vector<Tensor> parts{r.loss.reshape({1}), r.grad_weight.flatten(0)};
        if (bias) parts.push_back(r.grad_bias);
        parts.push_back(r.logits.flatten(0));
        parts.push_back(r.grad_logits.flatten(0));
        return concat(parts, 0);
    };
    return c;
}

}  // namespace

std::vector<OpCase> head_step_cases() {
    return {
        // ResNet-20's pre_logits head at the methods' batch size, mean CE.
        head_step_row("head_step_N256_D64_K10", 256, 64, 10, true, false),
        // NG+-style signed weights; awkward sizes (not multiples of 16), no bias, N = 1, K = 1.
        head_step_row("head_step_signed_N37_D21_K3", 37, 21, 3, true, true),
        head_step_row("head_step_nobias_N50_D17_K7", 50, 17, 7, false, true),
        head_step_row("head_step_N1_D5_K1", 1, 5, 1, true, true),
        // A CIFAR-100 / ResNet-18-sized head.
        head_step_row("head_step_N300_D512_K100", 300, 512, 100, true, true),
    };
}

}  // namespace obl::test
