// Philox4x32-10 and the random ops (kernels/common/philox.h, kernels/random.h, nn/ops/random.h)
// plus dropout (kernels/dropout.h), whose mask comes from the same stream.
//
// Known answers: Random123's tests/kat_vectors, lines "philox4x32 10 <ctr x4> <key x2> <out x4>".
// Hand-computed values: the first Philox block of seed 0 (counter 0, key 0) is the first KAT
// vector; its uniforms, normals and integers below were worked out from the documented transforms
// (u = (2 (x >> 9) + 1) / 2^24, Box-Muller on word pairs (0,1), (2,3), floor(x n / 2^32)).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/common/philox.h"
#include "kernels/dropout.h"
#include "kernels/random.h"
#include "nn/dispatch.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl::test {
namespace {

using ::testing::HasSubstr;

// Restores the thread count a test changed.
class ThreadCountGuard {
   public:
    ThreadCountGuard() : saved_(num_threads()) {}
    ~ThreadCountGuard() { set_num_threads(saved_); }

   private:
    int saved_;
};

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// ---- Philox itself ----------------------------------------------------------------------------

TEST(Philox, KnownAnswerVectors) {
    struct Kat {
        uint32_t ctr[4], key[2], out[4];
    };
    const Kat kats[] = {
        {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
         {0x00000000, 0x00000000},
         {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (const Kat& k : kats) {
        const Philox4 out =
            philox4x32_10(Philox4{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}}, k.key[0], k.key[1]);
        for (int w = 0; w < 4; ++w) EXPECT_EQ(out.w[w], k.out[w]) << "word " << w;
    }
}

TEST(Philox, StreamLayoutIsBlockCounterAndSeedKey) {
    // Seed 0, elements 0..3 = block 0 = the first KAT vector.
    std::vector<uint32_t> bits(8);
    kernels::fill_bits_cpu(bits.data(), {8, 0, 0});
    EXPECT_EQ(bits[0], 0x6627e8d5u);
    EXPECT_EQ(bits[1], 0xe169c58du);
    EXPECT_EQ(bits[2], 0xbc57ac4cu);
    EXPECT_EQ(bits[3], 0x9b00dbd8u);
    // Elements 4..7 are block 1: counter (1, 0, 0, 0), key (0, 0).
    const Philox4 b1 = philox4x32_10(Philox4{{1, 0, 0, 0}}, 0, 0);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(bits[4 + w], b1.w[w]);
    // The seed's low word is k0 and its high word k1; a block index above 2^32 uses c1.
    const uint64_t seed = 0x299f31d0a4093822ull, block = (uint64_t(7) << 32) | 5u;
    const Philox4 want = philox4x32_10(Philox4{{5, 7, 0, 0}}, 0xa4093822u, 0x299f31d0u);
    kernels::fill_bits_cpu(bits.data(), {4, seed, 4 * block});
    for (int w = 0; w < 4; ++w) EXPECT_EQ(bits[w], want.w[w]);
}

TEST(Philox, UniformConversionIsExactAndInsideOpenInterval) {
    EXPECT_EQ(philox_uniform(0u), 0x1p-24f);                  // 1 / 2^24
    EXPECT_EQ(philox_uniform(0xffffffffu), 1.0f - 0x1p-24f);  // (2^24 - 1) / 2^24
    EXPECT_EQ(philox_uniform(0x80000000u), 0.5f + 0x1p-24f);
    EXPECT_EQ(philox_uniform(0x1ffu), 0x1p-24f);  // the low 9 bits are dropped
    for (uint32_t k = 0; k < (1u << 23); k += 4093) {
        const uint32_t x = (k << 9) | 0x155u;
        EXPECT_EQ(static_cast<double>(philox_uniform(x)), (2.0 * k + 1) / 16777216.0) << k;
    }
}

// ---- Forward values of the ops (hand-computed from the first KAT block) ----------------------

TEST(RandomOps, FirstBlockOfSeedZeroByHand) {
    // Words 6627e8d5 e169c58d bc57ac4c 9b00dbd8; x >> 9 = 3347444, 7386338, 6171606, 5079149.
    // u = (2 k + 1) / 2^24: 6694889 / 2^24 = 0.39904648065567017, 0.8805201649665833,
    //     0.7357128262519836, 0.6054818034172058.
    const std::vector<double> u = {0.39904648065567017, 0.8805201649665833, 0.7357128262519836,
                                   0.6054818034172058};
    EXPECT_TRUE(all_close(values(rand_uniform(Shape{4}, 0, 1, 0)), u, 0, 0));
    // lo + (hi - lo) u with lo = -2, hi = 2: -2 + 4 u.
    EXPECT_TRUE(all_close(values(rand_uniform(Shape{2, 2}, -2, 2, 0)),
                          {-2 + 4 * u[0], -2 + 4 * u[1], -2 + 4 * u[2], -2 + 4 * u[3]}, 1e-7, 0));
    // Box-Muller: r = sqrt(-2 ln u0) = 1.3555..., t = 2 pi u1 = 5.5325...
    //   z0 = r cos t =  0.9911374751458971,  z1 = r sin t = -0.9246627803544332
    // and with (u2, u3): z2 = -0.6176090549848544, z3 = -0.4820683472644963.
    const std::vector<double> z = {0.9911374751458971, -0.9246627803544332, -0.6176090549848544,
                                   -0.4820683472644963};
    EXPECT_TRUE(all_close(values(randn(Shape{4}, 0, 1, 0)), z, 1e-7, 0));
    {
        ReferenceCpuGuard ref;
        EXPECT_TRUE(all_close(values(randn(Shape{4}, 0, 1, 0)), z, 1e-7, 0));
    }
    // mean + std z with mean 3, std 0.5.
    EXPECT_TRUE(all_close(values(randn(Shape{4}, 3, 0.5, 0)),
                          {3 + 0.5 * z[0], 3 + 0.5 * z[1], 3 + 0.5 * z[2], 3 + 0.5 * z[3]}, 1e-6,
                          0));
    // floor(x * 10 / 2^32): 0x6627e8d5 * 10 / 2^32 = 3.99, ... -> 3, 8, 7, 6.
    const Tensor k = randint(Shape{4}, 10, 0);
    EXPECT_EQ(k.dtype(), DType::I64);
    EXPECT_EQ(k.to_vector<int64_t>(), (std::vector<int64_t>{3, 8, 7, 6}));
}

TEST(RandomOps, DoubleReferenceCarriesTheSameValues) {
    const kernels::RandomDims d{1000, 99, 13};
    std::vector<float> f(1000);
    std::vector<double> g(1000);
    kernels::fill_uniform_cpu<float>(f.data(), d, 0, 1);
    kernels::fill_uniform_cpu<double>(g.data(), d, 0, 1);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(static_cast<double>(f[i]), g[i]) << i;  // u is exact
    kernels::fill_normal_cpu<float>(f.data(), d, 0, 1);
    kernels::fill_normal_cpu<double>(g.data(), d, 0, 1);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(f[i], static_cast<float>(g[i])) << i;
}

// ---- Distribution ------------------------------------------------------------------------------

void expect_standard_normal(const std::vector<float>& v, const char* what) {
    double s = 0, s2 = 0;
    for (float x : v) {
        s += x;
        s2 += static_cast<double>(x) * x;
    }
    const double n = static_cast<double>(v.size());
    const double mean = s / n, var = s2 / n - mean * mean;
    // 1M draws: the standard errors are 1e-3 (mean) and 1.4e-3 (variance).
    EXPECT_LT(std::fabs(mean), 5e-3) << what;
    EXPECT_LT(std::fabs(var - 1), 1e-2) << what;
}

TEST(RandomOps, NormalMeanAndVarianceOnOneMillionDraws) {
    const Shape shape{1000, 1000};
    expect_standard_normal(randn(shape, 0, 1, 1234).to_vector<float>(), "fast path");
    {
        ReferenceCpuGuard ref;
        expect_standard_normal(randn(shape, 0, 1, 1234).to_vector<float>(), "reference");
    }
    // Box-Muller bounds |z| by sqrt(-2 ln 2^-24) = 5.77.
    for (float x : randn(shape, 0, 1, 77).to_vector<float>()) ASSERT_LE(std::fabs(x), 5.8f);
    // Scaled: mean 2, std 3 (standardised back, so the same 5-sigma bounds apply).
    const std::vector<float> y = randn(shape, 2, 3, 5).to_vector<float>();
    std::vector<float> z(y.size());
    for (size_t i = 0; i < y.size(); ++i) z[i] = (y[i] - 2.f) / 3.f;
    expect_standard_normal(z, "mean 2, std 3");
}

TEST(RandomOps, UniformRangeAndMean) {
    const std::vector<float> u = rand_uniform(Shape{1 << 20}, -1, 3, 42).to_vector<float>();
    double s = 0;
    float lo = 10, hi = -10;
    for (float x : u) {
        s += x;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    EXPECT_GT(lo, -1.f);
    EXPECT_LT(hi, 3.f);
    EXPECT_LT(lo, -0.99f);  // the range is covered
    EXPECT_GT(hi, 2.99f);
    // mean 1, standard error 4 / sqrt(12 * 2^20) = 1.1e-3
    EXPECT_NEAR(s / u.size(), 1.0, 6e-3);
    // Strictly inside (0, 1) on the unit interval.
    for (float x : rand_uniform(Shape{100000}, 0, 1, 3).to_vector<float>()) {
        ASSERT_GT(x, 0.f);
        ASSERT_LT(x, 1.f);
    }
}

TEST(RandomOps, RandintRangeAndCounts) {
    const std::vector<int64_t> k = randint(Shape{100000}, 10, 8).to_vector<int64_t>();
    std::vector<int> count(10, 0);
    for (int64_t v : k) {
        ASSERT_GE(v, 0);
        ASSERT_LT(v, 10);
        ++count[v];
    }
    // 10000 expected per value, standard deviation 95.
    for (int c = 0; c < 10; ++c) EXPECT_NEAR(count[c], 10000, 500) << "value " << c;
    // n = 1 is always 0; n = 2^32 returns the raw word.
    for (int64_t v : randint(Shape{50}, 1, 8).to_vector<int64_t>()) EXPECT_EQ(v, 0);
    std::vector<uint32_t> bits(50);
    kernels::fill_bits_cpu(bits.data(), {50, 8, 0});
    const std::vector<int64_t> raw = randint(Shape{50}, int64_t(1) << 32, 8).to_vector<int64_t>();
    for (int i = 0; i < 50; ++i) EXPECT_EQ(raw[i], static_cast<int64_t>(bits[i]));
}

// ---- Reproducibility and offsets ----------------------------------------------------------------

TEST(RandomOps, SameSeedSameStreamAcrossRunsAndThreadCounts) {
    ThreadCountGuard restore;
    const Shape shape{1 << 20};
    set_num_threads(1);
    const std::vector<float> n1 = randn(shape, 0, 1, 2024).to_vector<float>();
    const std::vector<float> u1 = rand_uniform(shape, 0, 1, 2024).to_vector<float>();
    std::vector<float> r1;
    {
        ReferenceCpuGuard ref;
        r1 = randn(Shape{1 << 16}, 0, 1, 2024).to_vector<float>();
    }
    set_num_threads(2);
    EXPECT_EQ(randn(shape, 0, 1, 2024).to_vector<float>(), n1);
    EXPECT_EQ(randn(shape, 0, 1, 2024).to_vector<float>(), n1);
    EXPECT_EQ(rand_uniform(shape, 0, 1, 2024).to_vector<float>(), u1);
    {
        ReferenceCpuGuard ref;
        EXPECT_EQ(randn(Shape{1 << 16}, 0, 1, 2024).to_vector<float>(), r1);
    }
    EXPECT_NE(randn(shape, 0, 1, 2025).to_vector<float>(), n1);  // another seed, another stream
}

TEST(RandomOps, OffsetDrawIsTheTailOfALongerDraw) {
    for (bool reference : {false, true}) {
        for (uint64_t offset : {1, 2, 3, 5, 37, 64, 1001}) {
            for (int64_t n : {1, 3, 64, 65, 1000}) {
                SCOPED_TRACE("reference " + std::to_string(reference) + " offset " +
                             std::to_string(offset) + " n " + std::to_string(n));
                std::unique_ptr<ReferenceCpuGuard> guard;
                if (reference) guard = std::make_unique<ReferenceCpuGuard>();
                const int64_t total = static_cast<int64_t>(offset) + n;
                const Tensor ln = randn(Shape{total}, 0, 1, 11);
                EXPECT_EQ(randn(Shape{n}, 0, 1, 11, offset).to_vector<float>(),
                          ln.slice0(offset, total).to_vector<float>());
                const Tensor lu = rand_uniform(Shape{total}, -1, 1, 11);
                EXPECT_EQ(rand_uniform(Shape{n}, -1, 1, 11, offset).to_vector<float>(),
                          lu.slice0(offset, total).to_vector<float>());
                const Tensor lk = randint(Shape{total}, 1000, 11);
                EXPECT_EQ(randint(Shape{n}, 1000, 11, offset).to_vector<int64_t>(),
                          lk.slice0(offset, total).to_vector<int64_t>());
            }
        }
    }
}

// ---- Fast path vs reference --------------------------------------------------------------------

using BitsFn = void (*)(uint32_t*, kernels::RandomDims);
using UniformFn = void (*)(float*, kernels::RandomDims, double, double);
using NormalFn = void (*)(float*, kernels::RandomDims, double, double);

void check_fast_against_reference(BitsFn bits, UniformFn uniform, NormalFn normal) {
    const std::vector<kernels::RandomDims> cases = {
        {1, 5, 0},
        {3, 5, 1},
        {63, 5, 2},
        {64, 5, 0},
        {65, 5, 3},
        {1000, 9, 37},
        {100003, 9, 6},
        {1 << 20, 123, 0},
        // Block counters that cross 2^32 inside one vector (carry into the counter's high word).
        {4099, 77, (uint64_t(1) << 34) - 21},
    };
    for (const auto& d : cases) {
        SCOPED_TRACE("n " + std::to_string(d.n) + " offset " + std::to_string(d.offset));
        std::vector<uint32_t> b_ref(d.n), b_fast(d.n);
        kernels::fill_bits_cpu(b_ref.data(), d);
        bits(b_fast.data(), d);
        EXPECT_EQ(b_fast, b_ref) << "bits must be bit-identical";
        std::vector<float> ref(d.n), fast(d.n);
        kernels::fill_uniform_cpu<float>(ref.data(), d, -3, 5);
        uniform(fast.data(), d, -3, 5);
        EXPECT_EQ(fast, ref) << "uniforms must be bit-identical";
        kernels::fill_normal_cpu<float>(ref.data(), d, 0.25, 1.5);
        normal(fast.data(), d, 0.25, 1.5);
        double max_err = 0;
        for (int64_t i = 0; i < d.n; ++i)
            max_err = std::max(max_err, std::fabs(static_cast<double>(fast[i]) - ref[i]));
        EXPECT_LE(max_err, 1e-6) << "normals: max abs error vs the libm reference";
    }
}

TEST(RandomFast, Avx512MatchesReference) {
    if (cpu_isa() < CpuIsa::Avx512) GTEST_SKIP() << "skipped: this CPU has no AVX-512";
    check_fast_against_reference(kernels::fill_bits_avx512, kernels::fill_uniform_avx512,
                                 kernels::fill_normal_avx512);
}

TEST(RandomFast, Avx2MatchesReference) {
    if (cpu_isa() < CpuIsa::Avx2) GTEST_SKIP() << "skipped: this CPU has no AVX2";
    check_fast_against_reference(kernels::fill_bits_avx2, kernels::fill_uniform_avx2,
                                 kernels::fill_normal_avx2);
}

TEST(RandomFast, Avx512AndAvx2NormalsAreBitIdentical) {
    // Same polynomials, same operation order, lane width aside: a machine's ISA never changes a
    // fast-path result.
    if (cpu_isa() < CpuIsa::Avx512) GTEST_SKIP() << "skipped: this CPU has no AVX-512";
    const kernels::RandomDims d{(1 << 20) + 3, 99, 3};
    std::vector<float> a(d.n), b(d.n);
    kernels::fill_normal_avx512(a.data(), d, 0.1, 1.7);
    kernels::fill_normal_avx2(b.data(), d, 0.1, 1.7);
    EXPECT_EQ(a, b);
}

TEST(RandomFast, DispatchedPathMatchesReference) {
    check_fast_against_reference(kernels::fill_bits_fast_cpu, kernels::fill_uniform_fast_cpu,
                                 kernels::fill_normal_fast_cpu);
}

TEST(RandomFast, OpLevelFastAndReferenceAgree) {
    const Shape shape{7, 13, 11};  // 1001 elements
    const Tensor fast = randn(shape, 0, 1, 3, 5);
    Tensor ref;
    {
        ReferenceCpuGuard guard;
        ref = randn(shape, 0, 1, 3, 5);
    }
    EXPECT_EQ(fast.shape(), shape);
    EXPECT_TRUE(all_close(fast, ref, 1e-6, 0, "randn fast vs reference"));
}

// ---- Errors ------------------------------------------------------------------------------------

TEST(RandomOps, BadArgumentsThrow) {
    EXPECT_THAT(error_of([] { randint(Shape{3}, 0, 1); }), HasSubstr("n must be in [1, 2^32]"));
    EXPECT_THAT(error_of([] { randint(Shape{3}, (int64_t(1) << 32) + 1, 1); }),
                HasSubstr("got 4294967297"));
    EXPECT_THAT(error_of([] { rand_uniform(Shape{3}, 2, 1, 1); }), HasSubstr("lo = 2, hi = 1"));
    EXPECT_THAT(error_of([] { randn(Shape{3}, 0, -1, 1); }), HasSubstr("std = -1"));
}

TEST(RandomOps, EmptyShapes) {
    EXPECT_EQ(randn(Shape{0, 3}, 0, 1, 1).numel(), 0);
    EXPECT_EQ(rand_uniform(Shape{0}, 0, 1, 1).numel(), 0);
    EXPECT_EQ(randint(Shape{4, 0}, 3, 1).numel(), 0);
    EXPECT_EQ(randn(Shape{}, 0, 1, 0).item(), randn(Shape{1}, 0, 1, 0).item());  // scalar
}

// ---- Dropout -----------------------------------------------------------------------------------

TEST(Dropout, MaskIsPhiloxUniformAtLeastPAndKeptValuesAreScaled) {
    const Shape shape{37, 29};
    const Tensor x = uniform_tensor(shape, -2, 2, 4);
    const double p = 0.3;
    const Tensor y = dropout(x, p, true, 17);
    const std::vector<float> u = rand_uniform(shape, 0, 1, 17).to_vector<float>();
    const std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>();
    int64_t kept = 0;
    for (size_t i = 0; i < u.size(); ++i) {
        if (u[i] >= p) {
            ++kept;
            EXPECT_EQ(yv[i], static_cast<float>(xv[i] * (1 / (1 - p)))) << i;  // x / (1 - p)
        } else {
            EXPECT_EQ(yv[i], 0.f) << i;
        }
    }
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, static_cast<int64_t>(u.size()));
}

TEST(Dropout, KeepsAboutOneMinusPAndPreservesTheMean) {
    const Tensor x = Tensor::ones(Shape{200000});
    const std::vector<float> y = dropout(x, 0.3, true, 5).to_vector<float>();
    int64_t kept = 0;
    double sum = 0;
    for (float v : y) {
        kept += v != 0;
        sum += v;
    }
    // Binomial(200000, 0.7): standard deviation 205.
    EXPECT_NEAR(static_cast<double>(kept) / y.size(), 0.7, 5e-3);
    EXPECT_NEAR(sum / y.size(), 1.0, 1e-2);  // inverted dropout keeps E[y] = x
}

TEST(Dropout, IdentityWhenEvaluatingOrPZeroAndZeroWhenPOne) {
    const Tensor x = uniform_tensor(Shape{5, 6}, -1, 1, 2);
    EXPECT_TRUE(dropout(x, 0.5, false, 1).same(x));
    EXPECT_TRUE(dropout(x, 0.0, true, 1).same(x));
    for (float v : dropout(x, 1.0, true, 1).to_vector<float>()) EXPECT_EQ(v, 0.f);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
    Tensor x = uniform_tensor(Shape{10, 10}, -1, 1, 9);
    x.set_requires_grad(true);
    const Tensor y = dropout(x, 0.4, true, 123);
    const Tensor dy = uniform_tensor(Shape{10, 10}, -1, 1, 10);
    backward(y, dy);
    const std::vector<float> u = rand_uniform(Shape{10, 10}, 0, 1, 123).to_vector<float>();
    const std::vector<float> g = x.grad().to_vector<float>(), dyv = dy.to_vector<float>();
    for (size_t i = 0; i < g.size(); ++i) {
        const bool kept = u[i] >= 0.4;
        EXPECT_EQ(g[i], kept ? static_cast<float>(dyv[i] * (1 / (1 - 0.4))) : 0.f) << i;
    }
}

TEST(Dropout, SameMaskInF32AndF64) {
    const Tensor x = uniform_tensor(Shape{333}, 0.5, 1, 3);  // no zeros: y = 0 means dropped
    const std::vector<float> a = dropout(x, 0.5, true, 8).to_vector<float>();
    const std::vector<double> b = dropout(x.to(DType::F64), 0.5, true, 8).to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i] == 0, b[i] == 0) << i;
}

TEST(Dropout, BadArgumentsThrow) {
    const Tensor x = Tensor::ones(Shape{2, 3});
    EXPECT_THAT(error_of([&] { dropout(x, 1.5, true, 1); }),
                HasSubstr("p must be in [0, 1], got 1.5 for f32[2, 3]"));
    EXPECT_THAT(error_of([&] { dropout(x, -0.1, false, 1); }), HasSubstr("got -0.1"));
    EXPECT_THAT(error_of([] { dropout(Tensor::zeros(Shape{2}, DType::I64), 0.5, true, 1); }),
                HasSubstr("must be f32 or f64"));
}

// ---- CUDA (skipped without a GPU) --------------------------------------------------------------

TEST(RandomCudaOnly, SameStreamAsTheCpuReference) {
    OBL_SKIP_WITHOUT_GPU();
    ReferenceCpuGuard ref;
    const Shape shape{1000, 1001};
    const Device gpu = Device::cuda();
    for (uint64_t offset : {0, 3, 1001}) {
        EXPECT_EQ(rand_uniform(shape, -1, 2, 31, offset, gpu).to_vector<float>(),
                  rand_uniform(shape, -1, 2, 31, offset).to_vector<float>());
        EXPECT_EQ(randint(shape, 97, 31, offset, gpu).to_vector<int64_t>(),
                  randint(shape, 97, 31, offset).to_vector<int64_t>());
        EXPECT_TRUE(all_close(randn(shape, 0, 1, 31, offset, gpu), randn(shape, 0, 1, 31, offset),
                              1e-6, 0, "randn cuda vs cpu"));
    }
    const Tensor x = uniform_tensor(shape, -1, 1, 2);
    EXPECT_EQ(dropout(x.to(gpu), 0.3, true, 6).to_vector<float>(),
              dropout(x, 0.3, true, 6).to_vector<float>());
}

}  // namespace
}  // namespace obl::test
