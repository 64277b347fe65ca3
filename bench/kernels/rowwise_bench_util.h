// Shared helpers for the row-wise kernel benchmarks (bench_reduce, bench_softmax,
// bench_cross_entropy, bench_kl_div): seeded host data, a tolerance check that names the first
// bad element, and one timing loop (CPU: wall clock, as OpenMP threads make the main thread's CPU
// time misleading; CUDA: events around each iteration with the L2 flushed first, DESIGN.md §L).
#pragma once

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

#if OBL_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#endif

namespace obl::bench {

inline std::vector<float> random_floats(int64_t n, float lo, float hi, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(gen);
    return v;
}

// Empty when |got - ref| <= atol + rtol |ref| everywhere (NaN never passes), else a message
// naming `what` and the first bad index.
inline std::string mismatch(const std::string& what, const Tensor& got, const Tensor& ref,
                            double atol = 1e-5, double rtol = 1e-4) {
    const std::vector<double> g = got.to_vector<double>(), r = ref.to_vector<double>();
    if (g.size() != r.size()) return what + ": size mismatch";
    for (size_t i = 0; i < g.size(); ++i) {
        const double err = std::fabs(g[i] - r[i]);
        if (!(err <= atol + rtol * std::fabs(r[i])))
            return what + " mismatch at " + std::to_string(i) + ": " + std::to_string(g[i]) +
                   " vs " + std::to_string(r[i]);
    }
    return "";
}

constexpr int64_t kFlushBytes = 128ll << 20;  // > 2x the H200's 60 MB L2

// Times `launch`; reports `bytes` and `items` (rows) per iteration as rates.
inline void time_it(benchmark::State& st, bool gpu, int64_t bytes, int64_t items,
                    const std::function<void()>& launch) {
    if (!gpu) {
        launch();  // warm-up (first touch, OpenMP team start)
        for (auto _ : st) {
            launch();
            benchmark::ClobberMemory();
        }
    } else {
#if OBL_WITH_CUDA
        cudaStream_t s = cuda_context().stream()->stream;
        Tensor flush = Tensor::empty({kFlushBytes}, DType::U8, Device::cuda());
        cudaEvent_t start, stop;
        OBL_CUDA_CHECK(cudaEventCreate(&start));
        OBL_CUDA_CHECK(cudaEventCreate(&stop));
        launch();  // warm-up
        OBL_CUDA_CHECK(cudaStreamSynchronize(s));
        for (auto _ : st) {
            OBL_CUDA_CHECK(cudaMemsetAsync(flush.raw(), 0, kFlushBytes, s));
            OBL_CUDA_CHECK(cudaEventRecord(start, s));
            launch();
            OBL_CUDA_CHECK(cudaEventRecord(stop, s));
            OBL_CUDA_CHECK(cudaEventSynchronize(stop));
            float ms = 0.f;
            OBL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
            st.SetIterationTime(ms * 1e-3);
        }
        OBL_CUDA_CHECK(cudaEventDestroy(start));
        OBL_CUDA_CHECK(cudaEventDestroy(stop));
#endif
    }
    st.SetBytesProcessed(st.iterations() * bytes);
    st.SetItemsProcessed(st.iterations() * items);
}

// Registers one benchmark with the project's conventions (microseconds; manual time on CUDA,
// real time on the CPU).
template <class F>
void register_bench(const std::string& name, bool gpu, F&& fn) {
    auto* b = benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(fn));
    b->Unit(benchmark::kMicrosecond);
    if (gpu)
        b->UseManualTime();
    else
        b->UseRealTime();
}

inline std::string dims_tag(int64_t n, int64_t k) {
    return std::to_string(n) + "x" + std::to_string(k);
}

}  // namespace obl::bench
