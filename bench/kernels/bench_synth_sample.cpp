// Fused synthetic-embedding sampler kernel (kernels/synth_sample.h): candidates labelled per
// second, fast CPU path vs the unfused reference, and the CUDA kernel when a GPU is present.
//   BM_synth_sample_forward/cpu/{fast,ref}/threads:2/D:<D>_K:<K>/B:<B>   counters draws/s, GFLOP/s
//   BM_synth_sample_forward/cuda/D:<D>_K:<K>/B:<B>                       CUDA events
// Every benchmark first checks its output against the CPU reference (z within 1e-6, labels equal
// except where the reference's top-2 margin is below 1e-4) and skips on a mismatch.
// The sampler-level figures (draws/s vs the machine's limit) are in bench/unlearn/.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/common/parallel.h"
#include "kernels/synth_sample.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

namespace {

using obl::kernels::SynthDims;
using obl::kernels::SynthDistParams;

constexpr uint64_t kSeed = 7;

std::vector<float> weights(int64_t n, uint64_t salt) {
    std::vector<float> w(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        w[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + salt));
    return w;
}

struct Out {
    std::vector<int64_t> label;
    std::vector<float> margin, z;
};

Out run_cpu(bool fast, const std::vector<float>& w, const std::vector<float>& b, SynthDims d) {
    Out o;
    o.label.resize(static_cast<size_t>(d.count));
    o.margin.resize(static_cast<size_t>(d.count));
    o.z.resize(static_cast<size_t>(d.count * d.d));
    const SynthDistParams p;
    if (fast)
        obl::kernels::synth_sample_fast_cpu(o.label.data(), o.margin.data(), nullptr, o.z.data(),
                                            w.data(), b.data(), d, p);
    else
        obl::kernels::synth_sample_cpu<float>(o.label.data(), o.margin.data(), nullptr, o.z.data(),
                                              w.data(), b.data(), d, p);
    return o;
}

// "" when `got` matches the reference on its first rows, else what differs.
std::string check(const Out& got, const std::vector<float>& w, const std::vector<float>& b,
                  SynthDims d) {
    d.count = std::min<int64_t>(d.count, 2048);
    const Out ref = run_cpu(false, w, b, d);
    for (int64_t i = 0; i < d.count * d.d; ++i)
        if (std::fabs(got.z[i] - ref.z[i]) > 1e-6) return "z differs at " + std::to_string(i);
    for (int64_t t = 0; t < d.count; ++t)
        if (got.label[t] != ref.label[t] && ref.margin[t] >= 1e-4f)
            return "label differs at row " + std::to_string(t);
    return "";
}

void bm_cpu(benchmark::State& state, bool fast, int64_t dd, int64_t k, int64_t b) {
    const int saved = obl::num_threads();
    obl::set_num_threads(2);
    const std::vector<float> w = weights(k * dd, 1), bias = weights(k, 2);
    SynthDims d;
    d.d = dd;
    d.k = k;
    d.count = b;
    d.seed = kSeed;
    const std::string err = check(run_cpu(fast, w, bias, d), w, bias, d);
    if (!err.empty()) {
        state.SkipWithError(("mismatch vs reference: " + err).c_str());
        obl::set_num_threads(saved);
        return;
    }
    Out o = run_cpu(fast, w, bias, d);
    for (auto _ : state) {
        d.first += b;  // fresh candidates every iteration, as in a sampling run
        if (fast)
            obl::kernels::synth_sample_fast_cpu(o.label.data(), o.margin.data(), nullptr,
                                                o.z.data(), w.data(), bias.data(), d, {});
        else
            obl::kernels::synth_sample_cpu<float>(o.label.data(), o.margin.data(), nullptr,
                                                  o.z.data(), w.data(), bias.data(), d, {});
        benchmark::DoNotOptimize(o.label.data());
        benchmark::ClobberMemory();
    }
    const double draws = static_cast<double>(b) * static_cast<double>(state.iterations());
    state.counters["draws/s"] = benchmark::Counter(draws, benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] = benchmark::Counter(draws * 2.0 * static_cast<double>(dd * k) / 1e9,
                                                   benchmark::Counter::kIsRate);
    obl::set_num_threads(saved);
}

void bm_cuda(benchmark::State& state, [[maybe_unused]] int64_t dd, [[maybe_unused]] int64_t k,
             [[maybe_unused]] int64_t b) {
    if (!obl::cuda_available()) {
        state.SkipWithError("no GPU");
        return;
    }
#if OBL_WITH_CUDA
    using obl::Tensor;
    const obl::Device gpu = obl::Device::cuda();
    const std::vector<float> w = weights(k * dd, 1), bias = weights(k, 2);
    Tensor wd = Tensor::from_vector(w, {k, dd}, gpu), bd = Tensor::from_vector(bias, {k}, gpu);
    Tensor label = Tensor::empty({b}, obl::DType::I64, gpu);
    Tensor margin = Tensor::empty({b}, obl::DType::F32, gpu);
    Tensor z = Tensor::empty({b, dd}, obl::DType::F32, gpu);
    SynthDims d;
    d.d = dd;
    d.k = k;
    d.count = b;
    d.seed = kSeed;
    obl::Stream s = obl::cuda_context().stream();
    obl::kernels::synth_sample_cuda(label.i64(), margin.f32(), nullptr, z.f32(), wd.f32(), bd.f32(),
                                    d, {}, s);
    Out got;
    got.label = label.to_vector<int64_t>();
    got.margin = margin.to_vector<float>();
    got.z = z.to_vector<float>();
    const std::string err = check(got, w, bias, d);
    if (!err.empty()) {
        state.SkipWithError(("CUDA mismatch vs reference: " + err).c_str());
        return;
    }
    // z is B * D * 4 bytes (256 MB at B = 2^20, D = 64): far beyond the 60 MB L2.
    obl::bench::time_cuda(state, [&] {
        d.first += b;
        obl::kernels::synth_sample_cuda(label.i64(), margin.f32(), nullptr, z.f32(), wd.f32(),
                                        bd.f32(), d, {}, s);
    });
    const double draws = static_cast<double>(b) * static_cast<double>(state.iterations());
    state.counters["draws/s"] = benchmark::Counter(draws, benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<int64_t>(draws) * (dd * 4 + 12));
#endif
}

bool register_all() {
    struct Shape {
        int64_t d, k, b_fast, b_ref;
    };
    // ResNet-20's pre_logits head (64 -> 10) and a larger one (512 -> 100).
    for (const Shape& s : {Shape{64, 10, 1 << 16, 1 << 14}, Shape{512, 100, 1 << 13, 1 << 10}}) {
        const std::string dims = "D:" + std::to_string(s.d) + "_K:" + std::to_string(s.k);
        for (bool fast : {true, false}) {
            const int64_t b = fast ? s.b_fast : s.b_ref;
            benchmark::RegisterBenchmark(
                ("BM_synth_sample_forward/cpu/" + std::string(fast ? "fast" : "ref") +
                 "/threads:2/" + dims + "/B:" + std::to_string(b))
                    .c_str(),
                [=](benchmark::State& st) { bm_cpu(st, fast, s.d, s.k, b); })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
        }
        const int64_t b_gpu = int64_t(1) << 20;
        benchmark::RegisterBenchmark(
            ("BM_synth_sample_forward/cuda/" + dims + "/B:" + std::to_string(b_gpu)).c_str(),
            [=](benchmark::State& st) { bm_cuda(st, s.d, s.k, b_gpu); })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
    }
    return true;
}

// bench/ is an executable, so this static registration cannot be dropped by the linker.
[[maybe_unused]] const bool registered = register_all();

}  // namespace
