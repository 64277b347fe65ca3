// Every kernel-study version (kernels/study/<op>/, docs/kernels.md) checked against the CPU
// reference of its op, one parameterised test per version (named after its file):
//   KernelStudy/GemmStudy.*/<version>        vs gemm_cpu<float> (double accumulation):
//       random data |err| <= 1e-4 (1 + |ref|), scaled by sqrt(K / 32) when K > 32 (DESIGN.md §K);
//       small-integer data and a hand-computed 2 x 3 x 2 product: exact (every partial sum is an
//       integer below 2^24, so any summation order gives the same float).
//   KernelStudy/NormalStudy.*/<version>      vs fill_normal_cpu<float>: v1-v3 bit-identical (the
//       same double libm formula), the production fill within 1e-6 (its 1-ulp contract, |z| < 8).
//   KernelStudy/SampleStudy.*/<version>      vs synth_sample_cpu<float> + synth_quota_cpu: labels
//       equal except at near-ties (reference top-2 margin < 1e-4), accept/filled exactly the quota
//       rule applied to the version's labels, and the quota must actually reject rows.
//   KernelStudy/HeadStepStudy.*/<version>    vs head_step_cpu<float>: loss, logits, grad_logits,
//       dW, db within atol 1e-5 + rtol 1e-4 (reductions/softmax, DESIGN.md §K); plus a
//       hand-computed 1-row, 2-class case.
// Shapes include odd sizes (not multiples of the 8 x 32 register tile), K = 0 / K = 1, and sizes
// past the study's cache blocks (K > KC = 256, M > MC = 128, N > NC = 1024). Versions that need
// AVX-512 skip, saying so, on CPUs without it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/common/cpu_features.h"
#include "kernels/gemm.h"
#include "kernels/head_step.h"
#include "kernels/random.h"
#include "kernels/study/gemm/gemm_study.h"
#include "kernels/study/head_step/head_step_study.h"
#include "kernels/study/philox_normal/philox_normal_study.h"
#include "kernels/study/synth_sample/synth_sample_study.h"
#include "kernels/synth_sample.h"
#include "tests/test_util.h"

namespace obl::kernels::study {
namespace {

using obl::test::all_close;

#define SKIP_WITHOUT_AVX512(needs)                                               \
    do {                                                                         \
        if ((needs) && cpu_isa() < CpuIsa::Avx512)                               \
            GTEST_SKIP() << "skipped: this version needs AVX-512; cpu_isa() is " \
                         << cpu_isa_name(cpu_isa());                             \
    } while (0)

std::vector<float> floats(int64_t n, double lo, double hi, uint64_t seed) {
    const std::vector<double> v = obl::test::uniform_values(n, lo, hi, seed);
    return std::vector<float>(v.begin(), v.end());
}

std::vector<double> doubles(const float* p, int64_t n) { return std::vector<double>(p, p + n); }

// Test names from the version names ("v1_naive").
template <class V>
std::string version_name(const ::testing::TestParamInfo<V>& info) {
    return info.param.name;
}

// ---- GEMM ---------------------------------------------------------------------------------------

class GemmStudy : public ::testing::TestWithParam<GemmVersion> {};

struct GemmShape {
    int64_t m, n, k;
};

TEST_P(GemmStudy, MatchesReferenceOnRandomData) {
    SKIP_WITHOUT_AVX512(GetParam().needs_avx512);
    const GemmShape shapes[] = {{1, 1, 1}, {7, 13, 5},     {33, 17, 65},  {64, 64, 64},
                                {3, 5, 0}, {130, 70, 600}, {9, 1100, 300}};
    for (const GemmShape s : shapes) {
        const std::string what = std::string(GetParam().name) + " " + std::to_string(s.m) + "x" +
                                 std::to_string(s.n) + "x" + std::to_string(s.k);
        const std::vector<float> a = floats(s.m * s.k, -1, 1, 1), b = floats(s.k * s.n, -1, 1, 2);
        std::vector<float> ref(static_cast<size_t>(s.m * s.n));
        gemm_cpu<float>(ref.data(), a.data(), b.data(), GemmDims{1, s.m, s.n, s.k, false, false});
        // C is write-only: NaN already in it must not survive.
        std::vector<float> c(ref.size(), std::numeric_limits<float>::quiet_NaN());
        GetParam().fn(c.data(), a.data(), b.data(), s.m, s.n, s.k);
        const double tol = 1e-4 * std::max(1.0, std::sqrt(static_cast<double>(s.k) / 32.0));
        EXPECT_TRUE(all_close(doubles(c.data(), s.m * s.n), doubles(ref.data(), s.m * s.n), tol,
                              tol, what));
    }
}

TEST_P(GemmStudy, ExactOnSmallIntegers) {
    SKIP_WITHOUT_AVX512(GetParam().needs_avx512);
    // Hand-computed: [1 2 3; 4 5 6] [7 8; 9 10; 11 12] = [58 64; 139 154].
    const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 12};
    float c[4];
    GetParam().fn(c, a, b, 2, 2, 3);
    EXPECT_EQ(c[0], 58.f);
    EXPECT_EQ(c[1], 64.f);
    EXPECT_EQ(c[2], 139.f);
    EXPECT_EQ(c[3], 154.f);
    // Integers in [-2, 2]: every partial sum is exact, so the order of the sums cannot matter.
    const int64_t m = 37, n = 45, k = 300;
    std::vector<float> ai = floats(m * k, -2.5, 2.5, 3), bi = floats(k * n, -2.5, 2.5, 4);
    for (float& x : ai) x = std::round(x);
    for (float& x : bi) x = std::round(x);
    std::vector<float> ref(static_cast<size_t>(m * n)), got(ref.size());
    gemm_cpu<float>(ref.data(), ai.data(), bi.data(), GemmDims{1, m, n, k, false, false});
    GetParam().fn(got.data(), ai.data(), bi.data(), m, n, k);
    EXPECT_TRUE(
        all_close(doubles(got.data(), m * n), doubles(ref.data(), m * n), 0, 0, GetParam().name));
}

INSTANTIATE_TEST_SUITE_P(KernelStudy, GemmStudy, ::testing::ValuesIn(kGemmVersions),
                         version_name<GemmVersion>);

// ---- Philox normal ------------------------------------------------------------------------------

class NormalStudy : public ::testing::TestWithParam<NormalVersion> {};

TEST_P(NormalStudy, MatchesReference) {
    SKIP_WITHOUT_AVX512(GetParam().needs_avx512);
    const bool production = std::string(GetParam().name) == "v4_production";
    // (n, offset, seed): partial first and last blocks, a run past 16 blocks, and a range whose
    // block index crosses 2^32 (the carry into the counter's high word).
    const RandomDims cases[] = {
        {1, 0, 1}, {3, 5, 7}, {64, 0, 42}, {1001, 123, 3}, {4099, 99, (uint64_t(1) << 34) - 6}};
    for (const RandomDims& d : cases) {
        const std::string what = std::string(GetParam().name) + " n " + std::to_string(d.n) +
                                 " offset " + std::to_string(d.offset);
        std::vector<float> ref(static_cast<size_t>(d.n)), got(ref.size(), -100.f);
        fill_normal_cpu<float>(ref.data(), d, 0.0, 1.0);
        GetParam().fn(got.data(), d);
        if (production) {
            EXPECT_TRUE(
                all_close(doubles(got.data(), d.n), doubles(ref.data(), d.n), 1e-6, 0, what));
        } else {
            EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)), 0)
                << what << ": not bit-identical to fill_normal_cpu<float>";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(KernelStudy, NormalStudy, ::testing::ValuesIn(kNormalVersions),
                         version_name<NormalVersion>);

// ---- Fused sampler ------------------------------------------------------------------------------

class SampleStudy : public ::testing::TestWithParam<SampleVersion> {};

TEST_P(SampleStudy, MatchesReferenceAndQuota) {
    struct Case {
        int64_t d, k, count, first;
        uint64_t offset;
        bool bias;
    };
    const Case cases[] = {{64, 10, 3000, 0, 0, true},
                          {37, 7, 1001, 123, 5, true},
                          {3, 1, 50, 0, 0, false},
                          {130, 3, 700, 2, 0, false}};
    for (const Case& c : cases) {
        const std::string what = std::string(GetParam().name) + " D " + std::to_string(c.d) +
                                 " K " + std::to_string(c.k) + " B " + std::to_string(c.count);
        SynthDims d;
        d.d = c.d;
        d.k = c.k;
        d.count = c.count;
        d.first = c.first;
        d.offset = c.offset;
        d.seed = 2024;
        const std::vector<float> w = floats(c.k * c.d, -0.5, 0.5, 5), b = floats(c.k, -0.5, 0.5, 6);
        const float* bias = c.bias ? b.data() : nullptr;
        // Quotas that some classes reach: about a third of the expected hits, class 0 pre-filled.
        std::vector<int64_t> quota(static_cast<size_t>(c.k)), filled(quota.size(), 0);
        for (int64_t k = 0; k < c.k; ++k) quota[k] = c.count / (3 * c.k) + k;
        filled[0] = 2;

        std::vector<int64_t> ref_label(static_cast<size_t>(c.count));
        std::vector<float> ref_margin(ref_label.size());
        synth_sample_cpu<float>(ref_label.data(), ref_margin.data(), nullptr, nullptr, w.data(),
                                bias, d, SynthDistParams{});

        std::vector<int64_t> label(ref_label.size(), -1), got_filled = filled;
        std::vector<uint8_t> accept(ref_label.size(), 2);
        GetParam().fn(label.data(), accept.data(), got_filled.data(), w.data(), bias, quota.data(),
                      d);

        int64_t differ = 0;
        for (int64_t t = 0; t < c.count; ++t) {
            if (label[t] == ref_label[t]) continue;
            ++differ;
            EXPECT_LT(ref_margin[t], 1e-4f)
                << what << ": row " << t << " label " << label[t] << ", reference " << ref_label[t]
                << " with margin " << ref_margin[t];
        }
        EXPECT_LE(differ, 2) << what << ": too many near-tie label flips";
        // The quota rule on the version's own labels (synth_quota_cpu is the definition).
        std::vector<uint8_t> want_accept(ref_label.size());
        std::vector<int64_t> want_filled = filled, hits(quota.size()), done_at(quota.size());
        synth_quota_cpu(want_accept.data(), hits.data(), done_at.data(), want_filled.data(),
                        label.data(), quota.data(), SynthQuotaDims{c.count, c.k});
        EXPECT_EQ(accept, want_accept) << what;
        EXPECT_EQ(got_filled, want_filled) << what;
        int64_t accepted = 0;
        for (uint8_t a : accept) accepted += a;
        EXPECT_GT(accepted, 0) << what;
        EXPECT_LT(accepted, c.count) << what << ": the quota rejected nothing";
    }
}

INSTANTIATE_TEST_SUITE_P(KernelStudy, SampleStudy, ::testing::ValuesIn(kSampleVersions),
                         version_name<SampleVersion>);

// ---- Fused linear-head step ---------------------------------------------------------------------

class HeadStepStudy : public ::testing::TestWithParam<HeadStepVersion> {};

TEST_P(HeadStepStudy, MatchesReference) {
    struct Case {
        int64_t n, d, k;
        bool bias, weights;
    };
    const Case cases[] = {{256, 64, 10, true, false},
                          {37, 13, 7, true, true},
                          {1, 1, 1, false, false},
                          {100, 65, 3, false, true},
                          {300, 130, 33, true, true}};
    for (const Case& c : cases) {
        const std::string what = std::string(GetParam().name) + " " + std::to_string(c.n) + "x" +
                                 std::to_string(c.d) + "x" + std::to_string(c.k);
        const HeadStepDims d{c.n, c.d, c.k};
        const std::vector<float> z = floats(c.n * c.d, -1, 1, 7), w = floats(c.k * c.d, -1, 1, 8);
        const std::vector<float> b = floats(c.k, -0.5, 0.5, 9);
        std::vector<int64_t> t(static_cast<size_t>(c.n));
        for (int64_t n = 0; n < c.n; ++n) t[n] = (n * 7 + 3) % c.k;
        // NG+-style weights: retain rows +0.9 / N_r, forget rows -0.1 / N_f.
        std::vector<float> sw(static_cast<size_t>(c.n));
        const int64_t nr = (c.n + 1) / 2;
        for (int64_t n = 0; n < c.n; ++n)
            sw[n] = n < nr ? 0.9f / static_cast<float>(nr) : -0.1f / static_cast<float>(c.n - nr);
        const float* bias = c.bias ? b.data() : nullptr;
        const float* weights = c.weights ? sw.data() : nullptr;

        struct Out {
            std::vector<float> loss, dw, db, logits, g;
        };
        auto make = [&] {
            const float nan = std::numeric_limits<float>::quiet_NaN();
            return Out{std::vector<float>(1, nan), std::vector<float>(c.k * c.d, nan),
                       std::vector<float>(c.k, nan), std::vector<float>(c.n * c.k, nan),
                       std::vector<float>(c.n * c.k, nan)};
        };
        Out ref = make(), got = make();
        head_step_cpu<float>(ref.loss.data(), ref.dw.data(), ref.db.data(), ref.logits.data(),
                             ref.g.data(), z.data(), w.data(), bias, t.data(), weights, d);
        GetParam().fn(got.loss.data(), got.dw.data(), got.db.data(), got.logits.data(),
                      got.g.data(), z.data(), w.data(), bias, t.data(), weights, d);
        auto close = [&](const std::vector<float>& g, const std::vector<float>& r, const char* o) {
            EXPECT_TRUE(all_close(doubles(g.data(), static_cast<int64_t>(g.size())),
                                  doubles(r.data(), static_cast<int64_t>(r.size())), 1e-5, 1e-4,
                                  what + " " + o));
        };
        close(got.loss, ref.loss, "loss");
        close(got.logits, ref.logits, "logits");
        close(got.g, ref.g, "grad_logits");
        close(got.dw, ref.dw, "grad_weight");
        if (c.bias) close(got.db, ref.db, "grad_bias");
    }
}

TEST_P(HeadStepStudy, HandComputedTwoClasses) {
    // z = [1], W = [[1], [0]], no bias, target 0, mean weight 1: logits [1, 0],
    // p_0 = e / (e + 1) = 0.7310586, CE = log(1 + 1/e) = 0.3132617,
    // G = [p_0 - 1, 1 - p_0] = [-0.2689414, 0.2689414] = dW (z = 1).
    const float z[] = {1.f}, w[] = {1.f, 0.f};
    const int64_t t[] = {0};
    float loss, dw[2], logits[2], g[2];
    GetParam().fn(&loss, dw, nullptr, logits, g, z, w, nullptr, t, nullptr, HeadStepDims{1, 1, 2});
    EXPECT_NEAR(loss, 0.3132617f, 1e-6);
    EXPECT_EQ(logits[0], 1.f);
    EXPECT_EQ(logits[1], 0.f);
    EXPECT_NEAR(g[0], -0.2689414f, 1e-6);
    EXPECT_NEAR(g[1], 0.2689414f, 1e-6);
    EXPECT_NEAR(dw[0], -0.2689414f, 1e-6);
    EXPECT_NEAR(dw[1], 0.2689414f, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(KernelStudy, HeadStepStudy, ::testing::ValuesIn(kHeadStepVersions),
                         version_name<HeadStepVersion>);

}  // namespace
}  // namespace obl::kernels::study
