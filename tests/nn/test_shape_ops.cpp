// Forward values (hand-computed, or from an independent naive implementation written here) and
// error cases of the data-movement ops: concat, stack, slice, index_select, gather, scatter_add,
// pad, permute, transpose, interpolate (nn/ops/shape_ops.h). Gradients of every op are checked
// by the op table (tests/kernels/op_cases_shape.cpp); here a few backward values are pinned too.
// Runs on test_device() (OBL_TEST_DEVICE=cuda reruns it on the GPU); index-validation tests are
// CPU-only because CUDA does not validate indices (kernels/index.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::test_device;
using ::testing::HasSubstr;

Tensor f32(const std::vector<float>& v, const Shape& s) {
    return Tensor::from_vector(v, s, test_device());
}
Tensor i64(const std::vector<int64_t>& v, const Shape& s) {
    return Tensor::from_vector(v, s, test_device());
}
Tensor leaf(const std::vector<float>& v, const Shape& s) {
    Tensor t = f32(v, s);
    t.set_requires_grad(true);
    return t;
}
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
std::vector<double> iota(int64_t n, double start = 0) {
    std::vector<double> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<double>(i);
    return v;
}
Tensor arange(const Shape& s, double start = 0) {
    return Tensor::from_vector(iota(s.numel(), start), s).to(DType::F32).to(test_device());
}

// The message of the obl::Error thrown by f ("" when nothing is thrown).
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

#define SKIP_ON_CUDA_INDEX_CHECK() \
    if (test_device().is_cuda())   \
    GTEST_SKIP() << "CUDA indices are not validated on the host (kernels/index.h)"

// ---- concat / stack ----------------------------------------------------------------------------

TEST(ShapeOps, ConcatValuesAndGradient) {
    Tensor a = leaf({1, 2, 3, 4}, {2, 2}), b = leaf({5, 6}, {2, 1});
    Tensor y = concat({a, b}, 1);
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(vals(y), (std::vector<double>{1, 2, 5, 3, 4, 6}));
    backward(y, f32({10, 20, 30, 40, 50, 60}, {2, 3}));
    EXPECT_EQ(vals(a.grad()), (std::vector<double>{10, 20, 40, 50}));
    EXPECT_EQ(vals(b.grad()), (std::vector<double>{30, 60}));

    Tensor z = concat({f32({1, 2, 3, 4}, {2, 2}), f32({5, 6}, {1, 2})}, 0);
    EXPECT_EQ(z.shape(), (Shape{3, 2}));
    EXPECT_EQ(vals(z), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(ShapeOps, ConcatMismatchNamesBothShapes) {
    const std::string msg = error_of([] {
        concat({Tensor::zeros({2, 3}, DType::F32, test_device()),
                Tensor::zeros({3, 4}, DType::F32, test_device())},
               0);
    });
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    EXPECT_THAT(msg, HasSubstr("[3, 4]"));
    EXPECT_THAT(error_of([] { concat({}, 0); }), HasSubstr("at least one"));
    EXPECT_THAT(error_of([] {
                    concat({Tensor::zeros({2}, DType::F32, test_device()),
                            Tensor::zeros({2}, DType::F64, Device::cpu())},
                           0);
                }),
                HasSubstr("concat"));
}

TEST(ShapeOps, StackInsertsANewDim) {
    Tensor a = f32({1, 2}, {2}), b = f32({3, 4}, {2});
    Tensor s0 = stack({a, b}, 0), s1 = stack({a, b}, -1);
    EXPECT_EQ(s0.shape(), (Shape{2, 2}));
    EXPECT_EQ(vals(s0), (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(s1.shape(), (Shape{2, 2}));
    EXPECT_EQ(vals(s1), (std::vector<double>{1, 3, 2, 4}));
    const std::string msg = error_of([&] { stack({a, f32({1, 2, 3}, {3})}, 0); });
    EXPECT_THAT(msg, HasSubstr("[3]"));
    EXPECT_THAT(msg, HasSubstr("[2]"));
}

// ---- slice -----------------------------------------------------------------------------------

TEST(ShapeOps, SliceWithStepAndGradient) {
    Tensor x = arange({10});
    x.set_requires_grad(true);
    Tensor y = slice(x, 0, 1, 8, 3);
    EXPECT_EQ(vals(y), (std::vector<double>{1, 4, 7}));
    backward(y, f32({1, 2, 3}, {3}));
    EXPECT_EQ(vals(x.grad()), (std::vector<double>{0, 1, 0, 0, 2, 0, 0, 3, 0, 0}));

    Tensor m = arange({3, 4});  // [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
    EXPECT_EQ(vals(slice(m, 1, 1, 4, 2)), (std::vector<double>{1, 3, 5, 7, 9, 11}));
    EXPECT_EQ(vals(slice(m, -2, 2, 3)), (std::vector<double>{8, 9, 10, 11}));
    EXPECT_EQ(slice(m, 1, 2, 2).shape(), (Shape{3, 0}));
}

TEST(ShapeOps, SliceOutOfRangeThrows) {
    Tensor x = arange({2, 10});
    const std::string msg = error_of([&] { slice(x, 1, 2, 11); });
    EXPECT_THAT(msg, HasSubstr("out of range"));
    EXPECT_THAT(msg, HasSubstr("size 10"));
    EXPECT_THAT(error_of([&] { slice(x, 1, 5, 4); }), HasSubstr("out of range"));
    EXPECT_THAT(error_of([&] { slice(x, 1, 0, 4, 0); }), HasSubstr("step"));
    EXPECT_THAT(error_of([&] { slice(x, 2, 0, 1); }), HasSubstr("dim 2 out of range"));
}

// ---- index_select / gather / scatter_add -------------------------------------------------------

TEST(ShapeOps, IndexSelectValuesAndGradient) {
    Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor y = index_select(x, 1, i64({2, 0, 2}, {3}));
    EXPECT_EQ(vals(y), (std::vector<double>{3, 1, 3, 6, 4, 6}));
    backward(y, Tensor::ones({2, 3}, DType::F32, test_device()));
    EXPECT_EQ(vals(x.grad()), (std::vector<double>{1, 0, 2, 1, 0, 2}));
    EXPECT_EQ(vals(index_select(f32({1, 2, 3, 4, 5, 6}, {2, 3}), 0, i64({1}, {1}))),
              (std::vector<double>{4, 5, 6}));
}

TEST(ShapeOps, IndexOutOfRangeNamesIndexAndSize) {
    SKIP_ON_CUDA_INDEX_CHECK();
    Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
    std::string msg = error_of([&] { index_select(x, 1, i64({0, 7}, {2})); });
    EXPECT_THAT(msg, HasSubstr("index 7"));
    EXPECT_THAT(msg, HasSubstr("size 3"));
    EXPECT_THAT(error_of([&] { index_select(x, 1, i64({-1}, {1})); }), HasSubstr("index -1"));
    msg = error_of([&] { gather(x, 0, i64({0, 1, 2, 0, 0, 0}, {2, 3})); });
    EXPECT_THAT(msg, HasSubstr("index 2"));
    EXPECT_THAT(msg, HasSubstr("size 2"));
    msg = error_of([&] {
        scatter_add(Tensor::zeros({3, 5}, DType::F32, test_device()), 0, i64({0, 3}, {1, 2}),
                    Tensor::ones({1, 2}, DType::F32, test_device()));
    });
    EXPECT_THAT(msg, HasSubstr("index 3"));
    EXPECT_THAT(msg, HasSubstr("size 3"));
}

TEST(ShapeOps, IndexArgumentErrors) {
    Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
    EXPECT_THAT(error_of([&] { index_select(x, 0, f32({0}, {1})); }), HasSubstr("i64"));
    EXPECT_THAT(error_of([&] { index_select(x, 0, i64({0, 1}, {1, 2})); }), HasSubstr("1-D"));
    EXPECT_THAT(error_of([&] {
                    gather(x, 1, i64({0, 0}, {2}));
                }),
                HasSubstr("same number of dims"));
    const std::string msg = error_of([&] { gather(x, 1, i64({0, 0, 0, 0, 0, 0}, {3, 2})); });
    EXPECT_THAT(msg, HasSubstr("[3, 2]"));
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
}

// torch.gather docs: gather([[1, 2], [3, 4]], 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]].
TEST(ShapeOps, GatherDocExampleAndGradient) {
    Tensor t = leaf({1, 2, 3, 4}, {2, 2});
    Tensor y = gather(t, 1, i64({0, 0, 1, 0}, {2, 2}));
    EXPECT_EQ(vals(y), (std::vector<double>{1, 1, 4, 3}));
    backward(y, f32({1, 2, 3, 4}, {2, 2}));
    EXPECT_EQ(vals(t.grad()), (std::vector<double>{3, 0, 4, 3}));  // row 0: 1+2 at col 0
    // dim 0, index smaller than x in dim 1: out[i][j] = x[index[i][j]][j]
    Tensor x = arange({3, 4});
    EXPECT_EQ(vals(gather(x, 0, i64({2, 0, 1, 1, 0, 2}, {2, 3}))),
              (std::vector<double>{8, 1, 6, 4, 1, 10}));
}

// torch.Tensor.scatter_add_ docs: src = ones(2, 5) into zeros(3, 5) along dim 0.
TEST(ShapeOps, ScatterAddDocExamples) {
    Tensor src = Tensor::ones({2, 5}, DType::F32, test_device());
    Tensor base = Tensor::zeros({3, 5}, DType::F32, test_device());
    EXPECT_EQ(vals(scatter_add(base, 0, i64({0, 1, 2, 0, 0}, {1, 5}), src)),
              (std::vector<double>{1, 0, 0, 1, 1,  //
                                   0, 1, 0, 0, 0,  //
                                   0, 0, 1, 0, 0}));
    EXPECT_EQ(vals(scatter_add(base, 0, i64({0, 1, 2, 0, 0, 0, 1, 2, 2, 2}, {2, 5}), src)),
              (std::vector<double>{2, 0, 0, 1, 1,  //
                                   0, 2, 0, 0, 0,  //
                                   0, 0, 2, 1, 1}));
}

TEST(ShapeOps, ScatterAddGradients) {
    Tensor base = leaf({1, 1, 1, 1, 1, 1}, {2, 3});
    Tensor src = leaf({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});  // only the leading (1, 3) box is used
    Tensor y = scatter_add(base, 1, i64({2, 2, 0}, {1, 3}), src);
    EXPECT_EQ(vals(y), (std::vector<double>{4, 1, 4, 1, 1, 1}));
    backward(y, f32({10, 20, 30, 40, 50, 60}, {2, 3}));
    EXPECT_EQ(vals(base.grad()), (std::vector<double>{10, 20, 30, 40, 50, 60}));
    EXPECT_EQ(vals(src.grad()), (std::vector<double>{30, 30, 10, 0, 0, 0, 0, 0}));
}

// ---- pad -------------------------------------------------------------------------------------

TEST(ShapeOps, PadValuesInPyTorchOrderAndGradient) {
    Tensor x = leaf({1, 2, 3, 4}, {2, 2});
    // last dim: 1 before, 0 after; second-last: 0 before, 1 after
    Tensor y = pad(x, {1, 0, 0, 1}, 9.0);
    EXPECT_EQ(y.shape(), (Shape{3, 3}));
    EXPECT_EQ(vals(y), (std::vector<double>{9, 1, 2, 9, 3, 4, 9, 9, 9}));
    backward(y, arange({3, 3}));
    EXPECT_EQ(vals(x.grad()), (std::vector<double>{1, 2, 4, 5}));

    // Only the last dim padded, 3-D input; default value 0.
    Tensor z = pad(f32({1, 2}, {1, 1, 2}), {2, 1});
    EXPECT_EQ(z.shape(), (Shape{1, 1, 5}));
    EXPECT_EQ(vals(z), (std::vector<double>{0, 0, 1, 2, 0}));
    // Padding of a leading dim.
    Tensor w = pad(f32({1, 2}, {1, 2}), {0, 0, 1, 1}, -1.0);
    EXPECT_EQ(vals(w), (std::vector<double>{-1, -1, 1, 2, -1, -1}));
}

TEST(ShapeOps, PadArgumentErrors) {
    Tensor x = f32({1, 2, 3, 4}, {2, 2});
    EXPECT_THAT(error_of([&] { pad(x, {1, 2, 3}); }), HasSubstr("even"));
    EXPECT_THAT(error_of([&] { pad(x, {1, 1, 1, 1, 1, 1}); }), HasSubstr("at most 2 per dim"));
    EXPECT_THAT(error_of([&] { pad(x, {1, -1}); }), HasSubstr("negative"));
}

// ---- permute / transpose -----------------------------------------------------------------------

// Naive reference: y[j] = x[i] with i[perm[k]] = j[k], by explicit coordinates.
std::vector<double> naive_permute(const std::vector<double>& x, const Shape& xs,
                                  const std::vector<int>& perm) {
    const int r = xs.size();
    std::vector<int64_t> ys(r);
    for (int k = 0; k < r; ++k) ys[k] = xs[perm[k]];
    std::vector<double> y(x.size());
    std::vector<int64_t> j(r), i(r);
    for (size_t lin = 0; lin < y.size(); ++lin) {
        int64_t rem = static_cast<int64_t>(lin);
        for (int k = r - 1; k >= 0; --k) {
            j[k] = rem % ys[k];
            rem /= ys[k];
        }
        for (int k = 0; k < r; ++k) i[perm[k]] = j[k];
        int64_t off = 0;
        for (int k = 0; k < r; ++k) off = off * xs[k] + i[k];
        y[lin] = x[static_cast<size_t>(off)];
    }
    return y;
}

TEST(ShapeOps, Permute6DMatchesNaiveIndexing) {
    const Shape xs{2, 3, 1, 4, 2, 3};
    const std::vector<double> xv = iota(xs.numel());
    for (const std::vector<int>& perm : std::vector<std::vector<int>>{
             {0, 1, 3, 2, 4, 5}, {5, 4, 3, 2, 1, 0}, {0, 2, 4, 1, 3, 5}, {3, 0, 5, 1, 4, 2}}) {
        Tensor x = arange(xs);
        x.set_requires_grad(true);
        Tensor y = permute(x, perm);
        for (int k = 0; k < 6; ++k) EXPECT_EQ(y.size(k), xs[perm[k]]);
        EXPECT_EQ(vals(y), naive_permute(xv, xs, perm));
        // Backward is the inverse permutation: permuting the seed back gives x's layout.
        backward(y, y.detach());
        EXPECT_EQ(vals(x.grad()), xv);
    }
}

TEST(ShapeOps, TransposeValues) {
    Tensor x = arange({2, 3});
    Tensor y = transpose(x, 0, 1);
    EXPECT_EQ(y.shape(), (Shape{3, 2}));
    EXPECT_EQ(vals(y), (std::vector<double>{0, 3, 1, 4, 2, 5}));
    Tensor z = arange({2, 3, 4});
    EXPECT_EQ(vals(transpose(z, -1, -2)), naive_permute(iota(24), {2, 3, 4}, {0, 2, 1}));
}

TEST(ShapeOps, PermuteArgumentErrors) {
    Tensor x = arange({2, 3, 4});
    const std::string msg = error_of([&] { permute(x, {0, 1, 1}); });
    EXPECT_THAT(msg, HasSubstr("repeated"));
    EXPECT_THAT(msg, HasSubstr("[0, 1, 1]"));
    EXPECT_THAT(error_of([&] { permute(x, {0, 1}); }), HasSubstr("need exactly 3"));
    EXPECT_THAT(error_of([&] { permute(x, {0, 1, 3}); }), HasSubstr("out of range"));
}

// ---- interpolate -------------------------------------------------------------------------------

TEST(ShapeOps, BilinearUpsampleAlignCornersFalse) {
    // The standard example: [[1, 2], [3, 4]] -> 4x4; first row [1, 1.25, 1.75, 2].
    Tensor y = interpolate(f32({1, 2, 3, 4}, {1, 1, 2, 2}), 4, 4, InterpMode::Bilinear);
    const std::vector<double> want{1.0, 1.25, 1.75, 2.0,  //
                                   1.5, 1.75, 2.25, 2.5,  //
                                   2.5, 2.75, 3.25, 3.5,  //
                                   3.0, 3.25, 3.75, 4.0};
    EXPECT_TRUE(test::all_close(vals(y), want, 1e-6, 0, "bilinear 2x2 -> 4x4"));
}

TEST(ShapeOps, BilinearUpsampleAlignCornersTrue) {
    // Source coordinates are dst / 3 exactly: y[r][c] = 1 + c/3 + 2r/3.
    Tensor y = interpolate(f32({1, 2, 3, 4}, {1, 1, 2, 2}), 4, 4, InterpMode::Bilinear, true);
    std::vector<double> want;
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) want.push_back(1.0 + c / 3.0 + 2.0 * r / 3.0);
    EXPECT_TRUE(test::all_close(vals(y), want, 1e-6, 0, "bilinear align_corners"));
}

TEST(ShapeOps, BilinearDownsampleAveragesBlocks) {
    // 4x4 -> 2x2, align_corners=false: source points 0.5 and 2.5, the centres of 2x2 blocks.
    Tensor y = interpolate(arange({1, 1, 4, 4}), 2, 2, InterpMode::Bilinear);
    EXPECT_TRUE(test::all_close(vals(y), {2.5, 4.5, 10.5, 12.5}, 1e-6, 0, "bilinear down"));
}

TEST(ShapeOps, BicubicHandComputedValue) {
    // 1x4 row [0, 0, 10, 0] -> 1x8. Output column 3: src = 3.5 * 0.5 - 0.5 = 1.25, taps 0..3 at
    // t = 0.25, weights (W2(1.25), W1(0.25), W1(0.75), W2(1.75)) =
    // (-0.10546875, 0.87890625, 0.26171875, -0.03515625) with A = -0.75, so y = 10 * 0.26171875.
    // Column 0: src = -0.25 (not clamped), taps clamp(-2..1) = (0, 0, 0, 1): y = 0 * ... = 0.
    Tensor y = interpolate(f32({0, 0, 10, 0}, {1, 1, 1, 4}), 1, 8, InterpMode::Bicubic);
    const std::vector<double> v = vals(y);
    EXPECT_NEAR(v[3], 2.6171875, 1e-6);
    EXPECT_NEAR(v[0], 0.0, 1e-6);
    // Column 7: src = 7.5 * 0.5 - 0.5 = 3.25, floor 3, t = 0.25, taps clamp(2..5) = (2, 3, 3, 3):
    // y = 10 * W2(1.25) = -1.0546875.
    EXPECT_NEAR(v[7], -1.0546875, 1e-6);
}

// Independent double-precision bicubic from the published cubic-convolution kernel (Keys 1981,
// A = -0.75 as in PyTorch), written per output pixel with the kernel evaluated at |distance|.
double keys(double s) {
    const double a = -0.75;
    s = std::fabs(s);
    if (s <= 1) return (a + 2) * s * s * s - (a + 3) * s * s + 1;
    if (s < 2) return a * s * s * s - 5 * a * s * s + 8 * a * s - 4 * a;
    return 0;
}

std::vector<double> naive_bicubic(const std::vector<double>& x, int64_t h, int64_t w, int64_t oh,
                                  int64_t ow, bool align) {
    auto src = [align](int64_t dst, int64_t in, int64_t out) {
        if (align) return out > 1 ? dst * double(in - 1) / double(out - 1) : 0.0;
        return (dst + 0.5) * double(in) / double(out) - 0.5;
    };
    auto clampi = [](int64_t v, int64_t n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); };
    std::vector<double> y;
    for (int64_t oy = 0; oy < oh; ++oy) {
        const double sy = src(oy, h, oh);
        const int64_t fy = static_cast<int64_t>(std::floor(sy));
        for (int64_t ox = 0; ox < ow; ++ox) {
            const double sx = src(ox, w, ow);
            const int64_t fx = static_cast<int64_t>(std::floor(sx));
            double acc = 0;
            for (int64_t m = fy - 1; m <= fy + 2; ++m)
                for (int64_t n = fx - 1; n <= fx + 2; ++n)
                    acc += keys(sy - m) * keys(sx - n) * x[clampi(m, h) * w + clampi(n, w)];
            y.push_back(acc);
        }
    }
    return y;
}

TEST(ShapeOps, BicubicMatchesIndependentImplementation) {
    struct Case {
        int64_t h, w, oh, ow;
        bool align;
    };
    for (const Case& c : std::vector<Case>{{4, 4, 9, 7, false},
                                           {4, 4, 9, 7, true},
                                           {5, 6, 3, 2, false},
                                           {13, 17, 5, 1, false},
                                           {6, 5, 3, 11, true},
                                           {1, 3, 4, 5, false}}) {
        const std::vector<double> xv = test::uniform_values(c.h * c.w, -1, 1, 42 + c.oh);
        Tensor x = Tensor::from_vector(xv, {1, 1, c.h, c.w}).to(DType::F32).to(test_device());
        Tensor y = interpolate(x, c.oh, c.ow, InterpMode::Bicubic, c.align);
        // f32 data, weights in double (CPU) or float (CUDA): a few ulp of values in [-1.3, 1.3].
        EXPECT_TRUE(test::all_close(
            vals(y), naive_bicubic(x.to_vector<double>(), c.h, c.w, c.oh, c.ow, c.align), 2e-6,
            1e-6,
            "bicubic " + std::to_string(c.h) + "x" + std::to_string(c.w) + " -> " +
                std::to_string(c.oh) + "x" + std::to_string(c.ow) + (c.align ? " align" : "")));
    }
}

TEST(ShapeOps, BicubicBackwardIsTheTransposedWeights) {
    // dx[i] = sum_o dy[o] * dy_o/dx_i, with the matrix built from the independent implementation
    // applied to unit images.
    const int64_t h = 3, w = 4, oh = 5, ow = 7;
    const std::vector<double> seed = test::uniform_values(oh * ow, -1, 1, 7);
    std::vector<double> want(h * w, 0.0);
    for (int64_t i = 0; i < h * w; ++i) {
        std::vector<double> unit(h * w, 0.0);
        unit[i] = 1;
        const std::vector<double> col = naive_bicubic(unit, h, w, oh, ow, false);
        for (int64_t o = 0; o < oh * ow; ++o) want[i] += seed[o] * col[o];
    }
    Tensor x = Tensor::zeros({1, 1, h, w}, DType::F32, test_device());
    x.set_requires_grad(true);
    Tensor y = interpolate(x, oh, ow, InterpMode::Bicubic);
    backward(y, Tensor::from_vector(seed, {1, 1, oh, ow}).to(DType::F32).to(test_device()));
    EXPECT_TRUE(test::all_close(vals(x.grad()), want, 1e-5, 1e-5, "bicubic backward"));
}

TEST(ShapeOps, InterpolateSameSizeIsIdentity) {
    Tensor x = arange({2, 3, 5, 4});
    for (InterpMode m : {InterpMode::Bilinear, InterpMode::Bicubic})
        for (bool align : {false, true}) EXPECT_EQ(vals(interpolate(x, 5, 4, m, align)), vals(x));
}

TEST(ShapeOps, InterpolateArgumentErrors) {
    EXPECT_THAT(error_of([] {
                    interpolate(arange({3, 4, 5}), 2, 2, InterpMode::Bilinear);
                }),
                HasSubstr("(N, C, H, W)"));
    EXPECT_THAT(error_of([] {
                    interpolate(arange({1, 1, 4, 5}), 0, 2, InterpMode::Bicubic);
                }),
                HasSubstr(">= 1"));
}

}  // namespace
}  // namespace obl
