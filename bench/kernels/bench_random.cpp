// Philox random fills (kernels/random.h): normals per second, fast CPU path vs the reference on 1
// and 2 threads, uniforms and raw words on the fast path, and the CUDA kernel when a GPU is
// present.
//   BM_random_normal/cpu/{fast,ref}/threads:T/n:N    counter normals/s (and bytes written)
//   BM_random_uniform/cpu/fast/threads:T/n:N         counter values/s
//   BM_random_bits/cpu/fast/threads:T/n:N            counter values/s
//   BM_random_normal/cuda/n:N                        CUDA events; n * 4 bytes written
// Every benchmark first compares a head and a tail of its output with the CPU reference
// (SkipWithError on mismatch): no timing without validation.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/random.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

namespace {

using obl::kernels::RandomDims;

constexpr uint64_t kSeed = 20240601;

enum class Fill { Normal, Uniform, Bits };

// Fills y[0..n) with `fill` on the fast path (fast = true) or the reference.
void run_fill(Fill fill, bool fast, float* y, RandomDims d) {
    switch (fill) {
        case Fill::Normal:
            fast ? obl::kernels::fill_normal_fast_cpu(y, d, 0, 1)
                 : obl::kernels::fill_normal_cpu<float>(y, d, 0, 1);
            break;
        case Fill::Uniform:
            fast ? obl::kernels::fill_uniform_fast_cpu(y, d, 0, 1)
                 : obl::kernels::fill_uniform_cpu<float>(y, d, 0, 1);
            break;
        case Fill::Bits: {
            uint32_t* bits = reinterpret_cast<uint32_t*>(y);
            fast ? obl::kernels::fill_bits_fast_cpu(bits, d) : obl::kernels::fill_bits_cpu(bits, d);
            break;
        }
    }
}

// Max abs difference of y[begin, begin + len) against the reference for the same elements.
double error_vs_reference(Fill fill, const float* y, int64_t begin, int64_t len) {
    std::vector<float> ref(static_cast<size_t>(len));
    run_fill(fill, false, ref.data(), RandomDims{len, kSeed, static_cast<uint64_t>(begin)});
    double err = 0;
    for (int64_t i = 0; i < len; ++i) {
        if (fill == Fill::Bits) {
            uint32_t a, b;
            std::memcpy(&a, y + begin + i, 4);
            std::memcpy(&b, ref.data() + i, 4);
            err = std::max(err, a == b ? 0.0 : 1.0);
        } else {
            err = std::max(err, std::fabs(static_cast<double>(y[begin + i]) - ref[i]));
        }
    }
    return err;
}

void bm_cpu(benchmark::State& state, Fill fill, bool fast, int threads, int64_t n) {
    const int saved = obl::num_threads();
    obl::set_num_threads(threads);
    std::vector<float> y(static_cast<size_t>(n));
    const RandomDims d{n, kSeed, 0};
    run_fill(fill, fast, y.data(), d);
    // Head and tail against the reference (normals within 1e-6, the rest bit-exact).
    const int64_t len = std::min<int64_t>(n, 1 << 14);
    const double err = std::max(error_vs_reference(fill, y.data(), 0, len),
                                error_vs_reference(fill, y.data(), n - len, len));
    if (err > (fill == Fill::Normal ? 1e-6 : 0.0)) {
        state.SkipWithError(
            ("mismatch vs reference: max abs error " + std::to_string(err)).c_str());
        obl::set_num_threads(saved);
        return;
    }
    for (auto _ : state) {
        run_fill(fill, fast, y.data(), d);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    const double values = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters[fill == Fill::Normal ? "normals/s" : "values/s"] =
        benchmark::Counter(values, benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<int64_t>(values) * 4);
    obl::set_num_threads(saved);
}

void bm_cuda_normal(benchmark::State& state, [[maybe_unused]] int64_t n) {
    if (!obl::cuda_available()) {
        state.SkipWithError("no GPU");
        return;
    }
#if OBL_WITH_CUDA
    obl::Stream s = obl::cuda_context().stream();
    obl::Tensor y = obl::Tensor::empty(obl::Shape{n}, obl::DType::F32, obl::Device::cuda());
    const RandomDims d{n, kSeed, 0};
    obl::kernels::fill_normal_cuda(y.f32(), d, 0, 1, s);
    const std::vector<float> got = y.to_vector<float>();
    const int64_t len = std::min<int64_t>(n, 1 << 14);
    const double err = std::max(error_vs_reference(Fill::Normal, got.data(), 0, len),
                                error_vs_reference(Fill::Normal, got.data(), n - len, len));
    if (err > 1e-6) {
        state.SkipWithError(("CUDA mismatch vs reference: " + std::to_string(err)).c_str());
        return;
    }
    // Write-only stream of n * 4 bytes (64 MB at n = 2^24, beyond the 60 MB L2).
    obl::bench::time_cuda(state, [&] { obl::kernels::fill_normal_cuda(y.f32(), d, 0, 1, s); });
    const double values = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["normals/s"] = benchmark::Counter(values, benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<int64_t>(values) * 4);
#endif
}

bool register_all() {
    const int64_t n = int64_t(1) << 22;  // 16 MB of floats: past the 2 MB L2 of a core
    const std::string dims = "/n:" + std::to_string(n);
    for (int threads : {1, 2}) {
        const std::string t = "/threads:" + std::to_string(threads);
        for (bool fast : {true, false}) {
            benchmark::RegisterBenchmark(
                ("BM_random_normal/cpu/" + std::string(fast ? "fast" : "ref") + t + dims).c_str(),
                [=](benchmark::State& st) { bm_cpu(st, Fill::Normal, fast, threads, n); })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
        }
        benchmark::RegisterBenchmark(
            ("BM_random_uniform/cpu/fast" + t + dims).c_str(),
            [=](benchmark::State& st) { bm_cpu(st, Fill::Uniform, true, threads, n); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(
            ("BM_random_bits/cpu/fast" + t + dims).c_str(),
            [=](benchmark::State& st) { bm_cpu(st, Fill::Bits, true, threads, n); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    const int64_t n_gpu = int64_t(1) << 24;
    benchmark::RegisterBenchmark(("BM_random_normal/cuda/n:" + std::to_string(n_gpu)).c_str(),
                                 [=](benchmark::State& st) { bm_cuda_normal(st, n_gpu); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    return true;
}

// bench/ is an executable, so this static registration cannot be dropped by the linker.
[[maybe_unused]] const bool registered = register_all();

}  // namespace
