// The op table (DESIGN.md §K, ggml's test_case): one OpCase row per op and shape. The generic
// suites in op_harness.cpp run over every row:
//   GradCheck/<row>   CPU, f64: analytic gradient (our backward) vs central differences of
//                     L = sum(w * y), w a fixed random vector, at <= 64 sampled coordinates.
//   FastVsRef/<row>   CPU, f32: fast path vs ReferenceCpuGuard, forward and backward (rows with
//                     has_fast_cpu only).
//   CpuVsCuda/<row>   f32: CUDA vs CPU reference, forward and backward; skipped without a GPU.
// Pass rule |a - b| <= atol + rtol * |ref|; failures print max abs/rel error and the first bad
// index. Forward VALUES are checked against hand-computed numbers in tests/nn/test_<family>.cpp.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "nn/ops.h"

namespace obl::test {

struct OpCase {
    std::string name;    // unique row name, [A-Za-z0-9_] (becomes the test name)
    std::string kernel;  // the kernels/<kernel>.h this row exercises (checked by the inventory)
    std::vector<Shape> inputs;  // floating inputs, drawn uniformly in [lo, hi]
    // The op under test. Receives the inputs on the device and dtype under test; must create any
    // integer arguments (indices, labels) on inputs[0].device().
    std::function<Tensor(const std::vector<Tensor>&)> fn;
    double lo = -1.0, hi = 1.0;
    bool differentiable = true;  // GradCheck row
    bool has_fast_cpu = false;   // FastVsRef row
    double atol = 1e-6, rtol = 1e-5;            // forward+backward comparisons in f32
    double grad_atol = 1e-6, grad_rtol = 1e-5;  // f64 finite differences, step grad_step
    double grad_step = 1e-6;
    // Optional: nudges drawn values away from kinks (relu at 0, max ties, ...), per input.
    std::function<void(std::vector<double>& values, size_t input)> avoid_kinks;
};

// gtest prints a row by its name (ctest lists parameterised tests with their printed parameter).
inline void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

// One function per family, each defined in tests/kernels/op_cases_<family>.cpp.
std::vector<OpCase> elementwise_cases();
std::vector<OpCase> reduce_cases();
std::vector<OpCase> softmax_cases();
std::vector<OpCase> gemm_cases();
std::vector<OpCase> conv_cases();
std::vector<OpCase> shape_cases();
std::vector<OpCase> random_cases();
std::vector<OpCase> synth_cases();
std::vector<OpCase> head_step_cases();

// Every row, in the order written out in op_cases.cpp.
const std::vector<OpCase>& all_op_cases();

}  // namespace obl::test
