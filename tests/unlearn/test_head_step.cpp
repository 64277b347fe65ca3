// The fused linear-head step (kernels/head_step.h, unlearn/head_step.h): equal to the autodiff path
// (linear -> log_softmax -> gather -> weighted sum -> backward) on the reference, fast-CPU and f64
// paths; the f64 reference against central differences; hand-computed values; errors; CUDA vs CPU
// (skipped without a GPU); and find_linear_head() on the model shapes the methods meet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "kernels/common/parallel.h"
#include "models/split.h"
#include "nn/autograd.h"
#include "nn/dispatch.h"
#include "nn/modules.h"
#include "nn/ops.h"
#include "tests/test_util.h"
#include "unlearn/head_step.h"

namespace obl {

namespace test {

// Sequential{FrozenBody(body), head}, built here for tests/unlearn/test_methods.cpp: models/split.h
// cannot be included next to data/dataset.h at the moment (both declare obl::Split), and
// test_methods.cpp needs the dataset side.
std::shared_ptr<Module> make_frozen_body_model(std::shared_ptr<Module> body,
                                               std::shared_ptr<Module> head) {
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<FrozenBody>(std::move(body)), std::move(head)});
}

}  // namespace test

namespace {

using ::testing::HasSubstr;

struct Case {
    int64_t n, d, k;
    bool bias;
    bool weighted;  // per-sample weights with both signs (else none: the mean CE)
};

struct Inputs {
    Tensor z, w, b, t, sw;
};

Inputs make_inputs(const Case& c, DType dt, uint64_t seed) {
    Inputs in;
    in.z = test::uniform_tensor({c.n, c.d}, -2, 2, seed, dt);
    in.w = test::uniform_tensor({c.k, c.d}, -1, 1, seed + 1, dt);
    if (c.bias) in.b = test::uniform_tensor({c.k}, -1, 1, seed + 2, dt);
    std::vector<int64_t> t(static_cast<size_t>(c.n));
    std::vector<double> sw(static_cast<size_t>(c.n));
    for (int64_t i = 0; i < c.n; ++i) {
        t[static_cast<size_t>(i)] = (i * 7 + 3) % c.k;
        sw[static_cast<size_t>(i)] = (i % 3 == 1 ? -0.5 : 1.0 + 0.25 * (i % 4)) / c.n;
    }
    in.t = Tensor::from_vector(t, Shape{c.n});
    if (c.weighted) in.sw = Tensor::from_vector(sw, Shape{c.n}).to(dt);
    return in;
}

// The autodiff path: loss = -sum_n w_n log_softmax(z W^T + b)[n, t_n], then backward.
HeadStepResult autodiff(const Inputs& in) {
    Tensor w = in.w.clone().detach().set_requires_grad(true);
    Tensor b = in.b.defined() ? in.b.clone().detach().set_requires_grad(true) : Tensor();
    const int64_t n = in.z.size(0);
    const Tensor logits = linear(in.z, w, b);
    const Tensor picked = gather(log_softmax(logits), 1, in.t.reshape({n, 1})).reshape({n});
    const Tensor weights =
        in.sw.defined() ? in.sw : Tensor::full({n}, 1.0 / n, in.z.dtype(), in.z.device());
    const Tensor loss = neg(sum_all(mul(picked, weights)));
    backward(loss);
    HeadStepResult r;
    r.loss = loss.detach();
    r.logits = logits.detach();
    r.grad_weight = w.grad();
    if (b.defined()) r.grad_bias = b.grad();
    return r;
}

void expect_same(const HeadStepResult& got, const HeadStepResult& ref, double tol,
                 const std::string& what) {
    EXPECT_TRUE(test::all_close(got.loss, ref.loss, tol, tol, what + " loss"));
    EXPECT_TRUE(test::all_close(got.logits, ref.logits, tol, tol, what + " logits"));
    EXPECT_TRUE(test::all_close(got.grad_weight, ref.grad_weight, tol, tol, what + " dW"));
    ASSERT_EQ(got.grad_bias.defined(), ref.grad_bias.defined());
    if (ref.grad_bias.defined()) {
        EXPECT_TRUE(test::all_close(got.grad_bias, ref.grad_bias, tol, tol, what + " db"));
    }
}

const std::vector<Case> kCases = {
    {256, 64, 10, true, false},  // ResNet-20's pre_logits head, a plain mean CE
    {37, 21, 3, true, true},     // awkward sizes, signed weights (NG+)
    {1, 5, 1, false, true},      // N = 1, K = 1, no bias
    {200, 512, 100, true, true},
};

TEST(HeadStep, EqualsAutodiffOnEveryCpuPath) {
    for (const Case& c : kCases) {
        const std::string name =
            "N" + std::to_string(c.n) + " D" + std::to_string(c.d) + " K" + std::to_string(c.k);
        {  // f32 fast path vs f32 autodiff (fast GEMM on both sides)
            const Inputs in = make_inputs(c, DType::F32, 11);
            // GEMM / softmax tolerance (DESIGN.md §K): the two paths sum in different orders.
            expect_same(head_step(in.z, in.w, in.b, in.t, in.sw), autodiff(in), 1e-4,
                        name + " fast");
        }
        {  // f32 reference vs f32 autodiff on the reference kernels
            ReferenceCpuGuard guard;
            const Inputs in = make_inputs(c, DType::F32, 12);
            expect_same(head_step(in.z, in.w, in.b, in.t, in.sw), autodiff(in), 1e-5,
                        name + " reference");
        }
        {  // f64: the same formula, rounding aside
            const Inputs in = make_inputs(c, DType::F64, 13);
            expect_same(head_step(in.z, in.w, in.b, in.t, in.sw), autodiff(in), 1e-10,
                        name + " f64");
        }
    }
}

TEST(HeadStep, GradientMatchesFiniteDifferencesInF64) {
    const Case c{9, 6, 4, true, true};
    const Inputs in = make_inputs(c, DType::F64, 21);
    const HeadStepResult r = head_step(in.z, in.w, in.b, in.t, in.sw);
    const double h = 1e-6;
    auto loss_at = [&](const Tensor& w, const Tensor& b) {
        return head_step(in.z, w, b, in.t, in.sw).loss.item();
    };
    std::vector<double> wv = in.w.to_vector<double>(), analytic = r.grad_weight.to_vector<double>();
    std::vector<double> numeric;
    for (size_t i = 0; i < wv.size(); ++i) {
        auto p = wv, m = wv;
        p[i] += h;
        m[i] -= h;
        numeric.push_back((loss_at(Tensor::from_vector(p, in.w.shape()), in.b) -
                           loss_at(Tensor::from_vector(m, in.w.shape()), in.b)) /
                          (2 * h));
    }
    EXPECT_TRUE(test::all_close(analytic, numeric, 1e-6, 1e-5, "dW vs finite differences"));
    std::vector<double> bv = in.b.to_vector<double>(), db = r.grad_bias.to_vector<double>();
    std::vector<double> numeric_b;
    for (size_t i = 0; i < bv.size(); ++i) {
        auto p = bv, m = bv;
        p[i] += h;
        m[i] -= h;
        numeric_b.push_back((loss_at(in.w, Tensor::from_vector(p, in.b.shape())) -
                             loss_at(in.w, Tensor::from_vector(m, in.b.shape()))) /
                            (2 * h));
    }
    EXPECT_TRUE(test::all_close(db, numeric_b, 1e-6, 1e-5, "db vs finite differences"));
}

TEST(HeadStep, HandComputedValues) {
    // One sample z = (1, 0), W = I (2 x 2), b = (0, ln 3): logits (1, ln 3), target 0, weight 2.
    // p = (e, 3) / (e + 3); CE = log(e + 3) - 1; G = 2 (p - (1, 0)); dW = G^T z; db = G.
    const Tensor z = Tensor::from_vector(std::vector<double>{1, 0}, {1, 2});
    const Tensor w = Tensor::from_vector(std::vector<double>{1, 0, 0, 1}, {2, 2});
    const Tensor b = Tensor::from_vector(std::vector<double>{0, std::log(3.0)}, {2});
    const Tensor t = Tensor::from_vector(std::vector<int64_t>{0}, {1});
    const Tensor sw = Tensor::from_vector(std::vector<double>{2}, {1});
    const HeadStepResult r = head_step(z, w, b, t, sw);
    const double e = std::exp(1.0), p0 = e / (e + 3), p1 = 3 / (e + 3);
    EXPECT_NEAR(r.loss.item(), 2 * (std::log(e + 3) - 1), 1e-12);
    const std::vector<double> g = r.grad_logits.to_vector<double>();
    EXPECT_NEAR(g[0], 2 * (p0 - 1), 1e-12);
    EXPECT_NEAR(g[1], 2 * p1, 1e-12);
    const std::vector<double> dw = r.grad_weight.to_vector<double>();
    EXPECT_NEAR(dw[0], 2 * (p0 - 1), 1e-12);
    EXPECT_EQ(dw[1], 0.0);
    EXPECT_NEAR(dw[2], 2 * p1, 1e-12);
    EXPECT_EQ(dw[3], 0.0);
    EXPECT_TRUE(test::all_close(r.grad_bias, r.grad_logits.reshape({2}), 0, 0, "db = G"));
}

TEST(HeadStep, FastPathDoesNotDependOnTheThreadCount) {
    const Inputs in = make_inputs({4096, 64, 10, true, true}, DType::F32, 31);
    const HeadStepResult a = head_step(in.z, in.w, in.b, in.t, in.sw);
    const int before = num_threads();
    set_num_threads(1);
    const HeadStepResult b = head_step(in.z, in.w, in.b, in.t, in.sw);
    set_num_threads(before);
    expect_same(a, b, 0.0, "1 thread vs default");
}

TEST(HeadStep, ErrorsNameTheShapes) {
    const Inputs in = make_inputs({8, 5, 3, true, true}, DType::F32, 41);
    try {
        head_step(in.z, test::uniform_tensor({3, 6}, -1, 1, 1), in.b, in.t, in.sw);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("[8, 5]"));
        EXPECT_THAT(e.what(), HasSubstr("[3, 6]"));
    }
    EXPECT_THROW(head_step(in.z, in.w, test::uniform_tensor({4}, -1, 1, 1), in.t), Error);
    EXPECT_THROW(head_step(in.z, in.w, in.b, in.t, test::uniform_tensor({7}, -1, 1, 1)), Error);
    EXPECT_THROW(head_step(in.z, in.w.to(DType::F64), in.b, in.t), Error);
    const Tensor bad = Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 0}, {8});
    try {
        head_step(in.z, in.w, in.b, bad);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("3"));
    }
}

TEST(HeadStep, CudaMatchesCpuReference) {
    OBL_SKIP_WITHOUT_GPU();
    for (const Case& c : kCases) {
        const Inputs in = make_inputs(c, DType::F32, 51);
        HeadStepResult ref;
        {
            ReferenceCpuGuard guard;
            ref = head_step(in.z, in.w, in.b, in.t, in.sw);
        }
        const Device g = Device::cuda();
        const HeadStepResult got =
            head_step(in.z.to(g), in.w.to(g), in.b.defined() ? in.b.to(g) : Tensor(), in.t.to(g),
                      in.sw.defined() ? in.sw.to(g) : Tensor());
        expect_same(got, ref, 1e-4, "CUDA N" + std::to_string(c.n));
        const HeadStepResult again =
            head_step(in.z.to(g), in.w.to(g), in.b.defined() ? in.b.to(g) : Tensor(), in.t.to(g),
                      in.sw.defined() ? in.sw.to(g) : Tensor());
        expect_same(again, got, 0.0, "CUDA run to run");
    }
}

// ---- find_linear_head ----------------------------------------------------------------------

TEST(FindLinearHead, AcceptsTheThreeSourcesOfAPreLogitsCut) {
    auto lin = std::make_shared<Linear>(8, 3);
    ASSERT_TRUE(find_linear_head(*lin).has_value());
    EXPECT_EQ(find_linear_head(*lin)->linear, lin.get());
    EXPECT_TRUE(find_linear_head(*lin)->prefix.empty());

    Sequential head(std::vector<std::shared_ptr<Module>>{lin});
    ASSERT_TRUE(find_linear_head(head).has_value());
    EXPECT_EQ(find_linear_head(head)->linear, lin.get());

    auto body = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Conv2d>(3, 8, 3, Conv2dParams{1, 1, 1, 1}),
        std::make_shared<AdaptiveAvgPool2d>(1), std::make_shared<Flatten>()});
    auto model = test::make_frozen_body_model(body, std::make_shared<Sequential>(head.modules()));
    const auto found = find_linear_head(*model);
    ASSERT_TRUE(found.has_value());
    ASSERT_EQ(found->prefix.size(), 1u);
    const Tensor x = test::uniform_tensor({2, 3, 5, 5}, -1, 1, 3);
    NoGradGuard no_grad;
    EXPECT_TRUE(test::all_close(found->features(x), body->forward(x), 0, 0, "features"));
}

TEST(FindLinearHead, RejectsTrainableLayersBeforeTheLinearAndFrozenLinears) {
    Sequential mlp(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Linear>(8, 8), std::make_shared<ReLU>(), std::make_shared<Linear>(8, 3)});
    EXPECT_FALSE(find_linear_head(mlp).has_value());
    Linear frozen(8, 3);
    frozen.set_requires_grad(false);
    EXPECT_FALSE(find_linear_head(frozen).has_value());
    Sequential ends_in_relu(std::vector<std::shared_ptr<Module>>{std::make_shared<Linear>(8, 3),
                                                                 std::make_shared<ReLU>()});
    EXPECT_FALSE(find_linear_head(ends_in_relu).has_value());
}

}  // namespace
}  // namespace obl
