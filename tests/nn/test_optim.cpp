// Optimizers (nn/optim/sgd.h, adam.h; kernels/optim.h) and learning-rate schedules
// (nn/optim/schedule.h): updates checked against numbers worked out by hand from PyTorch's
// update rules (the arithmetic is in the comments), schedule values at chosen steps, and
// quadratic minimisations that must converge.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/optim.h"
#include "nn/autograd.h"
#include "nn/optim/adam.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "tests/test_util.h"

namespace obl::test {
namespace {

using ::testing::HasSubstr;

Tensor make_param(const std::vector<double>& v, DType dtype) {
    Tensor p = Tensor::from_vector(v, Shape{static_cast<int64_t>(v.size())}).to(dtype).detach();
    p.set_requires_grad(true);
    return p;
}

void give_grad(Tensor& p, const std::vector<double>& g) {
    p.set_grad(Tensor::from_vector(g, p.shape()).to(p.dtype()).detach());
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// f64 follows the arithmetic to ~1e-15; f32 rounds every stored value.
double tol(DType dtype) { return dtype == DType::F64 ? 1e-12 : 1e-6; }

class OptimDtype : public ::testing::TestWithParam<DType> {};

// ---- SGD ----------------------------------------------------------------------------------------

TEST_P(OptimDtype, SgdPlain) {
    // lr 0.1, no momentum: p -= 0.1 g.
    //   p = [1, -2], g = [0.5, 1]:  [1 - 0.05, -2 - 0.1] = [0.95, -2.1]
    Tensor p = make_param({1, -2}, GetParam());
    Sgd opt({p}, SgdOptions{0.1});
    give_grad(p, {0.5, 1});
    opt.step();
    EXPECT_TRUE(all_close(p.to_vector<double>(), {0.95, -2.1}, tol(GetParam()), 0));
    EXPECT_FALSE(opt.momentum_buffer(0).defined());
}

TEST_P(OptimDtype, SgdMomentum) {
    // lr 0.1, momentum 0.9, p0 = 1; gradients 1, 0.5, -1.
    //   step 1: buf = g = 1 (a copy of the gradient)       p = 1 - 0.1 * 1       = 0.9
    //   step 2: buf = 0.9 * 1 + 0.5 = 1.4                   p = 0.9 - 0.1 * 1.4   = 0.76
    //   step 3: buf = 0.9 * 1.4 - 1 = 0.26                  p = 0.76 - 0.1 * 0.26 = 0.734
    Tensor p = make_param({1}, GetParam());
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    Sgd opt({p}, o);
    const double grads[] = {1, 0.5, -1}, bufs[] = {1, 1.4, 0.26}, params[] = {0.9, 0.76, 0.734};
    for (int s = 0; s < 3; ++s) {
        give_grad(p, {grads[s]});
        opt.step();
        EXPECT_NEAR(opt.momentum_buffer(0).item(), bufs[s], tol(GetParam())) << "step " << s + 1;
        EXPECT_NEAR(p.item(), params[s], tol(GetParam())) << "step " << s + 1;
    }
}

TEST_P(OptimDtype, SgdDampeningAndWeightDecay) {
    // lr 0.1, momentum 0.9, dampening 0.5, weight decay 0.1, p0 = 2; gradients 1, 1, -2.
    //   step 1: d = 1 + 0.1 * 2 = 1.2;  buf = d = 1.2 (no dampening on the first step)
    //           p = 2 - 0.12 = 1.88
    //   step 2: d = 1 + 0.1 * 1.88 = 1.188;  buf = 0.9 * 1.2 + 0.5 * 1.188 = 1.08 + 0.594 = 1.674
    //           p = 1.88 - 0.1674 = 1.7126
    //   step 3: d = -2 + 0.17126 = -1.82874;  buf = 0.9 * 1.674 + 0.5 * -1.82874
    //           = 1.5066 - 0.91437 = 0.59223;  p = 1.7126 - 0.059223 = 1.653377
    Tensor p = make_param({2}, GetParam());
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    o.dampening = 0.5;
    o.weight_decay = 0.1;
    Sgd opt({p}, o);
    const double grads[] = {1, 1, -2}, bufs[] = {1.2, 1.674, 0.59223};
    const double params[] = {1.88, 1.7126, 1.653377};
    for (int s = 0; s < 3; ++s) {
        give_grad(p, {grads[s]});
        opt.step();
        EXPECT_NEAR(opt.momentum_buffer(0).item(), bufs[s], tol(GetParam())) << "step " << s + 1;
        EXPECT_NEAR(p.item(), params[s], tol(GetParam())) << "step " << s + 1;
    }
}

TEST_P(OptimDtype, SgdNesterov) {
    // lr 0.1, momentum 0.9, Nesterov, p0 = 1; gradients 1, 0.5.
    //   step 1: buf = 1;                    d = 1 + 0.9 * 1 = 1.9;      p = 1 - 0.19 = 0.81
    //   step 2: buf = 0.9 * 1 + 0.5 = 1.4;  d = 0.5 + 0.9 * 1.4 = 1.76; p = 0.81 - 0.176 = 0.634
    Tensor p = make_param({1}, GetParam());
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = 0.9;
    o.nesterov = true;
    Sgd opt({p}, o);
    give_grad(p, {1});
    opt.step();
    EXPECT_NEAR(p.item(), 0.81, tol(GetParam()));
    give_grad(p, {0.5});
    opt.step();
    EXPECT_NEAR(p.item(), 0.634, tol(GetParam()));
    EXPECT_NEAR(opt.momentum_buffer(0).item(), 1.4, tol(GetParam()));
}

// ---- Adam / AdamW -------------------------------------------------------------------------------

TEST_P(OptimDtype, AdamThreeSteps) {
    // lr 0.1, betas (0.9, 0.999), eps 1e-8, p0 = 1; gradients 2, -1, 0.5.
    //   step 1: m = 0.1 * 2 = 0.2;  v = 0.001 * 4 = 0.004
    //           m_hat = 0.2 / (1 - 0.9) = 2;  v_hat = 0.004 / (1 - 0.999) = 4;  sqrt = 2
    //           p = 1 - 0.1 * 2 / (2 + 1e-8) = 0.9000000005
    //   step 2: m = 0.9 * 0.2 - 0.1 = 0.08;  v = 0.999 * 0.004 + 0.001 * 1 = 0.004996
    //           m_hat = 0.08 / 0.19 = 0.42105263;  v_hat = 0.004996 / 0.001999 = 2.4992496
    //           sqrt(v_hat) = 1.5809015;  p = 0.9000000005 - 0.1 * 0.26633704 = 0.8733662967
    //   step 3: m = 0.9 * 0.08 + 0.1 * 0.5 = 0.122;  v = 0.999 * 0.004996 + 0.001 * 0.25
    //           = 0.005241004;  m_hat = 0.122 / 0.271 = 0.45018450
    //           v_hat = 0.005241004 / 0.002997001 = 1.7487493;  sqrt = 1.3224029
    //           p = 0.8733662967 - 0.1 * 0.34042914 = 0.8393233821
    Tensor p = make_param({1}, GetParam());
    AdamOptions o;
    o.lr = 0.1;
    Adam opt({p}, o);
    const double grads[] = {2, -1, 0.5}, ms[] = {0.2, 0.08, 0.122};
    const double vs[] = {0.004, 0.004996, 0.005241004};
    const double params[] = {0.9000000005, 0.8733662967024315, 0.8393233821389426};
    for (int s = 0; s < 3; ++s) {
        give_grad(p, {grads[s]});
        opt.step();
        EXPECT_EQ(opt.step_count(0), s + 1);
        EXPECT_NEAR(opt.exp_avg(0).item(), ms[s], tol(GetParam())) << "step " << s + 1;
        EXPECT_NEAR(opt.exp_avg_sq(0).item(), vs[s], 1e-3 * tol(GetParam())) << "step " << s + 1;
        EXPECT_NEAR(p.item(), params[s], tol(GetParam())) << "step " << s + 1;
    }
}

TEST_P(OptimDtype, AdamL2WeightDecayEntersTheGradient) {
    // lr 0.1, weight decay 0.5, p0 = 1, g = 2: g' = 2 + 0.5 * 1 = 2.5
    //   m = 0.25, v = 0.00625; m_hat = 2.5, v_hat = 6.25, sqrt = 2.5
    //   p = 1 - 0.1 * 2.5 / (2.5 + 1e-8) = 0.9000000004
    Tensor p = make_param({1}, GetParam());
    AdamOptions o;
    o.lr = 0.1;
    o.weight_decay = 0.5;
    Adam opt({p}, o);
    give_grad(p, {2});
    opt.step();
    EXPECT_NEAR(opt.exp_avg(0).item(), 0.25, tol(GetParam()));
    EXPECT_NEAR(p.item(), 0.9000000004, tol(GetParam()));
}

TEST_P(OptimDtype, AdamWDecouplesTheDecay) {
    // lr 0.1, weight decay 0.5, p0 = 1, constant gradient 2. A constant gradient makes
    // m_hat = g and v_hat = g^2 exactly, so each update is lr * g / (|g| + eps)
    // = 0.1 * 2 / (2 + 1e-8) = 0.0999999995:
    //   step 1: p = 1 * (1 - 0.1 * 0.5) = 0.95;            p = 0.95 - 0.0999999995 = 0.8500000005
    //   step 2: p = 0.8500000005 * 0.95 = 0.807500000475;  p = 0.707500000975
    // (the moments see the raw gradient: m = 0.2, then 0.9 * 0.2 + 0.2 = 0.38)
    Tensor p = make_param({1}, GetParam());
    AdamWOptions o;
    o.lr = 0.1;
    o.weight_decay = 0.5;
    AdamW opt({p}, o);
    EXPECT_TRUE(opt.decoupled());
    give_grad(p, {2});
    opt.step();
    EXPECT_NEAR(p.item(), 0.8500000005, tol(GetParam()));
    give_grad(p, {2});
    opt.step();
    EXPECT_NEAR(p.item(), 0.707500000975, tol(GetParam()));
    EXPECT_NEAR(opt.exp_avg(0).item(), 0.38, tol(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Optim, OptimDtype, ::testing::Values(DType::F64, DType::F32),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Optim, AdamWDefaultDecayIsPyTorchs) {
    EXPECT_EQ(AdamWOptions{}.weight_decay, 1e-2);
    EXPECT_EQ(AdamOptions{}.weight_decay, 0.0);
    EXPECT_EQ(AdamOptions{}.eps, 1e-8);
}

// ---- Behaviour shared by every optimizer --------------------------------------------------------

TEST(Optim, SkipsParamsWithoutGradAndKeepsTheirState) {
    Tensor a = make_param({1, 2}, DType::F32), b = make_param({3}, DType::F32);
    AdamOptions o;
    o.lr = 0.1;
    Adam opt({a, b}, o);
    give_grad(a, {1, 1});
    opt.step();  // b has no gradient
    EXPECT_EQ(b.item(), 3.0);
    EXPECT_EQ(opt.step_count(0), 1);
    EXPECT_EQ(opt.step_count(1), 0);
    EXPECT_FALSE(opt.exp_avg(1).defined());
    give_grad(b, {1});
    opt.step();
    EXPECT_EQ(opt.step_count(0), 2);  // a still has its gradient: PyTorch steps it again
    EXPECT_EQ(opt.step_count(1), 1);  // b's first step: bias correction with t = 1
    EXPECT_NEAR(b.item(), 2.9, 1e-6);
}

TEST(Optim, ZeroGradDropsGradientsAndStepUpdatesInPlace) {
    Tensor p = make_param({1, 2, 3}, DType::F32);
    const Tensor alias = p;  // the caller's handle sees the update
    Sgd opt({p}, SgdOptions{0.5});
    give_grad(p, {1, 1, 1});
    opt.step();
    EXPECT_EQ(alias.to_vector<float>(), (std::vector<float>{0.5f, 1.5f, 2.5f}));
    EXPECT_FALSE(p.grad_fn());  // no autograd history from the update
    opt.zero_grad();
    EXPECT_FALSE(p.grad().defined());
    opt.step();  // nothing to do
    EXPECT_EQ(alias.to_vector<float>(), (std::vector<float>{0.5f, 1.5f, 2.5f}));
}

TEST(Optim, LearningRateCanBeChanged) {
    Tensor p = make_param({0}, DType::F64);
    Sgd opt({p}, SgdOptions{0.1});
    EXPECT_EQ(opt.lr(), 0.1);
    opt.set_lr(0.01);
    give_grad(p, {1});
    opt.step();
    EXPECT_NEAR(p.item(), -0.01, 1e-15);
    EXPECT_THAT(error_of([&] { opt.set_lr(-1); }), HasSubstr("learning rate"));
}

TEST(Optim, BadArgumentsThrow) {
    Tensor p = make_param({1, 2}, DType::F32);
    SgdOptions nesterov;
    nesterov.nesterov = true;
    EXPECT_THAT(error_of([&] { Sgd bad({p}, nesterov); }),
                HasSubstr("Nesterov momentum requires momentum > 0"));
    AdamOptions betas;
    betas.beta2 = 1.0;
    EXPECT_THAT(error_of([&] { Adam bad({p}, betas); }), HasSubstr("betas must be in [0, 1)"));
    EXPECT_THAT(error_of([&] { Sgd bad({Tensor()}, SgdOptions{}); }), HasSubstr("undefined"));
    Sgd opt({p}, SgdOptions{});
    p.set_grad(Tensor::zeros(Shape{2}, DType::F64));
    EXPECT_THAT(error_of([&] { opt.step(); }),
                HasSubstr("gradient f64[2] on cpu does not match parameter 0 f32[2] on cpu"));
}

// ---- Convergence on a quadratic -----------------------------------------------------------------

// f(w) = 1/2 sum_i c_i (w_i - t_i)^2 with curvatures c from 0.5 to 4; gradient c (w - t).
void minimise(Optimizer& opt, Tensor& w, int steps, const std::vector<double>& target) {
    const std::vector<double> c = {0.5, 1, 2, 4};
    for (int s = 0; s < steps; ++s) {
        const std::vector<double> wv = w.to_vector<double>();
        std::vector<double> g(wv.size());
        for (size_t i = 0; i < wv.size(); ++i) g[i] = c[i] * (wv[i] - target[i]);
        give_grad(w, g);
        opt.step();
        opt.zero_grad();
    }
}

TEST(Optim, QuadraticMinimisationConverges) {
    const std::vector<double> target = {1, -2, 0.5, 3}, start = {0, 0, 0, 0};
    {
        Tensor w = make_param(start, DType::F32);
        SgdOptions o;
        o.lr = 0.1;
        o.momentum = 0.9;
        o.nesterov = true;
        Sgd opt({w}, o);
        minimise(opt, w, 300, target);
        EXPECT_TRUE(all_close(w.to_vector<double>(), target, 1e-4, 0, "SGD + Nesterov"));
    }
    {
        Tensor w = make_param(start, DType::F32);
        AdamOptions o;
        o.lr = 0.05;
        Adam opt({w}, o);
        const auto schedule = std::make_shared<CosineAnnealingLR>(0.05, 1000, 1e-4);
        for (int s = 0; s < 1000; ++s) {
            opt.set_lr(schedule->lr_at(s));
            minimise(opt, w, 1, target);
        }
        EXPECT_TRUE(all_close(w.to_vector<double>(), target, 1e-3, 0, "Adam + cosine"));
    }
    {
        // With decay the fixed point moves slightly towards 0; wd = 1e-4 keeps that far below
        // the tolerance.
        Tensor w = make_param(start, DType::F64);
        AdamWOptions o;
        o.lr = 0.02;
        o.weight_decay = 1e-4;
        AdamW opt({w}, o);
        minimise(opt, w, 2000, target);
        EXPECT_TRUE(all_close(w.to_vector<double>(), target, 1e-2, 0, "AdamW"));
    }
}

// ---- Schedules
// ------------------------------------------------------------------------------------

TEST(Schedule, StepLR) {
    // base 0.1, step_size 3, gamma 0.5: 0.1 for steps 0-2, 0.05 for 3-5, 0.025 from 6.
    const StepLR s(0.1, 3, 0.5);
    EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);
    EXPECT_DOUBLE_EQ(s.lr_at(2), 0.1);
    EXPECT_DOUBLE_EQ(s.lr_at(3), 0.05);
    EXPECT_DOUBLE_EQ(s.lr_at(5), 0.05);
    EXPECT_DOUBLE_EQ(s.lr_at(6), 0.025);
    EXPECT_DOUBLE_EQ(s.lr_at(30), 0.1 * std::pow(0.5, 10));
}

TEST(Schedule, MultiStepLR) {
    // base 1, milestones {5, 2, 5} (unsorted, 5 twice), gamma 0.1:
    //   steps 0-1: 1;  2-4: 0.1;  from 5: 0.1 * 0.1 * 0.1 = 0.001 (both 5s count)
    const MultiStepLR s(1.0, {5, 2, 5}, 0.1);
    EXPECT_DOUBLE_EQ(s.lr_at(0), 1.0);
    EXPECT_DOUBLE_EQ(s.lr_at(1), 1.0);
    EXPECT_DOUBLE_EQ(s.lr_at(2), 0.1);
    EXPECT_DOUBLE_EQ(s.lr_at(4), 0.1);
    EXPECT_NEAR(s.lr_at(5), 0.001, 1e-17);
    EXPECT_NEAR(s.lr_at(100), 0.001, 1e-17);
}

TEST(Schedule, CosineAnnealingLR) {
    // base 0.1, t_max 10, eta_min 0.001: eta_min + 0.099 (1 + cos(pi s / 10)) / 2
    //   s = 0: 0.1;  s = 5: 0.001 + 0.0495 = 0.0505;  s = 10: 0.001
    //   s = 2: cos(36 deg) = 0.80901699437, 0.001 + 0.099 * 0.90450849719 = 0.09054634122
    const CosineAnnealingLR s(0.1, 10, 0.001);
    EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);
    EXPECT_NEAR(s.lr_at(2), 0.09054634122, 1e-11);
    EXPECT_NEAR(s.lr_at(5), 0.0505, 1e-15);
    EXPECT_NEAR(s.lr_at(10), 0.001, 1e-15);
    EXPECT_NEAR(s.lr_at(15), 0.0505, 1e-15);  // PyTorch's closed form rises again after t_max
}

TEST(Schedule, LinearWarmupThenCosine) {
    // 4 warm-up steps from 0.25 * 0.1, then the cosine above started afresh:
    //   s = 0: 0.025;  s = 2: 0.1 * (0.25 + 0.75 * 2 / 4) = 0.0625;  s = 3: 0.1 * 0.8125
    //   s = 4: cosine(0) = 0.1;  s = 9: cosine(5) = 0.0505;  s = 14: cosine(10) = 0.001
    const auto cosine = std::make_shared<CosineAnnealingLR>(0.1, 10, 0.001);
    const LinearWarmup s(cosine, 4, 0.25);
    EXPECT_DOUBLE_EQ(s.lr_at(0), 0.025);
    EXPECT_DOUBLE_EQ(s.lr_at(2), 0.0625);
    EXPECT_DOUBLE_EQ(s.lr_at(3), 0.08125);
    EXPECT_DOUBLE_EQ(s.lr_at(4), 0.1);
    EXPECT_NEAR(s.lr_at(9), 0.0505, 1e-15);
    EXPECT_NEAR(s.lr_at(14), 0.001, 1e-15);
    const LinearWarmup none(cosine, 0);  // no warm-up: the schedule itself
    EXPECT_DOUBLE_EQ(none.lr_at(3), cosine->lr_at(3));
}

TEST(Schedule, BadArgumentsThrow) {
    EXPECT_THAT(error_of([] { StepLR(0.1, 0); }), HasSubstr("step_size must be >= 1"));
    EXPECT_THAT(error_of([] { CosineAnnealingLR(0.1, 0); }), HasSubstr("t_max must be >= 1"));
    EXPECT_THAT(error_of([] { LinearWarmup(nullptr, 3); }), HasSubstr("null"));
    EXPECT_THAT(error_of([] { StepLR(0.1, 2).lr_at(-1); }), HasSubstr("step must be >= 0"));
}

// ---- CUDA (skipped without a GPU)
// -----------------------------------------------------------------

TEST(OptimCudaOnly, MatchesCpuReference) {
    OBL_SKIP_WITHOUT_GPU();
    const Shape shape{1000, 37};
    const Tensor w0 = uniform_tensor(shape, -1, 1, 1), g0 = uniform_tensor(shape, -1, 1, 2);
    for (bool adam : {false, true}) {
        std::vector<Tensor> results;
        for (Device dev : {Device::cpu(), Device::cuda()}) {
            Tensor w = w0.to(dev).detach();
            w.set_requires_grad(true);
            std::unique_ptr<Optimizer> opt;
            if (adam) {
                AdamWOptions o;
                o.lr = 0.01;
                opt = std::make_unique<AdamW>(std::vector<Tensor>{w}, o);
            } else {
                SgdOptions o;
                o.lr = 0.1;
                o.momentum = 0.9;
                o.weight_decay = 0.01;
                opt = std::make_unique<Sgd>(std::vector<Tensor>{w}, o);
            }
            for (int s = 0; s < 3; ++s) {
                w.set_grad(g0.to(dev).detach());
                opt->step();
            }
            results.push_back(w.cpu());
        }
        EXPECT_TRUE(all_close(results[1], results[0], 1e-6, 1e-5, adam ? "AdamW" : "SGD"));
    }
}

}  // namespace
}  // namespace obl::test
