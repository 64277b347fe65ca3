// Synthetic-embedding sampling rate (unlearn/synthetic.h) on 2 threads: the fused fast CPU path
// against the unfused reference, per labelled candidate ("draw"), for ResNet-20's pre_logits head
// (D = 64, K = 10) and a larger one (D = 512, K = 100), and the whole sampler (quota included).
//   BM_synthetic_draws/{fused_fast,unfused_ref}/threads:T/D:<D>_K:<K>  synth_sample_block, z kept
//   BM_synthetic_sample/fused_fast/threads:2/D:<D>_K:<K>/per_class:<Q>  sample_embeddings
//   BM_synthetic_sample/generic/threads:2/resnet20_last_block/per_class:<Q>  sample_embeddings on
//       a non-linear head: CIFAR ResNet-20 (its own init, no weights file) cut at last_block
//       (the last residual block + pool + fc on a 64x8x8 map). Counters: plain / targeted /
//       pilot draws per run and the seconds of each phase, so the cost of rejected plain draws
//       and of the targeted search shows separately; fwd/s counts forward passes (a pilot row
//       costs about 2, forward + backward).
// Counters: draws/s; limit_draws/s and pct_of_limit, the machine's limit for this work estimated
// from per-thread rates measured here on one thread and scaled by the thread count T:
//     limit = T / (D / normals_per_s + 2 D K / gemm_flops_per_s)
// with normals_per_s from the fast Philox normal fill (kernels/random.h) on a 16 MB buffer, and
// gemm_flops_per_s from gemm_fast_cpu on the fused kernel's own tiles ((R, D) x (D, K)^T). It is
// the cost of the two unavoidable parts run back to back at their own best speed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/gemm.h"
#include "kernels/random.h"
#include "models/resnet.h"
#include "models/split.h"
#include "nn/dispatch.h"
#include "nn/modules/linear.h"
#include "nn/modules/sequential.h"
#include "nn/tensor.h"
#include "unlearn/synthetic.h"

namespace {

using obl::Tensor;

constexpr uint64_t kSeed = 11;

// Best-of-5 wall time of f(), in seconds (host clock: CPU work, synchronous).
template <class F>
double best_seconds(F&& f) {
    f();  // warm-up
    double best = 1e30;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

// Per-thread rates, measured on ONE thread (a busy second core cannot distort them) and scaled by
// the thread count (2 cores scale 2.0x on this machine kind, DESIGN.md §N).
double normals_per_second_1t() {
    static const double rate = [] {
        const int saved = obl::num_threads();
        obl::set_num_threads(1);
        const int64_t n = int64_t(1) << 22;
        std::vector<float> y(static_cast<size_t>(n));
        const double s = best_seconds([&] {
            obl::kernels::fill_normal_fast_cpu(y.data(), obl::kernels::RandomDims{n, 1, 0}, 0, 1);
        });
        obl::set_num_threads(saved);
        return static_cast<double>(n) / s;
    }();
    return rate;
}

// gemm_fast_cpu on the fused kernel's own tiles: (R, D) x (D, K)^T with R = 65536 / D rows
// (kernels/cpu/fast/synth_sample.cpp), 64 tiles back to back, one thread.
double gemm_flops_per_second_1t(int64_t d, int64_t k) {
    static std::map<std::pair<int64_t, int64_t>, double> cache;
    auto it = cache.find({d, k});
    if (it != cache.end()) return it->second;
    const int saved = obl::num_threads();
    obl::set_num_threads(1);
    const int64_t rows = std::clamp<int64_t>((65536 / d) / 16 * 16, 16, 1024), tiles = 64;
    std::vector<float> a(static_cast<size_t>(tiles * rows * d), 0.5f),
        w(static_cast<size_t>(k * d), 0.25f), c(static_cast<size_t>(rows * k));
    obl::kernels::GemmDims g;
    g.m = rows;
    g.n = k;
    g.k = d;
    g.trans_b = true;
    const double s = best_seconds([&] {
        for (int64_t t = 0; t < tiles; ++t)
            obl::kernels::gemm_fast_cpu(c.data(), a.data() + t * rows * d, w.data(), g);
    });
    obl::set_num_threads(saved);
    return cache[{d, k}] = 2.0 * static_cast<double>(tiles * rows * d * k) / s;
}

void add_limit(benchmark::State& state, double draws, int64_t d, int64_t k, int threads) {
    const double per_draw_1t = static_cast<double>(d) / normals_per_second_1t() +
                               2.0 * static_cast<double>(d * k) / gemm_flops_per_second_1t(d, k);
    const double limit = threads / per_draw_1t;
    state.counters["draws/s"] = benchmark::Counter(draws, benchmark::Counter::kIsRate);
    state.counters["limit_draws/s"] = limit;
    state.counters["normals/s_1t"] = normals_per_second_1t();
    state.counters["gemm_GFLOP/s_1t"] = gemm_flops_per_second_1t(d, k) / 1e9;
    // draws/s as a percentage of the limit (a rate counter: divided by the elapsed time).
    state.counters["pct_of_limit"] =
        benchmark::Counter(100.0 * draws / limit, benchmark::Counter::kIsRate);
}

void bm_draws(benchmark::State& state, bool fast, int64_t d, int64_t k, int64_t b, int threads) {
    const int saved = obl::num_threads();
    obl::set_num_threads(threads);
    Tensor w = Tensor::full({k, d}, 0.0);
    for (int64_t i = 0; i < k * d; ++i) w.f32()[i] = static_cast<float>(std::sin(0.37 * i));
    Tensor bias = Tensor::zeros({k});
    const obl::DrawSpec spec = obl::draw_spec(obl::SamplerConfig{}, {d}, obl::Device::cpu());
    // Validate: the path under test against the unfused reference on the first candidates.
    {
        const int64_t n = std::min<int64_t>(b, 1024);
        obl::SynthBlock got, ref;
        if (fast) {
            got = obl::synth_sample_block(w, bias, spec, 0, n, kSeed);
        } else {
            obl::ReferenceCpuGuard guard;
            got = obl::synth_sample_block(w, bias, spec, 0, n, kSeed);
        }
        {
            obl::ReferenceCpuGuard guard;
            ref = obl::synth_sample_block(w, bias, spec, 0, n, kSeed);
        }
        const std::vector<float> gz = got.z.to_vector<float>(), rz = ref.z.to_vector<float>();
        const std::vector<int64_t> gl = got.label.to_vector<int64_t>(),
                                   rl = ref.label.to_vector<int64_t>();
        const std::vector<float> rm = ref.margin.to_vector<float>();
        for (size_t i = 0; i < gz.size(); ++i)
            if (std::fabs(gz[i] - rz[i]) > 1e-6) {
                state.SkipWithError("z mismatch vs reference");
                obl::set_num_threads(saved);
                return;
            }
        for (size_t t = 0; t < gl.size(); ++t)
            if (gl[t] != rl[t] && rm[t] >= 1e-4f) {
                state.SkipWithError("label mismatch vs reference");
                obl::set_num_threads(saved);
                return;
            }
    }
    int64_t first = 0;
    for (auto _ : state) {
        if (fast) {
            benchmark::DoNotOptimize(obl::synth_sample_block(w, bias, spec, first, b, kSeed));
        } else {
            obl::ReferenceCpuGuard guard;
            benchmark::DoNotOptimize(obl::synth_sample_block(w, bias, spec, first, b, kSeed));
        }
        first += b;
    }
    add_limit(state, static_cast<double>(b) * static_cast<double>(state.iterations()), d, k,
              threads);
    obl::set_num_threads(saved);
}

void bm_sample(benchmark::State& state, int64_t d, int64_t k, int64_t per_class) {
    const int saved = obl::num_threads();
    obl::set_num_threads(2);
    auto lin = std::make_shared<obl::Linear>(d, k, true, 3);
    obl::Sequential head(std::vector<std::shared_ptr<obl::Module>>{lin});
    head.eval();
    obl::SamplerConfig cfg;
    cfg.per_class = per_class;
    double draws = 0;
    uint64_t seed = kSeed;
    for (auto _ : state) {
        const obl::SyntheticSet s = obl::sample_embeddings(head, {d}, cfg, seed++);
        draws += static_cast<double>(s.stats.draws + s.stats.targeted_draws);
        benchmark::DoNotOptimize(s.z.f32());
    }
    add_limit(state, draws, d, k, 2);
    obl::set_num_threads(saved);
}

void bm_sample_generic(benchmark::State& state, int64_t per_class) {
    const int saved = obl::num_threads();
    obl::set_num_threads(2);
    std::shared_ptr<obl::Classifier> model = obl::make_cifar_resnet(20, 10);
    model->eval();
    const obl::Split sp = obl::split(*model, "last_block", {3, 32, 32});
    obl::SamplerConfig cfg;
    cfg.per_class = per_class;
    double plain = 0, targeted = 0, pilot = 0, plain_s = 0, targeted_s = 0, runs = 0;
    uint64_t seed = kSeed;
    for (auto _ : state) {
        const obl::SyntheticSet s =
            obl::sample_embeddings(*sp.head, sp.embedding_shape, cfg, seed++);
        plain += static_cast<double>(s.stats.draws);
        targeted += static_cast<double>(s.stats.targeted_draws);
        pilot += static_cast<double>(s.stats.pilot_draws);
        plain_s += s.stats.plain_seconds;
        targeted_s += s.stats.targeted_seconds;
        runs += 1;
        benchmark::DoNotOptimize(s.z.f32());
    }
    state.counters["plain_draws"] = plain / runs;
    state.counters["targeted_draws"] = targeted / runs;
    state.counters["pilot_draws"] = pilot / runs;
    state.counters["plain_s"] = plain_s / runs;
    state.counters["targeted_s"] = targeted_s / runs;
    state.counters["fwd/s"] =
        benchmark::Counter(plain + targeted + 2 * pilot, benchmark::Counter::kIsRate);
    obl::set_num_threads(saved);
}

bool register_all() {
    struct Shape {
        int64_t d, k;
    };
    for (const Shape& s : {Shape{64, 10}, Shape{512, 100}}) {
        const std::string dims = "D:" + std::to_string(s.d) + "_K:" + std::to_string(s.k);
        for (bool fast : {true, false}) {
            // Blocks of ~8 MB of z on the fast path; the reference gets smaller ones (it is ~50x
            // slower). The fast path also runs on 1 thread, to show the scaling.
            const int64_t b = fast ? (int64_t(1) << 21) / s.d : (int64_t(1) << 16) / s.d;
            for (int threads : fast ? std::vector<int>{2, 1} : std::vector<int>{2}) {
                benchmark::RegisterBenchmark(
                    ("BM_synthetic_draws/" + std::string(fast ? "fused_fast" : "unfused_ref") +
                     "/threads:" + std::to_string(threads) + "/" + dims)
                        .c_str(),
                    [=](benchmark::State& st) { bm_draws(st, fast, s.d, s.k, b, threads); })
                    ->UseRealTime()
                    ->Unit(benchmark::kMillisecond);
            }
        }
        const int64_t per_class = s.k == 10 ? 5000 : 500;
        benchmark::RegisterBenchmark(
            ("BM_synthetic_sample/fused_fast/threads:2/" + dims +
             "/per_class:" + std::to_string(per_class))
                .c_str(),
            [=](benchmark::State& st) { bm_sample(st, s.d, s.k, per_class); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    for (int64_t per_class : {1000, 5000})
        benchmark::RegisterBenchmark(
            ("BM_synthetic_sample/generic/threads:2/resnet20_last_block/per_class:" +
             std::to_string(per_class))
                .c_str(),
            [=](benchmark::State& st) { bm_sample_generic(st, per_class); })
            ->UseRealTime()
            ->Iterations(1)
            ->Unit(benchmark::kSecond);
    return true;
}

// bench/ is an executable, so this static registration cannot be dropped by the linker.
[[maybe_unused]] const bool registered = register_all();

}  // namespace
