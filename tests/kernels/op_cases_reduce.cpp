// Op-table rows for the reduce family (kernels/reduce.h): sum, mean, max, min, argmax, var over
// one dim, sum_all, mean_all. Shapes cover the three CUDA mappings: I = 1 with small R (a warp per
// output), I = 1 with R > 1024 (a block per output) and I > 1 (a thread per output).
#include <algorithm>
#include <numeric>

#include "tests/kernels/op_case.h"

namespace obl::test {

namespace {

// Reductions and softmax-like ops: DESIGN.md §K tolerances.
constexpr double kAtol = 1e-5, kRtol = 1e-4;

OpCase row(std::string name, Shape shape, std::function<Tensor(const Tensor&)> f) {
    OpCase c;
    c.name = std::move(name);
    c.kernel = "reduce";
    c.inputs = {shape};
    c.fn = [f](const std::vector<Tensor>& in) { return f(in[0]); };
    c.atol = kAtol;
    c.rtol = kRtol;
    return c;
}

// max/min kinks: ties (and near-ties a finite-difference step could swap). Replaces the draws by
// an evenly spaced permutation of [lo, hi] in the same order: distinct values at least
// (hi - lo) / n apart, far more than the 1e-6 gradient step.
void spread_values(std::vector<double>& v, size_t) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    const double step = 2.0 / static_cast<double>(v.size());
    for (size_t rank = 0; rank < order.size(); ++rank)
        v[order[rank]] = -1.0 + (static_cast<double>(rank) + 0.5) * step;
}

OpCase extremum_row(std::string name, Shape shape, std::function<Tensor(const Tensor&)> f) {
    OpCase c = row(std::move(name), shape, std::move(f));
    c.avoid_kinks = spread_values;
    return c;
}

}  // namespace

std::vector<OpCase> reduce_cases() {
    std::vector<OpCase> rows = {
        row("sum_dim1", {4, 7, 5}, [](const Tensor& x) { return sum(x, 1); }),
        row("sum_last_keepdim", {6, 33}, [](const Tensor& x) { return sum(x, -1, true); }),
        row("sum_dim0_awkward", {37, 3}, [](const Tensor& x) { return sum(x, 0); }),
        row("sum_long_row", {3, 2500}, [](const Tensor& x) { return sum(x, 1); }),
        row("sum_n1", {1, 1}, [](const Tensor& x) { return sum(x, 0); }),
        row("mean_dim1", {5, 9, 2}, [](const Tensor& x) { return mean(x, 1, true); }),
        row("mean_last_awkward", {1, 45}, [](const Tensor& x) { return mean(x, -1); }),
        extremum_row("max_last", {6, 19}, [](const Tensor& x) { return max(x, 1); }),
        extremum_row("max_dim0_keepdim", {5, 3, 7},
                     [](const Tensor& x) { return max(x, 0, true); }),
        extremum_row("max_long_row", {2, 1500}, [](const Tensor& x) { return max(x, -1); }),
        extremum_row("min_dim1", {3, 17, 4}, [](const Tensor& x) { return min(x, 1); }),
        extremum_row("min_last_n1", {1, 10}, [](const Tensor& x) { return min(x, -1); }),
        row("var_unbiased_last", {5, 9}, [](const Tensor& x) { return var(x, 1); }),
        row("var_population_dim0", {8, 3, 4}, [](const Tensor& x) { return var(x, 0, false); }),
        row("var_unbiased_awkward", {1, 37},
            [](const Tensor& x) { return var(x, -1, true, true); }),
        row("var_long_row", {2, 3000}, [](const Tensor& x) { return var(x, 1, false); }),
        row("sum_all", {3, 5, 7}, [](const Tensor& x) { return sum_all(x); }),
        row("mean_all_awkward", {129}, [](const Tensor& x) { return mean_all(x); }),
    };
    // argmax: i64 output, not differentiable (compared exactly: values are spread apart).
    for (auto [name, shape, dim] : {std::tuple<const char*, Shape, int>{"argmax_last", {7, 10}, -1},
                                    {"argmax_dim0", {33, 5}, 0},
                                    {"argmax_long_row", {2, 2000}, 1}}) {
        OpCase c =
            extremum_row(name, shape, [dim = dim](const Tensor& x) { return argmax(x, dim); });
        c.differentiable = false;
        c.atol = c.rtol = 0;
        rows.push_back(c);
    }
    return rows;
}

}  // namespace obl::test
