// Generic suites over the op table (see op_case.h): GradCheck, FastVsRef, CpuVsCuda.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "nn/dispatch.h"
#include "tests/kernels/op_case.h"
#include "tests/test_util.h"

namespace obl::test {
namespace {

constexpr int kMaxCoordsPerInput = 64;

std::vector<std::vector<double>> draw_inputs(const OpCase& c) {
    std::vector<std::vector<double>> values;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        values.push_back(uniform_values(c.inputs[i].numel(), c.lo, c.hi, fnv1a(c.name) + 7919 * i));
        if (c.avoid_kinks) c.avoid_kinks(values.back(), i);
    }
    return values;
}

std::vector<Tensor> make_tensors(const OpCase& c, const std::vector<std::vector<double>>& values,
                                 DType dtype, Device device, bool requires_grad) {
    std::vector<Tensor> ts;
    for (size_t i = 0; i < values.size(); ++i) {
        Tensor t = Tensor::from_vector(values[i], c.inputs[i]).to(dtype).to(device).detach();
        if (requires_grad) t.set_requires_grad(true);
        ts.push_back(t);
    }
    return ts;
}

// The seed gradient w for L = sum(w * y): fixed per row, in [-1, 1].
Tensor seed_for(const OpCase& c, const Tensor& y) {
    return Tensor::from_vector(uniform_values(y.numel(), -1, 1, fnv1a(c.name) ^ 0xabcdefull),
                               y.shape())
        .to(y.dtype())
        .to(y.device());
}

double weighted_sum(const Tensor& y, const std::vector<double>& w) {
    std::vector<double> v = y.to_vector<double>();
    double s = 0;
    for (size_t i = 0; i < v.size(); ++i) s += w[i] * v[i];
    return s;
}

// Output and input gradients of one run (forward + backward with the row's seed).
struct RunResult {
    Tensor y;
    std::vector<Tensor> grads;
};

RunResult run_case(const OpCase& c, const std::vector<std::vector<double>>& values, Device device) {
    std::vector<Tensor> in = make_tensors(c, values, DType::F32, device, c.differentiable);
    RunResult r;
    r.y = c.fn(in);
    if (c.differentiable && r.y.requires_grad()) {
        backward(r.y, seed_for(c, r.y));
        for (auto& t : in) r.grads.push_back(t.grad());
    }
    return r;
}

void expect_same(const OpCase& c, const RunResult& got, const RunResult& ref, const char* what) {
    EXPECT_TRUE(all_close(got.y, ref.y, c.atol, c.rtol, std::string(what) + " forward"));
    ASSERT_EQ(got.grads.size(), ref.grads.size());
    for (size_t i = 0; i < got.grads.size(); ++i) {
        if (!ref.grads[i].defined()) continue;
        ASSERT_TRUE(got.grads[i].defined()) << what << ": no gradient for input " << i;
        EXPECT_TRUE(all_close(got.grads[i], ref.grads[i], c.atol, c.rtol,
                              std::string(what) + " grad of input " + std::to_string(i)));
    }
}

std::vector<OpCase> rows_where(bool (*keep)(const OpCase&)) {
    std::vector<OpCase> out;
    for (const auto& c : all_op_cases())
        if (keep(c)) out.push_back(c);
    return out;
}

std::string row_name(const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; }

// ---- GradCheck ------------------------------------------------------------------------------

class Op : public ::testing::TestWithParam<OpCase> {};

TEST_P(Op, GradCheck) {
    const OpCase& c = GetParam();
    const auto values = draw_inputs(c);
    std::vector<Tensor> in = make_tensors(c, values, DType::F64, Device::cpu(), true);
    Tensor y = c.fn(in);
    ASSERT_EQ(y.dtype(), DType::F64) << "op must compute in its input dtype";
    ASSERT_TRUE(y.requires_grad()) << "op recorded no backward node";
    Tensor w = seed_for(c, y);
    const std::vector<double> wv = w.to_vector<double>();
    backward(y, w);

    for (size_t i = 0; i < in.size(); ++i) {
        Tensor g = in[i].grad();
        ASSERT_TRUE(g.defined()) << "no gradient reached input " << i;
        const std::vector<double> analytic = g.to_vector<double>();
        const int64_t n = c.inputs[i].numel();
        const int64_t stride = std::max<int64_t>(1, n / kMaxCoordsPerInput);
        std::vector<double> got, numeric;
        for (int64_t k = 0; k < n; k += stride) {
            auto plus = values, minus = values;
            plus[i][k] += c.grad_step;
            minus[i][k] -= c.grad_step;
            NoGradGuard ng;
            const double lp = weighted_sum(c.fn(make_tensors(c, plus, DType::F64, Device::cpu(), false)), wv);
            const double lm = weighted_sum(c.fn(make_tensors(c, minus, DType::F64, Device::cpu(), false)), wv);
            numeric.push_back((lp - lm) / (2 * c.grad_step));
            got.push_back(analytic[k]);
        }
        EXPECT_TRUE(all_close(got, numeric, c.grad_atol, c.grad_rtol,
                              "analytic vs finite-difference gradient of input " + std::to_string(i)));
    }
}

INSTANTIATE_TEST_SUITE_P(GradCheck, Op,
                         ::testing::ValuesIn(rows_where([](const OpCase& c) { return c.differentiable; })),
                         row_name);

// ---- FastVsRef -------------------------------------------------------------------------------

class FastPath : public ::testing::TestWithParam<OpCase> {};

TEST_P(FastPath, MatchesReference) {
    const OpCase& c = GetParam();
    const auto values = draw_inputs(c);
    RunResult fast = run_case(c, values, Device::cpu());
    RunResult ref;
    {
        ReferenceCpuGuard guard;
        ref = run_case(c, values, Device::cpu());
    }
    expect_same(c, fast, ref, "fast CPU vs reference");
}

INSTANTIATE_TEST_SUITE_P(FastVsRef, FastPath,
                         ::testing::ValuesIn(rows_where([](const OpCase& c) { return c.has_fast_cpu; })),
                         row_name);

// ---- CpuVsCuda -------------------------------------------------------------------------------

class Cuda : public ::testing::TestWithParam<OpCase> {};

TEST_P(Cuda, MatchesCpuReference) {
    OBL_SKIP_WITHOUT_GPU();
    const OpCase& c = GetParam();
    const auto values = draw_inputs(c);
    RunResult ref;
    {
        ReferenceCpuGuard guard;
        ref = run_case(c, values, Device::cpu());
    }
    RunResult gpu = run_case(c, values, Device::cuda());
    expect_same(c, gpu, ref, "CUDA vs CPU reference");
}

INSTANTIATE_TEST_SUITE_P(CpuVsCuda, Cuda,
                         ::testing::ValuesIn(rows_where([](const OpCase&) { return true; })),
                         row_name);

}  // namespace
}  // namespace obl::test
