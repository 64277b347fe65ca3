// Op-table rows for the random family (kernels/random.h), dropout (kernels/dropout.h) and the
// optimizer updates (kernels/optim.h).
//   random:  non-differentiable; fn draws from Philox with the shape and device of inputs[0] (its
//            values are ignored), so FastVsRef compares the SIMD stream with the reference and
//            CpuVsCuda the GPU stream with the CPU's. Normals: 1e-6 abs (one float ulp at |z| < 8).
//   dropout: differentiable (linear in x for a fixed mask), training mode, p = 0.3.
//   optim:   non-differentiable; fn copies inputs[0] as the parameter and inputs[1] as its
//            gradient, takes two optimizer steps (the second uses the state of the first) and
//            returns the new parameter.
#include <memory>

#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"
#include "tests/kernels/op_case.h"

namespace obl::test {

namespace {

OpCase random_row(const std::string& name, const Shape& shape,
                  std::function<Tensor(const std::vector<Tensor>&)> fn) {
    OpCase c;
    c.name = name;
    c.kernel = "random";
    c.inputs = {shape};
    c.fn = std::move(fn);
    c.differentiable = false;
    c.has_fast_cpu = true;
    c.atol = 1e-6;
    c.rtol = 0;
    return c;
}

OpCase dropout_row(const std::string& name, const Shape& shape) {
    OpCase c;
    c.name = name;
    c.kernel = "dropout";
    c.inputs = {shape};
    c.fn = [](const std::vector<Tensor>& in) { return dropout(in[0], 0.3, true, 2024); };
    return c;
}

// Two steps of `make(param)` on copies of (param, grad) = (inputs[0], inputs[1]).
template <class MakeOptimizer>
OpCase optim_row(const std::string& name, const Shape& shape, MakeOptimizer make) {
    OpCase c;
    c.name = name;
    c.kernel = "optim";
    c.inputs = {shape, shape};
    c.differentiable = false;
    c.fn = [make](const std::vector<Tensor>& in) {
        Tensor param = in[0].detach().clone();
        param.set_requires_grad(true);
        std::unique_ptr<Optimizer> opt = make(param);
        for (int step = 0; step < 2; ++step) {
            param.set_grad(in[1].detach().clone());
            opt->step();
        }
        return param.detach();
    };
    return c;
}

std::unique_ptr<Optimizer> make_sgd(const Tensor& param) {
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    o.weight_decay = 0.01;
    o.nesterov = true;
    return std::make_unique<Sgd>(std::vector<Tensor>{param}, o);
}

std::unique_ptr<Optimizer> make_sgd_dampened(const Tensor& param) {
    SgdOptions o;
    o.lr = 0.05;
    o.momentum = 0.8;
    o.dampening = 0.3;
    return std::make_unique<Sgd>(std::vector<Tensor>{param}, o);
}

std::unique_ptr<Optimizer> make_adam(const Tensor& param) {
    AdamOptions o;
    o.lr = 0.01;
    o.weight_decay = 0.1;
    return std::make_unique<Adam>(std::vector<Tensor>{param}, o);
}

std::unique_ptr<Optimizer> make_adamw(const Tensor& param) {
    AdamWOptions o;
    o.lr = 0.01;
    return std::make_unique<AdamW>(std::vector<Tensor>{param}, o);
}

}  // namespace

std::vector<OpCase> random_cases() {
    return {
        random_row("random_randn", Shape{64, 33},
                   [](const std::vector<Tensor>& in) {
                       return randn(in[0].shape(), 0, 1, 1234, 0, in[0].device());
                   }),
        random_row("random_randn_awkward", Shape{1, 7, 3},  // 21 elements, odd offset
                   [](const std::vector<Tensor>& in) {
                       return randn(in[0].shape(), 0.5, 2, 99, 5, in[0].device());
                   }),
        random_row("random_uniform", Shape{3, 67},
                   [](const std::vector<Tensor>& in) {
                       return rand_uniform(in[0].shape(), -2, 3, 7, 3, in[0].device());
                   }),
        dropout_row("dropout_p03", Shape{8, 64}),
        dropout_row("dropout_p03_awkward", Shape{1, 5, 7}),
        optim_row("optim_sgd_nesterov", Shape{16, 33}, make_sgd),
        optim_row("optim_sgd_dampening_awkward", Shape{1, 7}, make_sgd_dampened),
        optim_row("optim_adam", Shape{16, 33}, make_adam),
        optim_row("optim_adamw_awkward", Shape{1, 7}, make_adamw),
    };
}

}  // namespace obl::test
