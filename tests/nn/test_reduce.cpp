// Reductions: forward values against hand-computed numbers, output shapes (keepdim), gradients
// of max/min to the FIRST extremum, var's two normalisations, and error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::test_device;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor on_device(const std::vector<float>& v, const Shape& s) {
    return Tensor::from_vector(v, s, test_device());
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

// x = [[1, 5, 3], [4, 2, 6]]
Tensor matrix() { return on_device({1, 5, 3, 4, 2, 6}, {2, 3}); }

TEST(Reduce, SumMeanOverEachDim) {
    EXPECT_THAT(values(sum(matrix(), 0)), ElementsAre(5, 7, 9));
    EXPECT_THAT(values(sum(matrix(), 1)), ElementsAre(9, 12));
    EXPECT_THAT(values(sum(matrix(), -1)), ElementsAre(9, 12));
    EXPECT_THAT(values(mean(matrix(), 0)), ElementsAre(2.5, 3.5, 4.5));
    EXPECT_THAT(values(mean(matrix(), 1)), ElementsAre(3, 4));
}

TEST(Reduce, KeepdimShapes) {
    EXPECT_EQ(sum(matrix(), 0).shape(), (Shape{3}));
    EXPECT_EQ(sum(matrix(), 0, true).shape(), (Shape{1, 3}));
    EXPECT_EQ(max(matrix(), 1, true).shape(), (Shape{2, 1}));
    EXPECT_EQ(argmax(matrix(), 1, true).shape(), (Shape{2, 1}));
    EXPECT_EQ(var(matrix(), 1, true, true).shape(), (Shape{2, 1}));
    Tensor x3 = on_device(std::vector<float>(24, 1.f), {2, 3, 4});
    EXPECT_EQ(mean(x3, 1).shape(), (Shape{2, 4}));
    EXPECT_THAT(values(sum(x3, 1)), ::testing::Each(3.0));
}

TEST(Reduce, MaxMinArgmax) {
    EXPECT_THAT(values(max(matrix(), 0)), ElementsAre(4, 5, 6));
    EXPECT_THAT(values(max(matrix(), 1)), ElementsAre(5, 6));
    EXPECT_THAT(values(min(matrix(), 0)), ElementsAre(1, 2, 3));
    EXPECT_THAT(values(min(matrix(), 1)), ElementsAre(1, 2));
    Tensor am = argmax(matrix(), 1);
    EXPECT_EQ(am.dtype(), DType::I64);
    EXPECT_FALSE(am.requires_grad());
    EXPECT_THAT(am.to_vector<int64_t>(), ElementsAre(1, 2));
    EXPECT_THAT(argmax(matrix(), 0).to_vector<int64_t>(), ElementsAre(1, 0, 1));
}

TEST(Reduce, ArgmaxTiesPickTheFirstIndex) {
    Tensor x = on_device({3, 7, 7, 1, 2, 2, 2, 0}, {2, 4});
    EXPECT_THAT(argmax(x, 1).to_vector<int64_t>(), ElementsAre(1, 0));
}

TEST(Reduce, MaxMinGradientGoesToTheFirstExtremum) {
    Tensor x = on_device({1, 3, 3, 2, 0, 0}, {1, 6});
    x.set_requires_grad(true);
    backward(sum_all(max(x, 1)));
    EXPECT_THAT(values(x.grad()), ElementsAre(0, 1, 0, 0, 0, 0));
    x.zero_grad();
    backward(sum_all(min(x, 1)));
    EXPECT_THAT(values(x.grad()), ElementsAre(0, 0, 0, 0, 1, 0));
}

TEST(Reduce, NanPropagatesThroughMax) {
    Tensor x = on_device({1, NAN, 3}, {3});
    EXPECT_TRUE(std::isnan(max(x, 0).item()));
    EXPECT_EQ(argmax(x, 0).item(), 1);
}

TEST(Reduce, VarianceBothNormalisations) {
    Tensor x = on_device({1, 2, 3, 4}, {4});
    EXPECT_NEAR(var(x, 0).item(), 5.0 / 3.0, 1e-6);    // sum of squares 5, / (4 - 1)
    EXPECT_NEAR(var(x, 0, false).item(), 1.25, 1e-6);  // / 4
    Tensor col = on_device({1, 10, 2, 20, 3, 30, 4, 40}, {4, 2});
    EXPECT_THAT(values(var(col, 0, false)),
                ElementsAre(::testing::DoubleNear(1.25, 1e-6), ::testing::DoubleNear(125, 1e-4)));
}

TEST(Reduce, VarianceGradient) {
    // d var / dx_i = 2 (x_i - mean) / (R - 1): mean 2.5 -> [-1, -1/3, 1/3, 1].
    Tensor x = on_device({1, 2, 3, 4}, {4});
    x.set_requires_grad(true);
    backward(var(x, 0));
    const auto g = values(x.grad());
    const double want[] = {-1.0, -1.0 / 3, 1.0 / 3, 1.0};
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(g[i], want[i], 1e-6) << i;
}

TEST(Reduce, SumAllMeanAllAreScalars) {
    Tensor s = sum_all(matrix());
    EXPECT_EQ(s.shape(), Shape{});
    EXPECT_DOUBLE_EQ(s.item(), 21);
    EXPECT_DOUBLE_EQ(mean_all(matrix()).item(), 3.5);
    Tensor x = matrix();
    x.set_requires_grad(true);
    backward(mean_all(x));
    EXPECT_THAT(values(x.grad()), ::testing::Each(::testing::DoubleNear(1.0 / 6, 1e-7)));
}

TEST(Reduce, SumOfAZeroDimTensor) {
    Tensor x = Tensor::scalar(2.5, DType::F32, test_device());
    EXPECT_DOUBLE_EQ(sum(x, 0).item(), 2.5);
    EXPECT_DOUBLE_EQ(sum_all(x).item(), 2.5);
}

TEST(Reduce, LargeSumIsAccurate) {
    // 1e6 values of 0.1f: a float running sum drifts by ~1%; the double accumulator does not.
    const int64_t n = 1000000;
    Tensor x = Tensor::full({n}, 0.1, DType::F32, test_device());
    EXPECT_NEAR(sum_all(x).item(), n * static_cast<double>(0.1f), 1.0);
}

TEST(Reduce, DimOutOfRangeNamesDimAndShape) {
    const std::string msg = message_of([] { sum(matrix(), 2); });
    EXPECT_THAT(msg, HasSubstr("dim 2 out of range"));
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    EXPECT_THAT(message_of([] { argmax(matrix(), -3); }), HasSubstr("out of range"));
}

TEST(Reduce, IntegerInputIsRejected) {
    Tensor x = Tensor::from_vector<int64_t>({1, 2}, {2}, test_device());
    EXPECT_THAT(message_of([&] { sum(x, 0); }), HasSubstr("must be f32 or f64"));
}

TEST(Reduce, EmptyDimMaxThrows) {
    Tensor x = Tensor::empty({2, 0}, DType::F32, test_device());
    EXPECT_THAT(message_of([&] { max(x, 1); }), HasSubstr("empty dim"));
    EXPECT_THAT(values(sum(x, 1)), ElementsAre(0, 0));
}

}  // namespace
}  // namespace obl
