// Softmax family and fused losses: forward values against hand-computed numbers, gradients in
// closed form, numerical stability, thread-count determinism of the fast path, both SIMD ISAs
// against the reference, and error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/cpu/fast/softmax_isa.h"
#include "kernels/cross_entropy.h"
#include "kernels/softmax.h"
#include "nn/dispatch.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::test_device;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor on_device(const std::vector<float>& v, const Shape& s) {
    return Tensor::from_vector(v, s, test_device());
}
Tensor labels(const std::vector<int64_t>& v) {
    return Tensor::from_vector(v, Shape{static_cast<int64_t>(v.size())}, test_device());
}
std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no obl::Error thrown)";
}

constexpr double kTol = 1e-6;

// Runs `f` once on the fast path and once on the reference (CPU; on CUDA just once).
template <class F>
void on_both_cpu_paths(F&& f) {
    f();
    ReferenceCpuGuard guard;
    f();
}

TEST(Softmax, HandComputedValues) {
    on_both_cpu_paths([] {
        EXPECT_THAT(values(softmax(on_device({1, 2, 3}, {1, 3}))),
                    ElementsAre(DoubleNear(0.09003057, kTol), DoubleNear(0.24472847, kTol),
                                DoubleNear(0.66524096, kTol)));
        EXPECT_THAT(values(log_softmax(on_device({1, 2, 3}, {3}))),
                    ElementsAre(DoubleNear(-2.40760596, kTol), DoubleNear(-1.40760596, kTol),
                                DoubleNear(-0.40760596, kTol)));
    });
}

TEST(Softmax, StableForLargeLogits) {
    on_both_cpu_paths([] {
        // Shifting by 1000 changes nothing; exp(1000) would overflow without the max shift.
        EXPECT_THAT(values(softmax(on_device({1001, 1002, 1003}, {3}))),
                    ElementsAre(DoubleNear(0.09003057, kTol), DoubleNear(0.24472847, kTol),
                                DoubleNear(0.66524096, kTol)));
        EXPECT_THAT(values(softmax(on_device({0, -1000}, {2}))),
                    ElementsAre(DoubleNear(1, kTol), DoubleNear(0, kTol)));
        EXPECT_THAT(values(log_softmax(on_device({0, -1000}, {2}))),
                    ElementsAre(DoubleNear(0, kTol), DoubleNear(-1000, 1e-3)));
    });
}

TEST(Softmax, RowsAreIndependentAndLastDimOnly) {
    // [2, 2, 3]: every row of 3 is normalised on its own.
    Tensor y = softmax(on_device({1, 2, 3, 0, 0, 0, 5, 5, 5, -1, 0, 1}, {2, 2, 3}));
    EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
    const auto v = values(y);
    for (int r = 0; r < 4; ++r) EXPECT_NEAR(v[3 * r] + v[3 * r + 1] + v[3 * r + 2], 1.0, kTol);
    EXPECT_NEAR(v[3], 1.0 / 3, kTol);
}

TEST(Softmax, BackwardClosedForm) {
    // L = y_0 for y = softmax([0, 0]) = [.5, .5]: dL/dx = y_0 (e_0 - y) = [.25, -.25].
    on_both_cpu_paths([] {
        Tensor x = on_device({0, 0}, {2});
        x.set_requires_grad(true);
        backward(softmax(x), on_device({1, 0}, {2}));
        EXPECT_THAT(values(x.grad()), ElementsAre(DoubleNear(0.25, kTol), DoubleNear(-0.25, kTol)));
        // log_softmax: dL/dx = e_0 - softmax(x) = [.5, -.5].
        x.zero_grad();
        backward(log_softmax(x), on_device({1, 0}, {2}));
        EXPECT_THAT(values(x.grad()), ElementsAre(DoubleNear(0.5, kTol), DoubleNear(-0.5, kTol)));
    });
}

TEST(CrossEntropy, TwoEqualLogitsGiveLn2) {
    on_both_cpu_paths([] {
        Tensor x = on_device({0, 0}, {1, 2});
        x.set_requires_grad(true);
        Tensor loss = cross_entropy(x, labels({0}));
        EXPECT_EQ(loss.shape(), Shape{});
        EXPECT_NEAR(loss.item(), std::log(2.0), kTol);
        backward(loss);  // (p - onehot) / N = [.5 - 1, .5]
        EXPECT_THAT(values(x.grad()), ElementsAre(DoubleNear(-0.5, kTol), DoubleNear(0.5, kTol)));
    });
}

TEST(CrossEntropy, LabelSmoothingByHand) {
    // logits [1, 2, 3], target 2, e = 0.1, K = 3: q = [1/30, 1/30, 0.9 + 1/30].
    // loss = lse - sum q x = 3.40760596 - (0.1 + 2.8) = 0.50760596.
    // grad = p - q = [0.09003057 - 0.03333333, 0.24472847 - 0.03333333, 0.66524096 - 0.93333333].
    on_both_cpu_paths([] {
        Tensor x = on_device({1, 2, 3}, {1, 3});
        x.set_requires_grad(true);
        Tensor loss = cross_entropy(x, labels({2}), 0.1);
        EXPECT_NEAR(loss.item(), 0.50760596, kTol);
        backward(loss);
        EXPECT_THAT(values(x.grad()),
                    ElementsAre(DoubleNear(0.05669724, kTol), DoubleNear(0.21139514, kTol),
                                DoubleNear(-0.26809238, kTol)));
    });
}

TEST(CrossEntropy, MeanOverRowsAndScaledGradient) {
    // Two rows: ln 2 and softmax([1,2,3]) at target 0 = 2.40760596; mean = 1.55044; dloss = 3.
    on_both_cpu_paths([] {
        Tensor x = on_device({0, 0, 0, 1, 2, 3}, {2, 3});
        x.set_requires_grad(true);
        Tensor loss = cross_entropy(x, labels({1, 0}));
        EXPECT_NEAR(loss.item(), (std::log(3.0) + 2.40760596) / 2, kTol);
        backward(loss, Tensor::full({}, 3.0, DType::F32, test_device()));
        const auto g = values(x.grad());  // 3 (p - onehot) / 2
        EXPECT_NEAR(g[0], 1.5 * (1.0 / 3), kTol);
        EXPECT_NEAR(g[1], 1.5 * (1.0 / 3 - 1), kTol);
        EXPECT_NEAR(g[3], 1.5 * (0.09003057 - 1), kTol);
        EXPECT_NEAR(g[5], 1.5 * 0.66524096, kTol);
    });
}

TEST(CrossEntropy, SoftTargetsMatchHardTargetsForOneHot) {
    on_both_cpu_paths([] {
        Tensor x = test::uniform_tensor({5, 7}, -2, 2, 11, DType::F32, test_device());
        std::vector<float> q(35, 0.f);
        std::vector<int64_t> t = {0, 6, 3, 3, 1};
        for (int n = 0; n < 5; ++n) q[n * 7 + t[n]] = 1.f;
        EXPECT_NEAR(cross_entropy_soft(x, on_device(q, {5, 7})).item(),
                    cross_entropy(x, labels(t)).item(), 1e-6);
        // Uniform q equals label smoothing e = 1.
        Tensor uniform = Tensor::full({5, 7}, 1.0 / 7, DType::F32, test_device());
        EXPECT_NEAR(cross_entropy_soft(x, uniform).item(), cross_entropy(x, labels(t), 1.0).item(),
                    1e-6);
    });
}

TEST(CrossEntropy, NoGradModeSkipsTheGradientBuffer) {
    Tensor x = on_device({0, 0}, {1, 2});
    x.set_requires_grad(true);
    NoGradGuard guard;
    Tensor loss = cross_entropy(x, labels({1}));
    EXPECT_FALSE(loss.requires_grad());
    EXPECT_NEAR(loss.item(), std::log(2.0), kTol);
}

TEST(CrossEntropy, Int32TargetsAreAccepted) {
    Tensor t = Tensor::from_vector<int32_t>({0}, {1}, test_device());
    EXPECT_NEAR(cross_entropy(on_device({0, 0}, {1, 2}), t).item(), std::log(2.0), kTol);
}

TEST(CrossEntropy, TargetOutOfRangeThrowsNamingTargetAndK) {
    if (test_device().is_cuda()) GTEST_SKIP() << "CUDA reports bad targets as NaN (no host sync)";
    for (bool reference : {false, true}) {
        std::unique_ptr<ReferenceCpuGuard> guard;
        if (reference) guard = std::make_unique<ReferenceCpuGuard>();
        Tensor x = on_device({0, 0, 0, 0, 0, 0}, {2, 3});
        const std::string msg = message_of([&] { cross_entropy(x, labels({1, 5})); });
        EXPECT_THAT(msg, HasSubstr("target 5"));
        EXPECT_THAT(msg, HasSubstr("K = 3"));
        EXPECT_THAT(message_of([&] { cross_entropy(x, labels({-1, 0})); }), HasSubstr("target -1"));
    }
}

TEST(CrossEntropy, CudaTargetOutOfRangeGivesNan) {
    OBL_SKIP_WITHOUT_GPU();
    Tensor x = Tensor::zeros({2, 3}, DType::F32, Device::cuda());
    Tensor t = Tensor::from_vector<int64_t>({1, 5}, {2}, Device::cuda());
    EXPECT_TRUE(std::isnan(cross_entropy(x, t).item()));
}

TEST(CrossEntropy, ShapeErrorsNameBothShapes) {
    Tensor x = on_device(std::vector<float>(6, 0.f), {2, 3});
    std::string msg = message_of([&] { cross_entropy(x, labels({0, 1, 2})); });
    EXPECT_THAT(msg, HasSubstr("[3]"));
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    msg = message_of([&] { cross_entropy(on_device({0, 0, 0}, {3}), labels({0})); });
    EXPECT_THAT(msg, HasSubstr("(N, K)"));
    msg = message_of([&] { cross_entropy_soft(x, on_device(std::vector<float>(6, 0.f), {3, 2})); });
    EXPECT_THAT(msg, HasSubstr("[2, 3] vs [3, 2]"));
    msg = message_of([&] { cross_entropy(x, labels({0, 1}), 1.5); });
    EXPECT_THAT(msg, HasSubstr("label_smoothing"));
    Tensor f = on_device({0, 1}, {2});
    EXPECT_THAT(message_of([&] { cross_entropy(x, f); }), HasSubstr("i64"));
}

TEST(CrossEntropy, SoftTargetRequiringGradIsRejected) {
    Tensor x = on_device(std::vector<float>(6, 0.f), {2, 3});
    Tensor q = Tensor::full({2, 3}, 1.0 / 3, DType::F32, test_device());
    q.set_requires_grad(true);
    EXPECT_THAT(message_of([&] { cross_entropy_soft(x, q); }), HasSubstr("detach"));
    EXPECT_NO_THROW(cross_entropy_soft(x, q.detach()));
}

TEST(KlDiv, EqualDistributionsGiveZero) {
    Tensor p = on_device({0.2f, 0.3f, 0.5f, 0.1f, 0.1f, 0.8f}, {2, 3});
    Tensor log_q = on_device({std::log(0.2f), std::log(0.3f), std::log(0.5f), std::log(0.1f),
                              std::log(0.1f), std::log(0.8f)},
                             {2, 3});
    EXPECT_NEAR(kl_div(log_q, p).item(), 0.0, kTol);
}

TEST(KlDiv, HandComputedBatchmean) {
    // Row 0: 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.14384104; row 1 (p = [0, 1], q = [.5, .5])
    // = ln 2, with the p = 0 term counted as 0 even though its log q is -inf. Mean over N = 2.
    Tensor p = on_device({0.5f, 0.5f, 0.f, 1.f}, {2, 2});
    Tensor log_q = on_device({std::log(0.25f), std::log(0.75f), -INFINITY, std::log(0.5f)}, {2, 2});
    log_q.set_requires_grad(true);
    Tensor loss = kl_div(log_q, p);
    EXPECT_NEAR(loss.item(), (0.14384104 + std::log(2.0)) / 2, kTol);
    backward(loss);  // -p / N
    EXPECT_THAT(values(log_q.grad()), ElementsAre(DoubleNear(-0.25, kTol), DoubleNear(-0.25, kTol),
                                                  DoubleNear(0, kTol), DoubleNear(-0.5, kTol)));
}

TEST(KlDiv, DividesBySizeZeroLikePytorchBatchmean) {
    // [2, 3, 2]: batchmean divides the total by size(0) = 2, not by the 6 rows.
    Tensor p = Tensor::full({2, 3, 2}, 0.5, DType::F32, test_device());
    Tensor log_q = Tensor::full({2, 3, 2}, std::log(0.25), DType::F32, test_device());
    EXPECT_NEAR(kl_div(log_q, p).item(), 12 * 0.5 * std::log(2.0) / 2, 1e-5);
}

TEST(KlDiv, ErrorsNameBothShapes) {
    Tensor a = on_device(std::vector<float>(6, 0.f), {2, 3});
    Tensor b = on_device(std::vector<float>(6, 0.f), {3, 2});
    const std::string msg = message_of([&] { kl_div(a, b); });
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    EXPECT_THAT(msg, HasSubstr("[3, 2]"));
    Tensor p = Tensor::full({2, 3}, 1.0 / 3, DType::F32, test_device());
    p.set_requires_grad(true);
    EXPECT_THAT(message_of([&] { kl_div(a, p); }), HasSubstr("detach"));
}

// ---- fast path: thread-count determinism and both ISAs -----------------------------------------

TEST(SoftmaxFastCpu, CrossEntropyIsBitIdenticalForAnyThreadCount) {
    const int64_t n = 4096, k = 200;  // large enough to run threaded
    Tensor x = test::uniform_tensor({n, k}, -4, 4, 3);
    std::vector<int64_t> tv(n);
    for (int64_t i = 0; i < n; ++i) tv[i] = (i * 13) % k;
    Tensor t = Tensor::from_vector(tv, Shape{n});
    const int threads = num_threads();
    std::vector<float> losses;
    std::vector<std::vector<float>> grads;
    for (int nt : {1, 2, 3}) {
        set_num_threads(nt);
        Tensor xi = x.detach();
        xi.set_requires_grad(true);
        Tensor loss = cross_entropy(xi, t, 0.1);
        backward(loss);
        losses.push_back(static_cast<float>(loss.item()));
        grads.push_back(xi.grad().to_vector<float>());
    }
    set_num_threads(threads);
    EXPECT_EQ(losses[0], losses[1]);
    EXPECT_EQ(losses[0], losses[2]);
    EXPECT_EQ(grads[0], grads[1]);
    EXPECT_EQ(grads[0], grads[2]);
}

// Every ISA table this CPU can run, against the reference, for K around the vector widths.
TEST(SoftmaxFastCpu, EachIsaMatchesReference) {
    std::vector<const kernels::SoftmaxRowKernels*> tables;
    if (cpu_isa() >= CpuIsa::Avx2) tables.push_back(&kernels::softmax_rows_avx2());
    if (cpu_isa() >= CpuIsa::Avx512) tables.push_back(&kernels::softmax_rows_avx512());
    if (tables.empty()) GTEST_SKIP() << "no AVX2 on this CPU";
    for (int64_t k : {1, 2, 7, 8, 9, 10, 15, 16, 17, 31, 33, 200, 1000}) {
        const int64_t n = 37;  // two full 16-row blocks and a partial one (AVX-512, K <= 16)
        const std::vector<double> xd = test::uniform_values(n * k, -5, 5, 100 + k);
        const std::vector<float> x(xd.begin(), xd.end());
        std::vector<float> dy(x.rbegin(), x.rend());
        std::vector<int64_t> t(n);
        for (int64_t i = 0; i < n; ++i) t[i] = (3 * i + 1) % k;
        const kernels::SoftmaxDims d{n, k};
        std::vector<float> ref(n * k), ref_log(n * k), ref_dx(n * k), ref_ldx(n * k), ref_p(n * k);
        kernels::softmax_forward_cpu<float>(ref.data(), x.data(), d);
        kernels::log_softmax_forward_cpu<float>(ref_log.data(), x.data(), d);
        kernels::softmax_backward_cpu<float>(ref_dx.data(), dy.data(), ref.data(), d);
        kernels::log_softmax_backward_cpu<float>(ref_ldx.data(), dy.data(), ref_log.data(), d);
        std::vector<float> q(n * k), ref_soft_g(n * k);
        for (int64_t i = 0; i < n * k; ++i) q[i] = ref[(i * 7) % (n * k)] / static_cast<float>(n);
        float ref_loss = 0, ref_soft_loss = 0, one = 1;
        kernels::cross_entropy_soft_forward_cpu<float>(&ref_soft_loss, ref_soft_g.data(), x.data(),
                                                       q.data(), {n, k});
        kernels::cross_entropy_soft_backward_cpu<float>(ref_soft_g.data(), &one, ref_soft_g.data(),
                                                        q.data(), {n, k});
        kernels::cross_entropy_forward_cpu<float>(&ref_loss, ref_p.data(), x.data(), t.data(),
                                                  {n, k}, 0.1);
        kernels::cross_entropy_backward_cpu<float>(ref_p.data(), &one, ref_p.data(), t.data(),
                                                   {n, k}, 0.1);
        for (const auto* rk : tables) {
            std::vector<float> y(n * k), y_log(n * k), dx(n * k), ldx(n * k), g(n * k);
            rk->softmax(y.data(), x.data(), n, k);
            rk->log_softmax(y_log.data(), x.data(), n, k);
            rk->softmax_backward(dx.data(), dy.data(), ref.data(), n, k);
            rk->log_softmax_backward(ldx.data(), dy.data(), ref_log.data(), n, k);
            const double loss =
                rk->cross_entropy(g.data(), x.data(), t.data(), n, k, 0.1f, 1.f / n) / n;
            std::vector<float> soft_g(n * k);
            const double soft_loss =
                rk->cross_entropy_soft(soft_g.data(), x.data(), q.data(), n, k, 1.f / n) / n;
            const std::string at = " at K = " + std::to_string(k);
            auto as_d = [](const std::vector<float>& v) {
                return std::vector<double>(v.begin(), v.end());
            };
            EXPECT_TRUE(test::all_close(as_d(y), as_d(ref), 1e-6, 1e-5, "softmax" + at));
            EXPECT_TRUE(
                test::all_close(as_d(y_log), as_d(ref_log), 1e-5, 1e-5, "log_softmax" + at));
            EXPECT_TRUE(test::all_close(as_d(dx), as_d(ref_dx), 1e-5, 1e-4, "softmax bwd" + at));
            EXPECT_TRUE(
                test::all_close(as_d(ldx), as_d(ref_ldx), 1e-5, 1e-4, "log_softmax bwd" + at));
            EXPECT_TRUE(
                test::all_close(as_d(g), as_d(ref_p), 1e-6, 1e-4, "cross_entropy grad" + at));
            EXPECT_NEAR(loss, ref_loss, 1e-5 + 1e-5 * std::fabs(ref_loss)) << "cross_entropy" << at;
            EXPECT_TRUE(
                test::all_close(as_d(soft_g), as_d(ref_soft_g), 1e-6, 1e-4, "soft grad" + at));
            EXPECT_NEAR(soft_loss, ref_soft_loss, 1e-5 + 1e-5 * std::fabs(ref_soft_loss))
                << "cross_entropy_soft" << at;
        }
    }
}

TEST(SoftmaxFastCpu, NanInputGivesNanRow) {
    Tensor y = softmax(Tensor::from_vector<float>({1, NAN, 3, 1, 2, 3}, {2, 3}));
    const auto v = values(y);
    EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]) && std::isnan(v[2]));
    EXPECT_NEAR(v[5], 0.66524096, kTol);
}

TEST(Softmax, ScalarInputIsRejected) {
    EXPECT_THAT(message_of([] { softmax(Tensor::scalar(1.0, DType::F32, test_device())); }),
                HasSubstr("at least one dim"));
}

}  // namespace
}  // namespace obl
