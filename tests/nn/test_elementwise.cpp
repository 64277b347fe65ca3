// Forward and gradient VALUES of the elementwise ops against hand-computed numbers (closed forms
// evaluated with Python's math module), plus the error cases. The f32 tests run on
// test_device() (OBL_TEST_DEVICE=cuda reruns them on the GPU); the f64 ones on the CPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl::test {
namespace {

using ::testing::HasSubstr;

Tensor vec(const std::vector<double>& v, const Shape& s, DType dtype, bool requires_grad = false) {
    Device dev = dtype == DType::F64 ? Device::cpu() : test_device();
    Tensor t = Tensor::from_vector(v, s).to(dtype).to(dev).detach();
    if (requires_grad) t.set_requires_grad(true);
    return t;
}

std::string thrown_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no obl::Error thrown)";
}

struct UnaryExpect {
    const char* name;
    std::function<Tensor(const Tensor&)> op;
    std::vector<double> x, y, dydx;
};

// y = f(x) and dy/dx at hand-picked points.
std::vector<UnaryExpect> unary_expectations() {
    return {
        {"neg", [](const Tensor& x) { return neg(x); }, {-2, 0, 1.5}, {2, 0, -1.5}, {-1, -1, -1}},
        {"exp",
         [](const Tensor& x) { return exp(x); },
         {0, 1, -1},
         {1, 2.718281828459045, 0.36787944117144233},
         {1, 2.718281828459045, 0.36787944117144233}},
        {"log",
         [](const Tensor& x) { return log(x); },
         {1, 2, 0.5},
         {0, 0.6931471805599453, -0.6931471805599453},
         {1, 0.5, 2}},
        {"sqrt",
         [](const Tensor& x) { return sqrt(x); },
         {4, 2, 0.25},
         {2, 1.4142135623730951, 0.5},
         {0.25, 0.35355339059327373, 1}},
        {"abs", [](const Tensor& x) { return abs(x); }, {-2, 0, 3}, {2, 0, 3}, {-1, 0, 1}},
        {"relu", [](const Tensor& x) { return relu(x); }, {-2, 0, 3}, {0, 0, 3}, {0, 0, 1}},
        {"gelu",
         [](const Tensor& x) { return gelu(x); },
         {-1, 0, 1, 2},
         {-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416},
         {-0.08331547058768629, 0.5, 1.0833154705876864, 1.085231801078197}},
        {"sigmoid",
         [](const Tensor& x) { return sigmoid(x); },
         {0, 2, -2, -200},
         {0.5, 0.8807970779778823, 0.11920292202211755, 0},
         {0.25, 0.10499358540350662, 0.1049935854035065, 0}},
        {"tanh",
         [](const Tensor& x) { return tanh(x); },
         {0, 0.5, -1},
         {0, 0.46211715726000974, -0.7615941559557649},
         {1, 0.7864477329659274, 0.41997434161402614}},
        {"pow",
         [](const Tensor& x) { return pow(x, 2.5); },
         {2, 1, 0.25},
         {5.656854249492381, 1, 0.03125},
         {7.0710678118654755, 2.5, 0.3125}},
        {"pow_neg",
         [](const Tensor& x) { return pow(x, -1.0); },
         {2, 4, -0.5},
         {0.5, 0.25, -2},
         {-0.25, -0.0625, -4}},
        {"clamp",
         [](const Tensor& x) { return clamp(x, -0.5, 0.25); },
         {-1, -0.5, 0, 0.25, 0.3},
         {-0.5, -0.5, 0, 0.25, 0.25},
         {0, 1, 1, 1, 0}},
        {"add_scalar",
         [](const Tensor& x) { return add_scalar(x, 0.5); },
         {-1, 0, 2},
         {-0.5, 0.5, 2.5},
         {1, 1, 1}},
        {"mul_scalar",
         [](const Tensor& x) { return mul_scalar(x, -3); },
         {-1, 0, 2},
         {3, 0, -6},
         {-3, -3, -3}},
    };
}

void check_unary(DType dtype, double tol) {
    for (const auto& e : unary_expectations()) {
        SCOPED_TRACE(std::string(e.name) + " " + dtype_name(dtype));
        const Shape s{static_cast<int64_t>(e.x.size())};
        Tensor x = vec(e.x, s, dtype, true);
        Tensor y = e.op(x);
        EXPECT_EQ(y.dtype(), dtype);
        EXPECT_EQ(y.device(), x.device());
        EXPECT_TRUE(all_close(y.to_vector<double>(), e.y, tol, tol, "forward"));
        backward(y, Tensor::ones(s, dtype, x.device()));
        ASSERT_TRUE(x.grad().defined());
        EXPECT_TRUE(all_close(x.grad().to_vector<double>(), e.dydx, tol, tol, "dy/dx"));
    }
}

TEST(Elementwise, UnaryValuesF32) { check_unary(DType::F32, 1e-6); }
TEST(Elementwise, UnaryValuesF64) { check_unary(DType::F64, 1e-14); }

TEST(Elementwise, SigmoidSaturatesWithoutOverflow) {
    Tensor y = sigmoid(vec({-1000, 1000, -90}, {3}, DType::F32));
    const auto v = y.to_vector<double>();
    EXPECT_EQ(v[0], 0.0);
    EXPECT_EQ(v[1], 1.0);
    EXPECT_TRUE(std::isfinite(v[2]));
}

TEST(Elementwise, ReluKeepsShapeOfLargeInput) {  // the OpenMP path (> 32k elements)
    Tensor x = uniform_tensor({256, 300}, -1, 1, 7, DType::F32, test_device());
    const auto xv = x.to_vector<double>();
    const auto yv = relu(x).to_vector<double>();
    ASSERT_EQ(xv.size(), yv.size());
    for (size_t i = 0; i < xv.size(); ++i) ASSERT_EQ(yv[i], xv[i] > 0 ? xv[i] : 0.0) << i;
}

TEST(Elementwise, BinaryValues) {
    for (DType dt : {DType::F32, DType::F64}) {
        SCOPED_TRACE(dtype_name(dt));
        const double tol = dt == DType::F32 ? 1e-6 : 1e-14;
        const Shape s{2, 2};
        Tensor a = vec({2, -1, 0.5, 3}, s, dt), b = vec({3, 4, -2, 0.5}, s, dt);
        EXPECT_TRUE(all_close(add(a, b).to_vector<double>(), {5, 3, -1.5, 3.5}, tol, tol));
        EXPECT_TRUE(all_close(sub(a, b).to_vector<double>(), {-1, -5, 2.5, 2.5}, tol, tol));
        EXPECT_TRUE(all_close(mul(a, b).to_vector<double>(), {6, -4, -1, 1.5}, tol, tol));
        EXPECT_TRUE(all_close(div(a, b).to_vector<double>(), {2.0 / 3, -0.25, -0.25, 6}, tol, tol));
        Tensor pa = vec({2, 4, 9, 0}, s, dt), pb = vec({3, 0.5, -0.5, 2}, s, dt);
        EXPECT_TRUE(all_close(pow(pa, pb).to_vector<double>(), {8, 2, 1.0 / 3, 0}, tol, tol));
    }
}

// Gradients of y = f(a, b) with dy = 1, for each op: da, db at a = [2, 4], b = [3, 0.5].
TEST(Elementwise, BinaryGradients) {
    struct Expect {
        const char* name;
        Tensor (*op)(const Tensor&, const Tensor&);
        std::vector<double> da, db;
    };
    const std::vector<Expect> cases = {
        {"add", add, {1, 1}, {1, 1}},
        {"sub", sub, {1, 1}, {-1, -1}},
        {"mul", mul, {3, 0.5}, {2, 4}},
        {"div", div, {1.0 / 3, 2}, {-2.0 / 9, -16}},
        // da = b a^(b-1); db = a^b ln a
        {"pow", pow, {12, 0.25}, {5.545177444479562, 2.772588722239781}},
    };
    for (DType dt : {DType::F32, DType::F64}) {
        const double tol = dt == DType::F32 ? 1e-6 : 1e-14;
        for (const auto& c : cases) {
            SCOPED_TRACE(std::string(c.name) + " " + dtype_name(dt));
            Tensor a = vec({2, 4}, {2}, dt, true), b = vec({3, 0.5}, {2}, dt, true);
            Tensor y = c.op(a, b);
            backward(y, Tensor::ones({2}, dt, y.device()));
            EXPECT_TRUE(all_close(a.grad().to_vector<double>(), c.da, tol, tol, "da"));
            EXPECT_TRUE(all_close(b.grad().to_vector<double>(), c.db, tol, tol, "db"));
        }
    }
}

TEST(Elementwise, PowGradientAtZeroBaseIsMaskedLikePyTorch) {
    Tensor a = vec({0, 0}, {2}, DType::F64, true), b = vec({2, 0}, {2}, DType::F64, true);
    backward(pow(a, b), Tensor::ones({2}, DType::F64));
    EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0, 0}));
    EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0, 0}));  // 2 * 0^1, 0 * 0^-1
}

TEST(Elementwise, GradientOnlyToInputsThatRequireIt) {
    Tensor a = vec({1, 2}, {2}, DType::F32, true), b = vec({3, 4}, {2}, DType::F32);
    backward(mul(a, b), Tensor::ones({2}, DType::F32, a.device()));
    EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
    EXPECT_FALSE(b.grad().defined());
}

TEST(Elementwise, AddOfATensorWithItselfDoublesTheGradient) {
    Tensor x = vec({1, -2, 3}, {3}, DType::F32, true);
    Tensor y = add(x, x);
    EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{2, -4, 6}));
    backward(y, vec({1, 2, 3}, {3}, DType::F32));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 4, 6}));
}

TEST(Elementwise, WhereValuesAndGradients) {
    for (DType dt : {DType::F32, DType::F64}) {
        SCOPED_TRACE(dtype_name(dt));
        Tensor a = vec({1, 2, 3, 4}, {2, 2}, dt, true), b = vec({-1, -2, -3, -4}, {2, 2}, dt, true);
        Tensor cond = Tensor::from_vector(std::vector<uint8_t>{1, 0, 0, 7}, {2, 2}, a.device());
        Tensor y = where(cond, a, b);
        EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1, -2, -3, 4}));
        backward(y, vec({10, 20, 30, 40}, {2, 2}, dt));
        EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{10, 0, 0, 40}));
        EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0, 20, 30, 0}));
    }
}

TEST(Elementwise, BroadcastToRepeatsAlongExpandedDims) {
    for (DType dt : {DType::F32, DType::F64}) {
        SCOPED_TRACE(dtype_name(dt));
        Tensor x = vec({1, 2, 3}, {3, 1}, dt, true);
        Tensor y = broadcast_to(x, {2, 3, 4});
        EXPECT_EQ(y.shape(), Shape({2, 3, 4}));
        std::vector<double> want;
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j)
                for (int k = 0; k < 4; ++k) want.push_back(j + 1);
        EXPECT_EQ(y.to_vector<double>(), want);
        // backward is sum_to: every x element was used 2 * 4 times
        std::vector<double> seed(24);
        for (int i = 0; i < 24; ++i) seed[i] = i;
        backward(y, vec(seed, {2, 3, 4}, dt));
        EXPECT_EQ(x.grad().shape(), Shape({3, 1}));
        EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{60, 92, 124}));
    }
}

TEST(Elementwise, BroadcastToLeadingAndScalar) {
    Tensor bias = vec({1, 2, 3}, {3}, DType::F32);
    EXPECT_EQ(broadcast_to(bias, {2, 3}).to_vector<double>(),
              (std::vector<double>{1, 2, 3, 1, 2, 3}));
    Tensor s = vec({5}, {}, DType::F32);
    EXPECT_EQ(broadcast_to(s, {2, 2}).to_vector<double>(), (std::vector<double>{5, 5, 5, 5}));
    EXPECT_EQ(broadcast_to(bias, {3}).to_vector<double>(), (std::vector<double>{1, 2, 3}));
}

// y = arange(24) as [2, 3, 4]: element (i, j, k) = 12 i + 4 j + k.
TEST(Elementwise, SumToAddsOverExpandedDims) {
    std::vector<double> v(24);
    for (int i = 0; i < 24; ++i) v[i] = i;
    for (DType dt : {DType::F32, DType::F64}) {
        SCOPED_TRACE(dtype_name(dt));
        Tensor y = vec(v, {2, 3, 4}, dt, true);
        EXPECT_EQ(sum_to(y, {3, 1}).to_vector<double>(), (std::vector<double>{60, 92, 124}));
        EXPECT_EQ(sum_to(y, {4}).to_vector<double>(), (std::vector<double>{60, 66, 72, 78}));
        EXPECT_EQ(sum_to(y, {1, 3, 4}).to_vector<double>(),
                  (std::vector<double>{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}));
        EXPECT_EQ(sum_to(y, {2, 1, 1}).to_vector<double>(), (std::vector<double>{66, 210}));
        Tensor total = sum_to(y, {});
        EXPECT_EQ(total.shape(), Shape({}));
        EXPECT_EQ(total.item(), 276.0);
        // backward is broadcast_to: every element gets the output's gradient
        backward(total);
        EXPECT_EQ(y.grad().to_vector<double>(), std::vector<double>(24, 1.0));
    }
}

TEST(Elementwise, SumToLargeMatchesNaiveSum) {  // OpenMP path and several 256-wide chunks
    const int64_t n = 300, d = 700;
    Tensor x = uniform_tensor({n, d}, -1, 1, 11, DType::F64);
    const auto xv = x.to_vector<double>();
    const auto cols = sum_to(x, {d}).to_vector<double>();
    const auto rows = sum_to(x, {n, 1}).to_vector<double>();
    for (int64_t j = 0; j < d; ++j) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += xv[i * d + j];
        ASSERT_NEAR(cols[j], s, 1e-12) << "column " << j;
    }
    for (int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (int64_t j = 0; j < d; ++j) s += xv[i * d + j];
        ASSERT_NEAR(rows[i], s, 1e-12) << "row " << i;
    }
}

TEST(Elementwise, SumToOfEmptyDimGivesZeros) {
    Tensor x = Tensor::zeros({0, 3}, DType::F32, test_device());
    EXPECT_EQ(sum_to(x, {1, 3}).to_vector<double>(), (std::vector<double>{0, 0, 0}));
    EXPECT_EQ(broadcast_to(vec({1, 2, 3}, {3}, DType::F32), {0, 3}).numel(), 0);
}

// ---- errors --------------------------------------------------------------------------------

TEST(Elementwise, BinaryShapeMismatchNamesBothShapes) {
    Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
    const std::string msg = thrown_message([&] { add(a, b); });
    EXPECT_THAT(msg, HasSubstr("add"));
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    EXPECT_THAT(msg, HasSubstr("[3, 2]"));
    EXPECT_THAT(thrown_message([&] { mul(a, b); }), HasSubstr("mul"));
}

TEST(Elementwise, BinaryDtypeMismatchThrows) {
    Tensor a = Tensor::zeros({2, 3}, DType::F32), b = Tensor::zeros({2, 3}, DType::F64);
    const std::string msg = thrown_message([&] { sub(a, b); });
    EXPECT_THAT(msg, HasSubstr("f32[2, 3]"));
    EXPECT_THAT(msg, HasSubstr("f64[2, 3]"));
}

TEST(Elementwise, IntegerInputsAreRejected) {
    Tensor i = Tensor::zeros({2}, DType::I32);
    EXPECT_THAT(thrown_message([&] { relu(i); }), HasSubstr("i32"));
    EXPECT_THAT(thrown_message([&] { add(i, i); }), HasSubstr("i32"));
}

TEST(Elementwise, BroadcastToIncompatibleShapeThrows) {
    Tensor x = Tensor::zeros({3, 2});
    const std::string msg = thrown_message([&] { broadcast_to(x, {2, 3, 4}); });
    EXPECT_THAT(msg, HasSubstr("[3, 2]"));
    EXPECT_THAT(msg, HasSubstr("[2, 3, 4]"));
    EXPECT_THAT(thrown_message([&] { broadcast_to(x, {2}); }), HasSubstr("dims"));
    const std::string sum_msg = thrown_message([&] { sum_to(Tensor::zeros({2, 3, 4}), {3, 2}); });
    EXPECT_THAT(sum_msg, HasSubstr("[2, 3, 4]"));
    EXPECT_THAT(sum_msg, HasSubstr("[3, 2]"));
}

TEST(Elementwise, WhereChecksCondDtypeAndShapes) {
    Tensor a = Tensor::zeros({2, 2}), b = Tensor::zeros({2, 2});
    EXPECT_THAT(thrown_message([&] { where(Tensor::zeros({2, 2}), a, b); }), HasSubstr("u8"));
    Tensor c = Tensor::zeros({4}, DType::U8);
    const std::string msg = thrown_message([&] { where(c, a, b); });
    EXPECT_THAT(msg, HasSubstr("[4]"));
    EXPECT_THAT(msg, HasSubstr("[2, 2]"));
}

TEST(Elementwise, ClampRejectsInvertedBounds) {
    EXPECT_THAT(thrown_message([] { clamp(Tensor::zeros({2}), 1.0, -1.0); }), HasSubstr("clamp"));
}

}  // namespace
}  // namespace obl::test
