// Forward and gradient VALUES of conv2d, the pools, batch_norm and layer_norm against numbers
// worked out by hand (small integer images, so most conv/pool checks are exact), plus the error
// messages. f32 tests run on test_device() (OBL_TEST_DEVICE=cuda reruns them on the GPU); on the
// CPU the conv tests run both the fast path and the reference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernels/common/parallel.h"
#include "nn/dispatch.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl::test {
namespace {

using ::testing::HasSubstr;

Tensor vec(const std::vector<double>& v, const Shape& s, bool requires_grad = false) {
    Tensor t = Tensor::from_vector(v, s).to(DType::F32).to(test_device()).detach();
    if (requires_grad) t.set_requires_grad(true);
    return t;
}

std::vector<double> arange(int64_t n) {
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>(i);
    return v;
}

Tensor ones_like(const Tensor& t) { return Tensor::ones(t.shape(), t.dtype(), t.device()); }

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no obl::Error thrown)";
}

Conv2dParams pad_stride(int64_t pad, int64_t stride = 1) {
    Conv2dParams p;
    p.pad_h = p.pad_w = pad;
    p.stride_h = p.stride_w = stride;
    return p;
}

// Runs `body` with the fast CPU path and again with the reference (once on CUDA).
void for_each_cpu_path(const std::function<void(const char*)>& body) {
    body("default path");
    if (test_device().is_cpu()) {
        ReferenceCpuGuard guard;
        body("reference");
    }
}

// x = arange(16) as a 4x4 image:
//    0  1  2  3
//    4  5  6  7
//    8  9 10 11
//   12 13 14 15
// A 3x3 all-ones kernel with padding 1 sums each pixel's in-image 3x3 neighbourhood.
TEST(Conv2d, OnesKernelOnArangeImageWithPadding) {
    for_each_cpu_path([](const char* path) {
        Tensor x = vec(arange(16), {1, 1, 4, 4});
        Tensor w = vec(std::vector<double>(9, 1.0), {1, 1, 3, 3});
        Tensor y = conv2d(x, w, vec({0.5}, {1}), pad_stride(1));
        EXPECT_EQ(y.shape(), Shape({1, 1, 4, 4})) << path;
        EXPECT_EQ(values(y), (std::vector<double>{10.5, 18.5, 24.5, 18.5,  //
                                                  27.5, 45.5, 54.5, 39.5,  //
                                                  51.5, 81.5, 90.5, 63.5,  //
                                                  42.5, 66.5, 72.5, 50.5}))
            << path;
        // Stride 2 keeps rows/cols 0 and 2 of the stride-1 result.
        Tensor y2 = conv2d(x, w, Tensor(), pad_stride(1, 2));
        EXPECT_EQ(values(y2), (std::vector<double>{10, 24, 51, 90})) << path;
    });
}

// With dy = 1: dx counts the windows covering each pixel (4 corner, 6 edge, 9 inside); dw[a][b]
// sums x over the image shifted by (a - 1, b - 1); db counts the outputs.
TEST(Conv2d, OnesKernelGradients) {
    for_each_cpu_path([](const char* path) {
        Tensor x = vec(arange(16), {1, 1, 4, 4}, true);
        Tensor w = vec(std::vector<double>(9, 1.0), {1, 1, 3, 3}, true);
        Tensor b = vec({0.0}, {1}, true);
        Tensor y = conv2d(x, w, b, pad_stride(1));
        backward(y, ones_like(y));
        EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 6, 6, 4, 6, 9, 9, 6,  //
                                                         6, 9, 9, 6, 4, 6, 6, 4}))
            << path;
        EXPECT_EQ(values(w.grad()), (std::vector<double>{45, 66, 54, 84, 120, 96, 81, 114, 90}))
            << path;
        EXPECT_EQ(values(b.grad()), (std::vector<double>{16})) << path;
    });
}

// Depthwise (groups = C): channel c is scaled by its own 1x1 weight only.
TEST(Conv2d, DepthwiseKeepsChannelsApart) {
    for_each_cpu_path([](const char* path) {
        Tensor x = vec(arange(8), {1, 2, 2, 2});
        Tensor w = vec({2, -1}, {2, 1, 1, 1});
        Conv2dParams p;
        p.groups = 2;
        EXPECT_EQ(values(conv2d(x, w, Tensor(), p)),
                  (std::vector<double>{0, 2, 4, 6, -4, -5, -6, -7}))
            << path;
    });
}

// Dilation 2 spreads a 2x2 ones kernel over a 3x3 span: y[i][j] = x[i][j] + x[i][j+2] +
// x[i+2][j] + x[i+2][j+2] = 4 (5 i + j) + 24 on the 5x5 arange image.
TEST(Conv2d, DilationSpreadsTheKernel) {
    for_each_cpu_path([](const char* path) {
        Tensor x = vec(arange(25), {1, 1, 5, 5});
        Tensor w = vec({1, 1, 1, 1}, {1, 1, 2, 2});
        Conv2dParams p;
        p.dilation_h = p.dilation_w = 2;
        EXPECT_EQ(values(conv2d(x, w, Tensor(), p)),
                  (std::vector<double>{24, 28, 32, 44, 48, 52, 64, 68, 72}))
            << path;
    });
}

// The fast path must give the same bits for every thread count (fixed dweight slots), and agree
// with the reference within the conv tolerance.
TEST(Conv2d, FastPathIsDeterministicAcrossThreadCounts) {
    if (!test_device().is_cpu()) GTEST_SKIP() << "CPU fast path only";
    const int saved = num_threads();
    auto run = [](int threads) {
        set_num_threads(threads);
        Tensor x = uniform_tensor({7, 8, 12, 12}, -1, 1, 11).set_requires_grad(true);
        Tensor w = uniform_tensor({16, 8, 3, 3}, -1, 1, 12).set_requires_grad(true);
        Tensor b = uniform_tensor({16}, -1, 1, 13).set_requires_grad(true);
        Tensor y = conv2d(x, w, b, pad_stride(1));
        backward(y, uniform_tensor(y.shape(), -1, 1, 14));
        return std::vector<std::vector<float>>{y.to_vector<float>(), x.grad().to_vector<float>(),
                                               w.grad().to_vector<float>(),
                                               b.grad().to_vector<float>()};
    };
    const auto one = run(1), two = run(2), three = run(3);
    set_num_threads(saved);
    for (size_t i = 0; i < one.size(); ++i) {
        EXPECT_EQ(one[i], two[i]) << "output " << i << " differs between 1 and 2 threads";
        EXPECT_EQ(one[i], three[i]) << "output " << i << " differs between 1 and 3 threads";
    }
}

TEST(Conv2d, ErrorsNameTheShapes) {
    Tensor x = vec(std::vector<double>(2 * 3 * 5 * 5, 0.0), {2, 3, 5, 5});
    Tensor w4 = vec(std::vector<double>(4 * 4 * 9, 0.0), {4, 4, 3, 3});
    EXPECT_THAT(error_of([&] { conv2d(x, w4, Tensor(), Conv2dParams()); }),
                HasSubstr("conv2d: input has 3 channels, weight expects 4"));
    Tensor w = vec(std::vector<double>(4 * 3 * 9, 0.0), {4, 3, 3, 3});
    EXPECT_THAT(error_of([&] {
                    conv2d(x, w, vec({0, 0, 0}, {3}), Conv2dParams());
                }),
                HasSubstr("conv2d: bias [3] must be (4) for weight [4, 3, 3, 3]"));
    Conv2dParams g2;
    g2.groups = 2;
    EXPECT_THAT(error_of([&] { conv2d(x, w, Tensor(), g2); }),
                HasSubstr("conv2d: input channels 3 are not divisible by groups 2"));
    EXPECT_THAT(error_of([&] {
                    conv2d(x.reshape({6, 5, 5}), w, Tensor(), Conv2dParams());
                }),
                HasSubstr("conv2d: input must be (N, C, H, W), got f32[6, 5, 5]"));
    Tensor big = vec(std::vector<double>(4 * 3 * 36, 0.0), {4, 3, 6, 6});
    EXPECT_THAT(error_of([&] { conv2d(x, big, Tensor(), Conv2dParams()); }),
                HasSubstr("does not fit input [2, 3, 5, 5]"));
    if (test_device().is_cpu()) {
        Tensor w64 = w.to(DType::F64);
        EXPECT_THAT(error_of([&] { conv2d(x, w64, Tensor(), Conv2dParams()); }),
                    HasSubstr("differ in dtype"));
    }
}

// ---- pooling --------------------------------------------------------------------------------

TEST(MaxPool2d, PicksTheWindowMaximumAndRoutesItsGradient) {
    Tensor x = vec(arange(16), {1, 1, 4, 4}, true);
    Tensor y = max_pool2d(x, 2, 2);
    EXPECT_EQ(values(y), (std::vector<double>{5, 7, 13, 15}));
    backward(y, vec({1, 2, 3, 4}, {1, 1, 2, 2}));
    EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 0, 0, 0, 1, 0, 2,  //
                                                     0, 0, 0, 0, 0, 3, 0, 4}));
}

// Overlapping 2x2 windows (stride 1) that all see the centre 9: its gradient is the sum.
TEST(MaxPool2d, OverlappingWindowsAddTheirGradients) {
    Tensor x = vec({0, 1, 2, 3, 9, 5, 6, 7, 8}, {1, 1, 3, 3}, true);
    Tensor y = max_pool2d(x, 2, 1);
    EXPECT_EQ(values(y), (std::vector<double>{9, 9, 9, 9}));
    backward(y, ones_like(y));
    EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 0, 0, 4, 0, 0, 0, 0}));
}

// Padding counts as -inf: all-negative pixels still win against the padded border.
TEST(MaxPool2d, PaddingNeverWins) {
    Tensor x = vec({-4, -3, -2, -1}, {1, 1, 2, 2});
    EXPECT_EQ(values(max_pool2d(x, 2, 2, 1)), (std::vector<double>{-4, -3, -2, -1}));
}

TEST(AvgPool2d, AveragesWindows) {
    Tensor x = vec(arange(16), {1, 1, 4, 4});
    EXPECT_EQ(values(avg_pool2d(x, 2, 2)), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
}

// count_include_pad: a corner 3x3 window holds 4 pixels of 1 and 5 zeros of padding -> 4/9.
TEST(AvgPool2d, CountsPaddingInTheDivisor) {
    Tensor x = vec(std::vector<double>(16, 1.0), {1, 1, 4, 4}, true);
    Tensor y = avg_pool2d(x, 3, 1, 1);
    const std::vector<double> want = {4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4};
    std::vector<double> scaled = want;
    for (double& v : scaled) v /= 9.0;
    EXPECT_TRUE(all_close(values(y), scaled, 1e-6, 1e-6));
    // Backward: each pixel receives 1/9 from every window that contains it (the same counts).
    backward(y, ones_like(y));
    EXPECT_TRUE(all_close(values(x.grad()), scaled, 1e-6, 1e-6));
}

// 7 -> 3 windows: [0, 3) [2, 5) [4, 7), overlapping at 2 and 4.
TEST(AdaptiveAvgPool2d, SevenToThreeWindowsOverlap) {
    Tensor x = vec(arange(7), {1, 1, 1, 7}, true);
    Tensor y = adaptive_avg_pool2d(x, 1, 3);
    EXPECT_EQ(values(y), (std::vector<double>{1, 3, 5}));
    backward(y, ones_like(y));
    const double t = 1.0 / 3.0;
    EXPECT_TRUE(all_close(values(x.grad()), {t, t, 2 * t, t, 2 * t, t, t}, 1e-6, 1e-6));
    // 2-D: x[r][s] = 7 r + s, window means are 7 mean(r) + mean(s) with means 1, 3, 5.
    Tensor x2 = vec(arange(49), {1, 1, 7, 7});
    EXPECT_EQ(values(adaptive_avg_pool2d(x2, 3, 3)),
              (std::vector<double>{8, 10, 12, 22, 24, 26, 36, 38, 40}));
}

// 5 -> 3 windows: [0, 2) [1, 4) [3, 5); 1 -> 1 is the global mean.
TEST(AdaptiveAvgPool2d, FiveToThreeAndGlobal) {
    Tensor x = vec(arange(5), {1, 1, 5, 1});
    EXPECT_EQ(values(adaptive_avg_pool2d(x, 3, 1)), (std::vector<double>{0.5, 2, 3.5}));
    Tensor x2 = vec(arange(12), {1, 2, 2, 3});
    EXPECT_EQ(values(adaptive_avg_pool2d(x2, 1, 1)), (std::vector<double>{2.5, 8.5}));
}

TEST(Pool2d, ErrorsNameTheShapes) {
    Tensor x = vec(arange(16), {1, 1, 4, 4});
    EXPECT_THAT(error_of([&] { max_pool2d(x, 3, 1, 2); }),
                HasSubstr("max_pool2d: padding 2 must be between 0 and half the kernel 3"));
    EXPECT_THAT(error_of([&] { avg_pool2d(x, 5, 1); }),
                HasSubstr("avg_pool2d: kernel 5 with padding 0 does not fit input [1, 1, 4, 4]"));
    EXPECT_THAT(error_of([&] {
                    max_pool2d(x.reshape({1, 4, 4}), 2, 2);
                }),
                HasSubstr("max_pool2d: input must be (N, C, H, W), got f32[1, 4, 4]"));
    EXPECT_THAT(error_of([&] { adaptive_avg_pool2d(x, 0, 2); }),
                HasSubstr("adaptive_avg_pool2d: output size must be >= 1, got (0, 2)"));
}

// ---- batch norm -----------------------------------------------------------------------------

// x (N=4, C=2): channel 0 = 1 2 3 4 (mean 2.5, biased var 1.25, unbiased 5/3), channel 1 = 2 2 2 2
// (mean 2, var 0). Running stats start at (0, 1), momentum 0.1:
//   running_mean = 0.9 * 0 + 0.1 * mean         -> 0.25, 0.2
//   running_var  = 0.9 * 1 + 0.1 * unbiased var -> 0.9 + 1/6 = 1.0666667, 0.9
TEST(BatchNorm, TrainingUsesBatchStatsAndUpdatesRunningStats) {
    Tensor x = vec({1, 2, 2, 2, 3, 2, 4, 2}, {4, 2});
    Tensor w = vec({2, 1}, {2});
    Tensor b = vec({0.5, -1}, {2});
    Tensor rm = vec({0, 0}, {2});
    Tensor rv = vec({1, 1}, {2});
    Tensor y = batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
    const double s = 2.0 / std::sqrt(1.25 + 1e-5);
    EXPECT_TRUE(all_close(
        values(y), {-1.5 * s + 0.5, -1, -0.5 * s + 0.5, -1, 0.5 * s + 0.5, -1, 1.5 * s + 0.5, -1},
        1e-5, 1e-5));
    EXPECT_TRUE(all_close(values(rm), {0.25, 0.2}, 1e-6, 1e-6));
    EXPECT_TRUE(all_close(values(rv), {0.9 + 0.1 * 5.0 / 3.0, 0.9}, 1e-6, 1e-6));
    // A second step folds in the same batch again: 0.9 * 0.25 + 0.1 * 2.5 = 0.475, ...
    batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
    EXPECT_TRUE(all_close(values(rm), {0.475, 0.38}, 1e-6, 1e-6));
    EXPECT_TRUE(all_close(values(rv), {0.9 * (0.9 + 0.5 / 3.0) + 0.5 / 3.0, 0.81}, 1e-6, 1e-6));
}

// (N, C, H, W) = (2, 1, 1, 2) holds the same four values 1..4 in one channel: statistics run over
// the batch AND the spatial positions.
TEST(BatchNorm, StatisticsCoverBatchAndSpace) {
    Tensor x = vec({1, 2, 3, 4}, {2, 1, 1, 2});
    Tensor rm = vec({0}, {1});
    Tensor rv = vec({1}, {1});
    Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true);
    const double s = 1.0 / std::sqrt(1.25 + 1e-5);
    EXPECT_TRUE(all_close(values(y), {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s}, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(values(rm), {0.25}, 1e-6, 1e-6));
}

TEST(BatchNorm, EvalUsesRunningStatsAndLeavesThemAlone) {
    Tensor x = vec({1, 2, 3, 4}, {2, 2});
    Tensor rm = vec({1, -1}, {2});
    Tensor rv = vec({4, 0.25}, {2});
    Tensor w = vec({1, 2}, {2}, true);
    Tensor b = vec({0, 1}, {2}, true);
    Tensor xg = vec({1, 2, 3, 4}, {2, 2}, true);
    Tensor y = batch_norm(xg, w, b, rm, rv, false, 0.1, 0.0 + 1e-12);
    // ch0: (x - 1) / 2;  ch1: (x + 1) / 0.5 * 2 + 1
    EXPECT_TRUE(all_close(values(y), {0, 13, 1, 21}, 1e-5, 1e-5));
    EXPECT_EQ(values(rm), (std::vector<double>{1, -1}));
    EXPECT_EQ(values(rv), (std::vector<double>{4, 0.25}));
    // Eval backward: the statistics are constants, dx = dy w / sqrt(var + eps).
    backward(y, ones_like(y));
    EXPECT_TRUE(all_close(values(xg.grad()), {0.5, 4, 0.5, 4}, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(values(w.grad()), {0 + 1, 6 + 10}, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(values(b.grad()), {2, 2}, 1e-6, 1e-6));
}

// Training backward with a constant dy: normalised outputs do not move when every input shifts
// by the same amount, so dx = 0; db = M; dw = sum xhat = 0.
TEST(BatchNorm, TrainingBackwardGoesThroughTheBatchStatistics) {
    Tensor x = vec({1, 5, 2, 3, 7, 2}, {3, 2}, true);
    Tensor w = vec({1.5, -2}, {2}, true);
    Tensor b = vec({0, 0}, {2}, true);
    Tensor y = batch_norm(x, w, b, Tensor(), Tensor(), true);
    backward(y, ones_like(y));
    EXPECT_TRUE(all_close(values(x.grad()), std::vector<double>(6, 0.0), 1e-5, 0));
    EXPECT_TRUE(all_close(values(b.grad()), {3, 3}, 1e-6, 1e-6));
    EXPECT_TRUE(all_close(values(w.grad()), {0, 0}, 1e-5, 0));
}

TEST(BatchNorm, ErrorsNameTheShapes) {
    Tensor x = vec(std::vector<double>(8, 1.0), {4, 2});
    Tensor r3 = vec({0, 0, 0}, {3});
    Tensor r2 = vec({0, 0}, {2});
    EXPECT_THAT(error_of([&] { batch_norm(x, Tensor(), Tensor(), r3, r3, true); }),
                HasSubstr("batch_norm: running_mean [3] does not match channels 2 of x [4, 2]"));
    EXPECT_THAT(error_of([&] { batch_norm(x, r3, Tensor(), r2, r2, true); }),
                HasSubstr("batch_norm: weight [3] does not match channels 2 of x [4, 2]"));
    EXPECT_THAT(error_of([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); }),
                HasSubstr("eval mode needs running_mean and running_var"));
    Tensor one = vec({1, 2}, {1, 2});
    EXPECT_THAT(error_of([&] { batch_norm(one, Tensor(), Tensor(), r2, r2, true); }),
                HasSubstr("training needs more than 1 value per channel, got input [1, 2]"));
}

// ---- layer norm -----------------------------------------------------------------------------

TEST(LayerNorm, NormalisesTheLastDim) {
    Tensor x = vec({1, 2, 3, 4, 2, 2, 2, 2}, {2, 4});
    Tensor w = vec({1, 1, 2, 2}, {4});
    Tensor b = vec({0, 0, 0, 1}, {4});
    Tensor y = layer_norm(x, w, b, 1e-5);
    const double s = 1.0 / std::sqrt(1.25 + 1e-5);  // row 0: mean 2.5, var 1.25
    EXPECT_TRUE(all_close(values(y),
                          {-1.5 * s, -0.5 * s, 1.0 * s, 3.0 * s + 1,  // row 0
                           0, 0, 0, 1},                               // constant row
                          1e-5, 1e-5));
}

// dy = 1 and w = 1: shifting a whole row does not change its output, so dx = 0; db = rows.
TEST(LayerNorm, ConstantGradientGivesZeroInputGradient) {
    Tensor x = vec({1, 4, 2, 8, 3, 3, -1, 0}, {2, 4}, true);
    Tensor w = vec({1, 1, 1, 1}, {4}, true);
    Tensor b = vec({0, 0, 0, 0}, {4}, true);
    Tensor y = layer_norm(x, w, b);
    backward(y, ones_like(y));
    EXPECT_TRUE(all_close(values(x.grad()), std::vector<double>(8, 0.0), 1e-5, 0));
    EXPECT_TRUE(all_close(values(b.grad()), {2, 2, 2, 2}, 1e-6, 1e-6));
}

TEST(LayerNorm, ErrorsNameTheShapes) {
    Tensor x = vec(std::vector<double>(8, 1.0), {2, 4});
    Tensor w5 = vec(std::vector<double>(5, 1.0), {5});
    EXPECT_THAT(error_of([&] { layer_norm(x, w5, Tensor()); }),
                HasSubstr("layer_norm: weight [5] does not match last dim 4 of x [2, 4]"));
}

}  // namespace
}  // namespace obl::test
