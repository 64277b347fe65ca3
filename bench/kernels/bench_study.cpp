// Kernel-study benchmarks (kernels/study/<op>/, docs/kernels.md): every version of each study on
// its shapes (GEMM 512^3 and, from v3 on, 1024^3; head step 256x64x10 and 1024x256x100), validated
// against the op's CPU reference before timing (SkipWithError on a mismatch, DESIGN.md §L), then
// timed.
//   BM_study/<op>/<version>/<shape>/threads:<T>
// T = 1 for every version (the ideas compared on one core), and the production version again with
// T = 2. Time basis: T = 1 rows use the benchmark thread's CPU time (on a shared machine, time
// spent waiting for a core is not the kernel's), T = 2 rows the wall clock (OpenMP: the main
// thread's CPU time would miss the second thread).
// Per-iteration work, as plain counters that tools/kernel_table.py divides by the median time:
//   flop   gemm 2 M N K; head_step 4 N D K (the two products); synth_sample 2 D K per draw
//   bytes  philox_normal 4 per normal written
//   items  normals (philox_normal) or candidates drawn (synth_sample)
// plus rate counters for the console (GFLOP/s, GB/s, M/s) on the same time basis.
// Ceilings measured in the same run, one thread, CPU time:
//   BM_study/peak/fma/threads:1        register-only FMA loop, 12 independent accumulators
//                                      (AVX-512, else AVX2): the FLOP ceiling of one core
//   BM_study/peak/write/4MB/threads:1  memset of the philox study's 4 MB output buffer
//   BM_study/peak/normals/256KB/threads:1  the production normal fill into one sampler tile
//                                      (L2): normals/s for the sampler's draw limit
// Run (docs/kernels.md): nice -n 15 build/bench/obl_bench --benchmark_filter='BM_study/'
//   --benchmark_repetitions=3 --benchmark_min_time=0.02 --benchmark_out=study.json
//   --benchmark_out_format=json;  python3 tools/kernel_table.py study.json
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_util.h"
#include "bench/fma_peak.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/gemm.h"
#include "kernels/head_step.h"
#include "kernels/random.h"
#include "kernels/study/gemm/gemm_study.h"
#include "kernels/study/head_step/head_step_study.h"
#include "kernels/study/philox_normal/philox_normal_study.h"
#include "kernels/study/synth_sample/synth_sample_study.h"
#include "kernels/synth_sample.h"

namespace obl::bench {
namespace {

namespace st = kernels::study;

// ---- harness ------------------------------------------------------------------------------------

// Sets the OpenMP thread count for the lifetime of the object.
class ThreadScope {
   public:
    explicit ThreadScope(int n) : saved_(num_threads()) { set_num_threads(n); }
    ~ThreadScope() { set_num_threads(saved_); }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

   private:
    int saved_;
};

struct Work {
    double flop = 0, bytes = 0, items = 0;
    const char* items_name = "M/s";  // console rate of items, in millions per second
};

// The timed loop (the validation call before it is the warm-up), then the per-iteration work
// counters and their rates.
void run_timed(benchmark::State& s, const Work& w, const std::function<void()>& launch) {
    for (auto _ : s) {
        launch();
        benchmark::ClobberMemory();
    }
    const double iters = static_cast<double>(s.iterations());
    if (w.flop > 0) {
        s.counters["flop"] = w.flop;
        s.counters["GFLOP/s"] =
            benchmark::Counter(w.flop * iters * 1e-9, benchmark::Counter::kIsRate);
    }
    if (w.bytes > 0) {
        s.counters["bytes"] = w.bytes;
        s.counters["GB/s"] =
            benchmark::Counter(w.bytes * iters * 1e-9, benchmark::Counter::kIsRate);
    }
    if (w.items > 0) {
        s.counters["items"] = w.items;
        s.counters[w.items_name] =
            benchmark::Counter(w.items * iters * 1e-6, benchmark::Counter::kIsRate);
    }
}

// BM_study/<op>/<version>/<shape>/threads:<threads>, run with that many OpenMP threads.
void add(const std::string& op, const std::string& version, const std::string& shape, int threads,
         std::function<void(benchmark::State&)> fn) {
    const std::string name =
        "BM_study/" + op + "/" + version + "/" + shape + "/threads:" + std::to_string(threads);
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [threads, fn](benchmark::State& s) {
        ThreadScope scope(threads);
        fn(s);
    });
    b->Unit(benchmark::kMicrosecond);
    if (threads > 1) b->UseRealTime();
}

bool has_isa(benchmark::State& s, bool needs_avx512) {
    if (!needs_avx512 || cpu_isa() >= CpuIsa::Avx512) return true;
    s.SkipWithError("needs AVX-512");
    return false;
}

// ---- GEMM: C (M, N) = A (M, K) B (K, N), square -------------------------------------------------

struct GemmData {
    std::vector<float> a, b;
};

const GemmData& gemm_data(int64_t n) {
    static std::map<int64_t, GemmData> cache;
    auto it = cache.find(n);
    if (it == cache.end())
        it = cache
                 .emplace(n,
                          GemmData{random_floats(n * n, -1, 1, 1), random_floats(n * n, -1, 1, 2)})
                 .first;
    return it->second;
}

// "" when rows [0, 8), the middle 8 and the last 8 of c match gemm_cpu<float> on those rows (the
// full double-accumulated reference of 1024^3 would cost more than the benchmark).
std::string gemm_mismatch(const std::vector<float>& c, const GemmData& g, int64_t n) {
    const double tol = 1e-4 * std::sqrt(n / 32.0);  // DESIGN.md §K, scaled with sqrt(K)
    for (int64_t i0 : {int64_t(0), n / 2, n - 8}) {
        std::vector<float> ref(static_cast<size_t>(8 * n));
        kernels::gemm_cpu<float>(ref.data(), g.a.data() + i0 * n, g.b.data(),
                                 {1, 8, n, n, false, false});
        const std::vector<float> got(c.begin() + i0 * n, c.begin() + (i0 + 8) * n);
        const std::string err =
            mismatch(got, std::vector<double>(ref.begin(), ref.end()), tol, tol);
        if (!err.empty()) return "rows from " + std::to_string(i0) + ": " + err;
    }
    return "";
}

void bm_gemm(benchmark::State& s, const st::GemmVersion& v, int64_t n) {
    if (!has_isa(s, v.needs_avx512)) return;
    const GemmData& d = gemm_data(n);
    std::vector<float> c(static_cast<size_t>(n * n));
    auto launch = [&] { v.fn(c.data(), d.a.data(), d.b.data(), n, n, n); };
    launch();
    if (!passed(s, gemm_mismatch(c, d, n))) return;
    run_timed(s, Work{2.0 * n * n * n, 0, 0}, launch);
}

// ---- Philox normals
// ------------------------------------------------------------------------------

constexpr int64_t kNormals = int64_t(1) << 20;  // 4 MB of output

const std::vector<float>& normal_ref() {
    static const std::vector<float> ref = [] {
        std::vector<float> y(static_cast<size_t>(kNormals));
        kernels::fill_normal_cpu<float>(y.data(), {kNormals, 7, 0}, 0.0, 1.0);
        return y;
    }();
    return ref;
}

void bm_normal(benchmark::State& s, const st::NormalVersion& v) {
    if (!has_isa(s, v.needs_avx512)) return;
    std::vector<float> y(static_cast<size_t>(kNormals));
    auto launch = [&] { v.fn(y.data(), {kNormals, 7, 0}); };
    launch();
    const std::vector<float>& ref = normal_ref();
    if (!passed(s, mismatch(y, std::vector<double>(ref.begin(), ref.end()), 1e-6, 0))) return;
    run_timed(s, Work{0, 4.0 * kNormals, double(kNormals), "Mnormals/s"}, launch);
}

// memset of the same 4 MB: how fast one core can write this output at all.
void bm_peak_write(benchmark::State& s) {
    std::vector<float> y(static_cast<size_t>(kNormals));
    auto launch = [&] { std::memset(y.data(), 0, y.size() * sizeof(float)); };
    launch();  // first touch
    run_timed(s, Work{0, 4.0 * kNormals, 0}, launch);
}

// The production fill into a 256 KB buffer (one sampler tile, L2-resident): the fastest this core
// makes normals, the first term of the sampler's draw limit.
void bm_peak_normals(benchmark::State& s) {
    const int64_t n = 65536;
    std::vector<float> y(static_cast<size_t>(n));
    auto launch = [&] { kernels::fill_normal_fast_cpu(y.data(), {n, 7, 0}, 0.0, 1.0); };
    launch();
    run_timed(s, Work{0, 4.0 * n, double(n), "Mnormals/s"}, launch);
}

// ---- fused sampler
// -------------------------------------------------------------------------------

constexpr int64_t kDrawD = 64, kDrawK = 10, kDraws = 16384;  // ResNet-20 pre_logits, one block

struct SampleData {
    std::vector<float> w, b;
    std::vector<int64_t> quota, ref_label;
    std::vector<float> ref_margin;
    kernels::SynthDims d;
};

const SampleData& sample_data() {
    static const SampleData g = [] {
        SampleData s;
        s.w = random_floats(kDrawK * kDrawD, -0.5f, 0.5f, 3);
        s.b = random_floats(kDrawK, -0.5f, 0.5f, 4);
        s.quota.assign(kDrawK, kDraws / (2 * kDrawK));
        s.d.d = kDrawD;
        s.d.k = kDrawK;
        s.d.count = kDraws;
        s.d.seed = 11;
        s.ref_label.resize(kDraws);
        s.ref_margin.resize(kDraws);
        kernels::synth_sample_cpu<float>(s.ref_label.data(), s.ref_margin.data(), nullptr, nullptr,
                                         s.w.data(), s.b.data(), s.d, {});
        return s;
    }();
    return g;
}

void bm_sample(benchmark::State& s, const st::SampleVersion& v) {
    const SampleData& g = sample_data();
    std::vector<int64_t> label(kDraws), filled(kDrawK);
    std::vector<uint8_t> accept(kDraws);
    auto launch = [&] {
        std::fill(filled.begin(), filled.end(), 0);  // every call starts with empty classes
        v.fn(label.data(), accept.data(), filled.data(), g.w.data(), g.b.data(), g.quota.data(),
             g.d);
    };
    launch();
    for (int64_t t = 0; t < kDraws; ++t) {
        if (label[t] != g.ref_label[t] && g.ref_margin[t] >= 1e-4f) {
            s.SkipWithError(
                ("label differs from synth_sample_cpu at row " + std::to_string(t)).c_str());
            return;
        }
    }
    run_timed(s, Work{2.0 * kDrawD * kDrawK * kDraws, 0, double(kDraws), "Mdraws/s"}, launch);
}

// ---- fused linear-head step
// ----------------------------------------------------------------------

struct HeadShape {
    int64_t n, d, k;
    std::string tag() const {
        return std::to_string(n) + "x" + std::to_string(d) + "x" + std::to_string(k);
    }
};

void bm_head_step(benchmark::State& s, const st::HeadStepVersion& v, HeadShape h) {
    const std::vector<float> z = random_floats(h.n * h.d, -1, 1, 5);
    const std::vector<float> w = random_floats(h.k * h.d, -0.1f, 0.1f, 6);
    const std::vector<float> b = random_floats(h.k, -0.1f, 0.1f, 7);
    std::vector<int64_t> t(static_cast<size_t>(h.n));
    for (int64_t i = 0; i < h.n; ++i) t[static_cast<size_t>(i)] = (i * 7 + 3) % h.k;
    const kernels::HeadStepDims d{h.n, h.d, h.k};
    struct Out {
        std::vector<float> loss, dw, db, logits, g;
    };
    auto make = [&] {
        return Out{std::vector<float>(1), std::vector<float>(h.k * h.d), std::vector<float>(h.k),
                   std::vector<float>(h.n * h.k), std::vector<float>(h.n * h.k)};
    };
    Out got = make(), ref = make();
    kernels::head_step_cpu<float>(ref.loss.data(), ref.dw.data(), ref.db.data(), ref.logits.data(),
                                  ref.g.data(), z.data(), w.data(), b.data(), t.data(), nullptr, d);
    auto launch = [&] {
        v.fn(got.loss.data(), got.dw.data(), got.db.data(), got.logits.data(), got.g.data(),
             z.data(), w.data(), b.data(), t.data(), nullptr, d);
    };
    launch();
    for (auto [g, r, what] :
         {std::make_tuple(&got.loss, &ref.loss, "loss"), std::make_tuple(&got.dw, &ref.dw, "dW"),
          std::make_tuple(&got.db, &ref.db, "db")}) {
        const std::string err = mismatch(*g, std::vector<double>(r->begin(), r->end()), 1e-5, 1e-4);
        if (!passed(s, err.empty() ? err : std::string(what) + " " + err)) return;
    }
    run_timed(s, Work{4.0 * h.n * h.d * h.k, 0, 0}, launch);
}

// ---- FMA ceiling
// ---------------------------------------------------------------------------------

constexpr int64_t kFmaIters = int64_t(1) << 20;

void bm_peak_fma(benchmark::State& s) {
    const int lanes = bench::fma_lanes();
    if (lanes == 0) {
        s.SkipWithError("needs AVX2 or AVX-512");
        return;
    }
    volatile float sink = 0;
    run_timed(s, Work{2.0 * lanes * bench::kFmaAccumulators * kFmaIters, 0, 0},
              [&] { sink = bench::fma_loop(kFmaIters); });
    s.counters["lanes"] = lanes;
}

// ---- registration
// --------------------------------------------------------------------------------

void register_all() {
    add("peak", "fma", "12acc", 1, bm_peak_fma);
    add("peak", "write", "4MB", 1, bm_peak_write);
    add("peak", "normals", "256KB", 1, bm_peak_normals);
    // 512^3: every version. 1024^3: from the register tile (v3) on, where packing starts to pay
    // (a B row stride of 4 KB maps v3's unpacked panel onto few L1 sets); v1 would take ~2 s a
    // call.
    for (int64_t n : {int64_t(512), int64_t(1024)}) {
        const std::string shape =
            std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(n);
        for (size_t i = n == 512 ? 0 : 2; i < std::size(st::kGemmVersions); ++i) {
            const st::GemmVersion v = st::kGemmVersions[i];
            add("gemm", v.name, shape, 1, [v, n](benchmark::State& s) { bm_gemm(s, v, n); });
        }
        const st::GemmVersion prod = st::kGemmVersions[std::size(st::kGemmVersions) - 1];
        add("gemm", prod.name, shape, 2, [prod, n](benchmark::State& s) { bm_gemm(s, prod, n); });
    }

    for (const st::NormalVersion& v : st::kNormalVersions)
        add("philox_normal", v.name, "1M", 1, [v](benchmark::State& s) { bm_normal(s, v); });
    const st::NormalVersion& normal_prod = st::kNormalVersions[std::size(st::kNormalVersions) - 1];
    add("philox_normal", normal_prod.name, "1M", 2,
        [normal_prod](benchmark::State& s) { bm_normal(s, normal_prod); });

    const std::string draw_shape = "D" + std::to_string(kDrawD) + "_K" + std::to_string(kDrawK) +
                                   "_B" + std::to_string(kDraws);
    for (const st::SampleVersion& v : st::kSampleVersions)
        add("synth_sample", v.name, draw_shape, 1, [v](benchmark::State& s) { bm_sample(s, v); });
    const st::SampleVersion& sample_prod = st::kSampleVersions[std::size(st::kSampleVersions) - 1];
    add("synth_sample", sample_prod.name, draw_shape, 2,
        [sample_prod](benchmark::State& s) { bm_sample(s, sample_prod); });

    for (const HeadShape h : {HeadShape{256, 64, 10}, HeadShape{1024, 256, 100}}) {
        for (const st::HeadStepVersion& v : st::kHeadStepVersions)
            add("head_step", v.name, h.tag(), 1,
                [v, h](benchmark::State& s) { bm_head_step(s, v, h); });
        const st::HeadStepVersion& prod =
            st::kHeadStepVersions[std::size(st::kHeadStepVersions) - 1];
        add("head_step", prod.name, h.tag(), 2,
            [prod, h](benchmark::State& s) { bm_head_step(s, prod, h); });
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl::bench
