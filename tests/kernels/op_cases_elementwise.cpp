// Op-table rows for the elementwise family (kernels/unary.h, binary.h, where.h, broadcast.h).
// Every row name starts with "elementwise_" so --gtest_filter='*elementwise*' selects the family.
// Each op has a normal shape and an awkward one (N = 1, sizes not multiples of 16/32), and a few
// rows are large enough (> 32k elements) to take the OpenMP path. Non-smooth ops keep their
// inputs > 1e-3 away from the kinks; log, sqrt and pow draw positive inputs.
#include <cmath>

#include "tests/kernels/op_case.h"

namespace obl::test {

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Moves every value within `margin` of a kink to kink +- margin (the side it was on).
std::function<void(std::vector<double>&, size_t)> away_from(std::vector<double> kinks,
                                                            double margin = 1e-2) {
    return [kinks, margin](std::vector<double>& values, size_t) {
        for (double& v : values)
            for (double k : kinks)
                if (std::abs(v - k) < margin) v = v >= k ? k + margin : k - margin;
    };
}

std::string shape_tag(const Shape& s) {
    std::string t;
    for (int i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
    return s.size() == 0 ? "scalar" : t;
}

OpCase unary_row(const std::string& op, const Shape& s, std::function<Tensor(const Tensor&)> f,
                 double lo = -1.0, double hi = 1.0) {
    OpCase c;
    c.name = "elementwise_" + op + "_" + shape_tag(s);
    c.kernel = "unary";
    c.inputs = {s};
    c.fn = [f](const std::vector<Tensor>& in) { return f(in[0]); };
    c.lo = lo;
    c.hi = hi;
    return c;
}

OpCase binary_row(const std::string& op, const Shape& s,
                  std::function<Tensor(const Tensor&, const Tensor&)> f, double lo = -1.0,
                  double hi = 1.0) {
    OpCase c;
    c.name = "elementwise_" + op + "_" + shape_tag(s);
    c.kernel = "binary";
    c.inputs = {s, s};
    c.fn = [f](const std::vector<Tensor>& in) { return f(in[0], in[1]); };
    c.lo = lo;
    c.hi = hi;
    return c;
}

// A fixed mask with runs of both values: true where (i % 5) < 2 or i % 7 == 3.
Tensor mask_for(const Shape& s, Device device) {
    std::vector<uint8_t> m(static_cast<size_t>(s.numel()));
    for (size_t i = 0; i < m.size(); ++i) m[i] = (i % 5) < 2 || i % 7 == 3;
    return Tensor::from_vector(m, s, device);
}

OpCase where_row(const Shape& s) {
    OpCase c;
    c.name = "elementwise_where_" + shape_tag(s);
    c.kernel = "where";
    c.inputs = {s, s};
    c.fn = [s](const std::vector<Tensor>& in) {
        return where(mask_for(s, in[0].device()), in[0], in[1]);
    };
    return c;
}

OpCase broadcast_row(const Shape& small, const Shape& big) {
    OpCase c;
    c.name = "elementwise_broadcast_to_" + shape_tag(small) + "_to_" + shape_tag(big);
    c.kernel = "broadcast";
    c.inputs = {small};
    c.fn = [big](const std::vector<Tensor>& in) { return broadcast_to(in[0], big); };
    return c;
}

OpCase sum_to_row(const Shape& big, const Shape& small) {
    OpCase c;
    c.name = "elementwise_sum_to_" + shape_tag(big) + "_to_" + shape_tag(small);
    c.kernel = "broadcast";
    c.inputs = {big};
    c.fn = [small](const std::vector<Tensor>& in) { return sum_to(in[0], small); };
    return c;
}

}  // namespace

std::vector<OpCase> elementwise_cases() {
    const Shape normal{4, 32}, awkward{3, 5, 17}, row{1, 7}, large{300, 130};
    std::vector<OpCase> rows;
    for (const Shape& s : {normal, awkward}) {
        rows.push_back(unary_row("neg", s, [](const Tensor& x) { return neg(x); }));
        rows.push_back(unary_row(
            "exp", s, [](const Tensor& x) { return exp(x); }, -2.0, 2.0));
        rows.push_back(unary_row(
            "log", s, [](const Tensor& x) { return log(x); }, 0.1, 3.0));
        rows.push_back(unary_row(
            "sqrt", s, [](const Tensor& x) { return sqrt(x); }, 0.1, 3.0));
        rows.push_back(unary_row(
            "gelu", s, [](const Tensor& x) { return gelu(x); }, -3.0, 3.0));
        rows.push_back(unary_row(
            "sigmoid", s, [](const Tensor& x) { return sigmoid(x); }, -4.0, 4.0));
        rows.push_back(unary_row(
            "tanh", s, [](const Tensor& x) { return tanh(x); }, -2.0, 2.0));
        rows.push_back(unary_row(
            "add_scalar", s, [](const Tensor& x) { return add_scalar(x, 0.75); }, -2.0, 2.0));
        rows.push_back(unary_row(
            "mul_scalar", s, [](const Tensor& x) { return mul_scalar(x, -1.5); }, -2.0, 2.0));
    }
    for (const Shape& s : {normal, row}) {
        OpCase abs_row = unary_row("abs", s, [](const Tensor& x) { return abs(x); });
        abs_row.avoid_kinks = away_from({0.0});
        rows.push_back(abs_row);
        OpCase relu_row = unary_row("relu", s, [](const Tensor& x) { return relu(x); });
        relu_row.avoid_kinks = away_from({0.0});
        rows.push_back(relu_row);
        OpCase clamp_row =
            unary_row("clamp", s, [](const Tensor& x) { return clamp(x, -0.5, 0.3); });
        clamp_row.avoid_kinks = away_from({-0.5, 0.3});
        rows.push_back(clamp_row);
    }
    // relu at a size that takes the OpenMP path
    OpCase relu_large = unary_row("relu", large, [](const Tensor& x) { return relu(x); });
    relu_large.avoid_kinks = away_from({0.0});
    rows.push_back(relu_large);
    // pow with a fractional and with a negative exponent
    rows.push_back(unary_row(
        "pow_scalar", normal, [](const Tensor& x) { return pow(x, 2.5); }, 0.2, 2.0));
    rows.push_back(unary_row(
        "pow_scalar", awkward, [](const Tensor& x) { return pow(x, -0.5); }, 0.2, 2.0));

    for (const Shape& s : {normal, awkward}) {
        rows.push_back(
            binary_row("add", s, [](const Tensor& a, const Tensor& b) { return add(a, b); }));
        rows.push_back(
            binary_row("sub", s, [](const Tensor& a, const Tensor& b) { return sub(a, b); }));
        rows.push_back(
            binary_row("mul", s, [](const Tensor& a, const Tensor& b) { return mul(a, b); }));
        rows.push_back(binary_row(
            "div", s, [](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 2.0));
        rows.push_back(binary_row(
            "pow", s, [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2.0));
    }
    rows.push_back(
        binary_row("mul", large, [](const Tensor& a, const Tensor& b) { return mul(a, b); }));

    rows.push_back(where_row(normal));
    rows.push_back(where_row(awkward));
    rows.push_back(where_row(row));

    rows.push_back(broadcast_row({3, 1}, {2, 3, 4}));  // expanded, kept, expanded
    rows.push_back(broadcast_row({17}, {3, 5, 17}));   // bias-like: leading dims missing
    rows.push_back(broadcast_row({5, 1, 17}, {2, 5, 3, 17}));
    rows.push_back(broadcast_row({1, 7}, {1, 7}));        // same shape: a view
    rows.push_back(broadcast_row({}, {3, 5}));            // scalar to a matrix
    rows.push_back(broadcast_row({1, 300}, {130, 300}));  // OpenMP path
    rows.push_back(sum_to_row({2, 3, 4}, {3, 1}));        // last dim expanded
    rows.push_back(sum_to_row({3, 5, 17}, {17}));         // last dim kept
    rows.push_back(sum_to_row({2, 5, 3, 17}, {5, 1, 17}));
    rows.push_back(sum_to_row({4, 33}, {}));          // to a scalar
    rows.push_back(sum_to_row({64, 600}, {600}));     // OpenMP path, partial last chunk
    rows.push_back(sum_to_row({600, 64}, {600, 1}));  // OpenMP path, contiguous runs
    return rows;
}

}  // namespace obl::test
