// matmul / bmm / linear: forward values and gradients against hand-computed numbers, error
// messages, and the fast GEMM against the reference: EXACT equality on small-integer data (every
// partial sum is an integer below 2^24, so any summation order gives the same float; CUTLASS's
// trick) for large awkward shapes, every transpose combination, every path of
// kernels/cpu/fast/gemm.cpp and every SIMD ISA this CPU has; and bit-identical results for 1 and
// 2 threads on random data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/cpu/fast/gemm_internal.h"
#include "kernels/gemm.h"
#include "nn/dispatch.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using kernels::GemmDims;
using test::test_device;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
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

// Runs `f` on the fast CPU path and again on the reference (just once on CUDA).
template <class F>
void on_both_cpu_paths(F&& f) {
    f();
    ReferenceCpuGuard guard;
    f();
}

// ---- forward values ---------------------------------------------------------------------------

// A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]: A B = [[58, 64], [139, 154]].
const std::vector<float> kA = {1, 2, 3, 4, 5, 6}, kAt = {1, 4, 2, 5, 3, 6};
const std::vector<float> kB = {7, 8, 9, 10, 11, 12}, kBt = {7, 9, 11, 8, 10, 12};

TEST(Matmul, HandComputedAllTransposes) {
    on_both_cpu_paths([] {
        const Tensor a = on_device(kA, {2, 3}), at = on_device(kAt, {3, 2});
        const Tensor b = on_device(kB, {3, 2}), bt = on_device(kBt, {2, 3});
        EXPECT_THAT(values(matmul(a, b)), ElementsAre(58, 64, 139, 154));
        EXPECT_THAT(values(matmul(at, b, true, false)), ElementsAre(58, 64, 139, 154));
        EXPECT_THAT(values(matmul(a, bt, false, true)), ElementsAre(58, 64, 139, 154));
        EXPECT_THAT(values(matmul(at, bt, true, true)), ElementsAre(58, 64, 139, 154));
        EXPECT_EQ(matmul(a, b).shape(), Shape({2, 2}));
        // B A = [[7+32, 14+40, 21+48], ...] (3x2 times 2x3).
        EXPECT_THAT(values(matmul(b, a)), ElementsAre(39, 54, 69, 49, 68, 87, 59, 82, 105));
    });
}

TEST(Matmul, FloatAndDoubleAgree) {
    const Tensor a = on_device(kA, {2, 3}).to(DType::F64);
    const Tensor b = on_device(kB, {3, 2}).to(DType::F64);
    if (!a.device().is_cpu()) GTEST_SKIP() << "f64 is CPU-only";
    const Tensor c = matmul(a, b);
    EXPECT_EQ(c.dtype(), DType::F64);
    EXPECT_THAT(values(c), ElementsAre(58, 64, 139, 154));
}

TEST(Bmm, HandComputed) {
    on_both_cpu_paths([] {
        // Item 0: A B as above; item 1: I (2x2) [[1, 2], [3, 4]] (K = 2 padded to 3 with zeros).
        std::vector<float> a = kA, b = kB;
        a.insert(a.end(), {1, 0, 0, 0, 1, 0});
        b.insert(b.end(), {1, 2, 3, 4, 5, 6});
        const Tensor c = bmm(on_device(a, {2, 2, 3}), on_device(b, {2, 3, 2}));
        EXPECT_EQ(c.shape(), Shape({2, 2, 2}));
        EXPECT_THAT(values(c), ElementsAre(58, 64, 139, 154, 1, 2, 3, 4));
        // Transposed operands per item give the same result.
        std::vector<float> at = kAt, bt = kBt;
        at.insert(at.end(), {1, 0, 0, 1, 0, 0});
        bt.insert(bt.end(), {1, 3, 5, 2, 4, 6});
        EXPECT_THAT(values(bmm(on_device(at, {2, 3, 2}), on_device(bt, {2, 2, 3}), true, true)),
                    ElementsAre(58, 64, 139, 154, 1, 2, 3, 4));
    });
}

TEST(Linear, HandComputedWithAndWithoutBias) {
    on_both_cpu_paths([] {
        // x = [[1, 2], [3, 4]], W = [[1, 0], [0, 1], [1, 1]] (out 3, in 2), b = [10, 20, 30].
        const Tensor x = on_device({1, 2, 3, 4}, {2, 2});
        const Tensor w = on_device({1, 0, 0, 1, 1, 1}, {3, 2});
        const Tensor b = on_device({10, 20, 30}, {3});
        EXPECT_THAT(values(linear(x, w)), ElementsAre(1, 2, 3, 3, 4, 7));
        EXPECT_THAT(values(linear(x, w, b)), ElementsAre(11, 22, 33, 13, 24, 37));
        // Leading dims are kept: (2, 1, 2) -> (2, 1, 3).
        const Tensor y = linear(x.reshape({2, 1, 2}), w, b);
        EXPECT_EQ(y.shape(), Shape({2, 1, 3}));
        EXPECT_THAT(values(y), ElementsAre(11, 22, 33, 13, 24, 37));
        // A single 1-D sample: (2) -> (3).
        const Tensor y1 = linear(on_device({3, 4}, {2}), w, b);
        EXPECT_EQ(y1.shape(), Shape({3}));
        EXPECT_THAT(values(y1), ElementsAre(13, 24, 37));
    });
}

TEST(Matmul, EmptyContractionGivesZeros) {
    on_both_cpu_paths([] {
        const Tensor a = Tensor::zeros({2, 0}, DType::F32, test_device());
        const Tensor b = Tensor::zeros({0, 3}, DType::F32, test_device());
        EXPECT_THAT(values(matmul(a, b)), ElementsAre(0, 0, 0, 0, 0, 0));
        // linear with in = 0 is just the bias.
        const Tensor x = Tensor::zeros({2, 0}, DType::F32, test_device());
        const Tensor w = Tensor::zeros({2, 0}, DType::F32, test_device());
        EXPECT_THAT(values(linear(x, w, on_device({5, 6}, {2}))), ElementsAre(5, 6, 5, 6));
    });
}

// ---- gradients in closed form -----------------------------------------------------------------

TEST(Matmul, GradientsHandComputed) {
    on_both_cpu_paths([] {
        for (bool ta : {false, true}) {
            for (bool tb : {false, true}) {
                Tensor a = on_device(ta ? kAt : kA, ta ? Shape{3, 2} : Shape{2, 3});
                Tensor b = on_device(tb ? kBt : kB, tb ? Shape{2, 3} : Shape{3, 2});
                a.set_requires_grad(true);
                b.set_requires_grad(true);
                // G = [[1, 0], [0, 2]]: dA = G B^T = [[7, 9, 11], [16, 20, 24]],
                // dB = A^T G = [[1, 8], [2, 10], [3, 12]]; transposed storage gets the transpose.
                backward(matmul(a, b, ta, tb), on_device({1, 0, 0, 2}, {2, 2}));
                const std::vector<double> da = ta ? std::vector<double>{7, 16, 9, 20, 11, 24}
                                                  : std::vector<double>{7, 9, 11, 16, 20, 24};
                const std::vector<double> db = tb ? std::vector<double>{1, 2, 3, 8, 10, 12}
                                                  : std::vector<double>{1, 8, 2, 10, 3, 12};
                EXPECT_THAT(values(a.grad()), ElementsAreArray(da)) << "ta " << ta << " tb " << tb;
                EXPECT_THAT(values(b.grad()), ElementsAreArray(db)) << "ta " << ta << " tb " << tb;
            }
        }
    });
}

TEST(Linear, GradientsHandComputed) {
    on_both_cpu_paths([] {
        Tensor x = on_device({1, 2, 3, 4}, {2, 2});
        Tensor w = on_device({1, 0, 0, 1, 1, 1}, {3, 2});
        Tensor b = on_device({10, 20, 30}, {3});
        for (Tensor* t : {&x, &w, &b}) t->set_requires_grad(true);
        // G = [[1, 2, 3], [4, 5, 6]]: dx = G W = [[4, 5], [10, 11]], dW = G^T x =
        // [[13, 18], [17, 24], [21, 30]], db = column sums = [5, 7, 9].
        backward(linear(x, w, b), on_device({1, 2, 3, 4, 5, 6}, {2, 3}));
        EXPECT_THAT(values(x.grad()), ElementsAre(4, 5, 10, 11));
        EXPECT_THAT(values(w.grad()), ElementsAre(13, 18, 17, 24, 21, 30));
        EXPECT_THAT(values(b.grad()), ElementsAre(5, 7, 9));
    });
}

TEST(Linear, OnlyRequestedGradientsAreComputed) {
    Tensor x = on_device({1, 2, 3, 4}, {2, 2});
    Tensor w = on_device({1, 0, 0, 1, 1, 1}, {3, 2});
    w.set_requires_grad(true);
    backward(linear(x, w), on_device({1, 2, 3, 4, 5, 6}, {2, 3}));
    EXPECT_FALSE(x.grad().defined());
    EXPECT_THAT(values(w.grad()), ElementsAre(13, 18, 17, 24, 21, 30));
}

// ---- errors -----------------------------------------------------------------------------------

TEST(Matmul, ErrorsNameBothShapes) {
    const Tensor a = on_device(std::vector<float>(6), {2, 3});
    const Tensor b = on_device(std::vector<float>(20), {4, 5});
    std::string msg = message_of([&] { matmul(a, b); });
    EXPECT_THAT(msg, HasSubstr("matmul: inner dims differ"));
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    EXPECT_THAT(msg, HasSubstr("[4, 5]"));
    msg = message_of([&] { matmul(a, b, true, false); });  // (3, 2) x (4, 5): 2 vs 4
    EXPECT_THAT(msg, HasSubstr("[2, 3] (transposed)"));
    EXPECT_THAT(msg, HasSubstr("2 vs 4"));
    msg = message_of([&] { matmul(a.reshape({6}), b); });
    EXPECT_THAT(msg, HasSubstr("2-D"));
    EXPECT_THAT(msg, HasSubstr("[6]"));
    msg = message_of([&] { matmul(a, on_device(std::vector<float>(6), {3, 2}).to(DType::F64)); });
    EXPECT_THAT(msg, HasSubstr("dtypes differ"));
    msg = message_of([&] { matmul(a, Tensor()); });
    EXPECT_THAT(msg, HasSubstr("undefined"));
}

TEST(Bmm, ErrorsNameBothShapes) {
    const Tensor a = on_device(std::vector<float>(12), {2, 2, 3});
    std::string msg = message_of([&] { bmm(a, on_device(std::vector<float>(18), {3, 3, 2})); });
    EXPECT_THAT(msg, HasSubstr("batch sizes differ"));
    EXPECT_THAT(msg, HasSubstr("[2, 2, 3]"));
    EXPECT_THAT(msg, HasSubstr("[3, 3, 2]"));
    msg = message_of([&] { bmm(a, on_device(std::vector<float>(16), {2, 4, 2})); });
    EXPECT_THAT(msg, HasSubstr("inner dims differ"));
    EXPECT_THAT(msg, HasSubstr("[2, 4, 2]"));
    msg = message_of([&] { bmm(a.reshape({4, 3}), a); });
    EXPECT_THAT(msg, HasSubstr("3-D"));
}

TEST(Linear, ErrorsNameBothShapes) {
    const Tensor x = on_device(std::vector<float>(6), {2, 3});
    const Tensor w = on_device(std::vector<float>(8), {2, 4});
    std::string msg = message_of([&] { linear(x, w); });
    EXPECT_THAT(msg, HasSubstr("[2, 3]"));
    EXPECT_THAT(msg, HasSubstr("[2, 4]"));
    const Tensor w3 = on_device(std::vector<float>(6), {2, 3});
    msg = message_of([&] { linear(x, w3, on_device({1, 2, 3}, {3})); });
    EXPECT_THAT(msg, HasSubstr("bias [3]"));
    EXPECT_THAT(msg, HasSubstr("weight [2, 3]"));
}

// ---- fast GEMM vs reference: exact on small integers ---------------------------------------

// Integers in [-4, 4]: with K <= 1000 every partial sum is an integer of magnitude < 2^24.
std::vector<float> small_ints(int64_t n, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<float>(static_cast<int>(gen() % 9) - 4);
    return v;
}

std::string dims_str(const GemmDims& d) {
    return "batch " + std::to_string(d.batch) + ", C (" + std::to_string(d.m) + ", " +
           std::to_string(d.n) + ") = op(A) (" + std::to_string(d.m) + ", " + std::to_string(d.k) +
           (d.trans_a ? ", stored transposed)" : ")") + " op(B) (" + std::to_string(d.k) + ", " +
           std::to_string(d.n) + (d.trans_b ? ", stored transposed)" : ")");
}

// First index where two float buffers differ bitwise, or -1.
int64_t first_difference(const std::vector<float>& x, const std::vector<float>& y) {
    for (size_t i = 0; i < x.size(); ++i)
        if (std::memcmp(&x[i], &y[i], sizeof(float)) != 0) return static_cast<int64_t>(i);
    return -1;
}

// Fast (with kernel set `ks`) vs reference, exact, with alpha/beta; C starts as NaN for beta = 0
// (write-only) and as small integers otherwise.
void expect_exact(const kernels::gemm_detail::KernelSet& ks, GemmDims d, float alpha, float beta,
                  uint64_t seed) {
    const std::vector<float> a = small_ints(d.batch * d.m * d.k, seed);
    const std::vector<float> b = small_ints(d.batch * d.k * d.n, seed + 1);
    std::vector<float> c0 = small_ints(d.batch * d.m * d.n, seed + 2);
    if (beta == 0.f) c0.assign(c0.size(), std::numeric_limits<float>::quiet_NaN());
    std::vector<float> fast = c0, ref = c0;
    kernels::gemm_detail::gemm_with_kernels(ks, fast.data(), a.data(), b.data(), d, alpha, beta);
    kernels::gemm_cpu<float>(ref.data(), a.data(), b.data(), d, alpha, beta);
    const int64_t i = first_difference(fast, ref);
    EXPECT_EQ(i, -1) << ks.isa << " fast GEMM differs from the reference for " << dims_str(d)
                     << ", alpha " << alpha << ", beta " << beta << ": at [" << i << "] fast "
                     << (i >= 0 ? fast[i] : 0.f) << " vs reference " << (i >= 0 ? ref[i] : 0.f);
}

std::vector<kernels::gemm_detail::KernelSet> kernel_sets() {
    std::vector<kernels::gemm_detail::KernelSet> sets = {kernels::gemm_detail::scalar_kernel_set()};
    if (cpu_isa() >= CpuIsa::Avx2) sets.push_back(kernels::gemm_detail::avx2_kernel_set());
    if (cpu_isa() >= CpuIsa::Avx512) sets.push_back(kernels::gemm_detail::avx512_kernel_set());
    return sets;
}

GemmDims dims(int64_t batch, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
    GemmDims d;
    d.batch = batch, d.m = m, d.n = n, d.k = k, d.trans_a = ta, d.trans_b = tb;
    return d;
}

TEST(GemmFast, ExactOnSmallIntegersLargeAwkwardShapes) {
    for (const auto& ks : kernel_sets()) {
        uint64_t seed = 1;
        for (bool ta : {false, true}) {
            for (bool tb : {false, true}) {
                expect_exact(ks, dims(1, 257, 129, 300, ta, tb), 1.f, 0.f, seed++);
                expect_exact(ks, dims(3, 65, 70, 33, ta, tb), 1.f, 0.f, seed++);
            }
        }
    }
}

TEST(GemmFast, ExactOnSmallIntegersEveryPath) {
    struct Case {
        int64_t m, n, k;
        const char* path;
    };
    const Case cases[] = {
        {256, 10, 512, "narrow kernel, A in place (linear head)"},
        {100, 20, 70, "N <= 32: A in place"},
        {5, 300, 64, "M <= MR: B in place"},
        {1, 1, 1, "1 x 1 x 1"},
        {1, 1000, 3, "one row"},
        {1000, 1, 3, "one column"},
        {33, 100, 1, "K = 1"},
        {150, 100, 520, "three K blocks, N tail of 4 columns"},
    };
    for (const auto& ks : kernel_sets()) {
        uint64_t seed = 100;
        for (const Case& c : cases) {
            for (int t = 0; t < 4; ++t) {
                SCOPED_TRACE(c.path);
                expect_exact(ks, dims(1, c.m, c.n, c.k, t & 1, t & 2), 1.f, 0.f, seed++);
            }
        }
    }
}

TEST(GemmFast, AlphaBetaSemantics) {
    for (const auto& ks : kernel_sets()) {
        expect_exact(ks, dims(1, 40, 50, 300, false, false), 2.f, 0.5f, 7);  // C = 2 AB + C / 2
        expect_exact(ks, dims(2, 17, 33, 9, true, false), -1.f, 1.f, 8);     // C -= AB
        expect_exact(ks, dims(1, 20, 5, 64, false, true), 1.f, 0.f, 9);      // NaN in C ignored
    }
    // alpha = 0 or K = 0: C = beta C, and beta = 0 clears NaN.
    std::vector<float> c = {1.f, std::numeric_limits<float>::quiet_NaN(), 3.f, 4.f};
    const float a = 1.f, b = 1.f;
    kernels::gemm_fast_cpu(c.data(), &a, &b, dims(1, 2, 2, 0, false, false), 1.f, 0.f);
    EXPECT_THAT(c, ElementsAre(0.f, 0.f, 0.f, 0.f));
    c = {1.f, 2.f, 3.f, 4.f};
    kernels::gemm_fast_cpu(c.data(), &a, &b, dims(1, 2, 2, 0, false, false), 1.f, 2.f);
    EXPECT_THAT(c, ElementsAre(2.f, 4.f, 6.f, 8.f));
}

TEST(GemmFast, OpsMatchReferenceExactly) {
    // Through the ops (what the models run): matmul, bmm and linear, fast vs ReferenceCpuGuard.
    auto both = [](const std::function<Tensor()>& f) {
        const std::vector<float> fast = f().to_vector<float>();
        ReferenceCpuGuard guard;
        return first_difference(fast, f().to_vector<float>());
    };
    const Tensor a = Tensor::from_vector(small_ints(257 * 300, 1), {257, 300});
    const Tensor b = Tensor::from_vector(small_ints(300 * 129, 2), {300, 129});
    const Tensor w = Tensor::from_vector(small_ints(129 * 300, 3), {129, 300});
    const Tensor bias = Tensor::from_vector(small_ints(129, 4), {129});
    const Tensor x3 = Tensor::from_vector(small_ints(3 * 70 * 33, 5), {3, 70, 33});
    const Tensor y3 = Tensor::from_vector(small_ints(3 * 33 * 65, 6), {3, 33, 65});
    EXPECT_EQ(both([&] { return matmul(a, b); }), -1) << "matmul a [257, 300] x b [300, 129]";
    EXPECT_EQ(both([&] { return linear(a, w, bias); }), -1)
        << "linear x [257, 300], weight [129, 300], bias [129]";
    EXPECT_EQ(both([&] { return bmm(x3, y3); }), -1) << "bmm a [3, 70, 33] x b [3, 33, 65]";
}

// ---- determinism ------------------------------------------------------------------------------

TEST(GemmFast, BitIdenticalForOneAndTwoThreads) {
    const int saved = num_threads();
    const std::vector<GemmDims> shapes = {
        dims(1, 300, 200, 500, false, false), dims(1, 257, 129, 300, true, true),
        dims(1, 256, 10, 512, false, true), dims(4, 100, 90, 80, false, true)};
    uint64_t seed = 11;
    for (const GemmDims& d : shapes) {
        const Tensor a = test::uniform_tensor({d.batch * d.m * d.k}, -1, 1, seed++);
        const Tensor b = test::uniform_tensor({d.batch * d.k * d.n}, -1, 1, seed++);
        std::vector<float> one(d.batch * d.m * d.n), two(one.size());
        set_num_threads(1);
        kernels::gemm_fast_cpu(one.data(), a.f32(), b.f32(), d);
        set_num_threads(2);
        kernels::gemm_fast_cpu(two.data(), a.f32(), b.f32(), d);
        const int64_t i = first_difference(one, two);
        EXPECT_EQ(i, -1) << "1 vs 2 threads differ for " << dims_str(d) << " at [" << i << "]";
    }
    set_num_threads(saved);
}

TEST(GemmFast, RowsDoNotDependOnTheOtherRows) {
    // Batch-size invariance: the first rows of C are bit-identical whether the product has 100
    // rows or fewer (the kernel path changes with M: packed or in-place B, row blocking).
    uint64_t seed = 31;
    for (const GemmDims& full :
         {dims(1, 100, 3, 6, false, true), dims(1, 100, 40, 600, false, false),
          dims(1, 100, 200, 70, false, true)}) {
        const Tensor a = test::uniform_tensor({full.m * full.k}, -1, 1, seed++);
        const Tensor b = test::uniform_tensor({full.k * full.n}, -1, 1, seed++);
        std::vector<float> c(full.m * full.n);
        kernels::gemm_fast_cpu(c.data(), a.f32(), b.f32(), full);
        for (int64_t m : {64, 13, 1}) {
            GemmDims d = full;
            d.m = m;
            std::vector<float> part(m * full.n);
            kernels::gemm_fast_cpu(part.data(), a.f32(), b.f32(), d);
            const int64_t i = first_difference(part, {c.begin(), c.begin() + m * full.n});
            EXPECT_EQ(i, -1) << "first " << m << " rows differ from the full product "
                             << dims_str(full) << " at [" << i << "]";
        }
    }
}

}  // namespace
}  // namespace obl
