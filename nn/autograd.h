// Reverse-mode autodiff: a define-by-run graph with closures (DESIGN.md §E).
//
// Every differentiable op ends with
//     return record("softmax", y, {x}, [yd = y.detach()](const Tensor& dy) { ... return {dx}; });
// which attaches a Node to `y` only when GradMode is on and some input requires grad. The closure
// returns one gradient per input (an undefined Tensor where none is needed) and captures only
// what the backward needs. Capture outputs DETACHED (`y.detach()`): capturing `y` itself would
// make y -> node -> closure -> y a reference cycle.
//
// backward(root): topological order by DFS over grad_fn, walked in reverse with GradMode off;
// gradients are summed per node; leaves (requires_grad, no grad_fn) accumulate into .grad()
// (PyTorch semantics; cleared by zero_grad()); closures are released afterwards, freeing the
// graph (unless retain_graph). Backward kernels write fresh buffers; only the engine adds.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace obl {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
    const char* name;
    std::vector<Tensor> inputs;
    BackwardFn backward;
};

class GradMode {
   public:
    static bool enabled();
    static void set_enabled(bool on);
};

// RAII: disables graph recording in its scope (evaluation, embedding extraction, optimizers).
class NoGradGuard {
   public:
    NoGradGuard() : prev_(GradMode::enabled()) { GradMode::set_enabled(false); }
    ~NoGradGuard() { GradMode::set_enabled(prev_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

   private:
    bool prev_;
};

// Attaches a backward node to `out` when needed; returns `out` (possibly marked requires_grad).
Tensor record(const char* name, Tensor out, std::vector<Tensor> inputs, BackwardFn backward);

// Backpropagates from a scalar `loss` (d loss / d loss = 1).
void backward(const Tensor& loss, bool retain_graph = false);
// Backpropagates from any tensor with an explicit seed gradient of the same shape.
void backward(const Tensor& root, const Tensor& grad_root, bool retain_graph = false);

// One line per node in topological order: "softmax <- matmul, ..." (debugging aid).
std::string print_graph(const Tensor& root);

}  // namespace obl
