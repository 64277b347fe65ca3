// The one shared harness of the kernel benchmarks (bench/kernels/bench_*.cpp), DESIGN.md §L:
// seeded host inputs, validation against a reference (SkipWithError on a mismatch: no timing
// without validation), one timing loop (CPU: wall clock, as OpenMP threads make the main thread's
// CPU time misleading; CUDA: events around each launch, warm-up first, the L2 flushed by a memset
// before every timed launch, manual time), GB/s and GFLOP/s counters and percent of the measured
// machine ceilings. Names: BM_<op>_<dir>/<device>/<dims>.
//
// The data-movement benchmarks (concat, slice, index, pad, permute, interpolate) describe each
// problem as a KernelCase and register it with register_pair, which validates and times it on the
// CPU and, in CUDA builds, on the GPU.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
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

// ---- Machine ceilings (DESIGN.md §L, §N) -------------------------------------------------------

constexpr double kGpuBandwidth = 4.3e12;      // H200 device copy, bytes/s (measured)
constexpr double kGpuFp32Flops = 67e12;       // H200 fp32 non-tensor FLOP/s (datasheet)
constexpr double kCpuFlopsPerCore = 167e9;    // fp32 FLOP/s per core, AVX-512 FMA
constexpr double kCpuBandwidth = 11e9;        // DRAM read, bytes/s
constexpr int64_t kFlushBytes = 128ll << 20;  // > 2x the H200's 60 MB L2

// ---- Host inputs
// ---------------------------------------------------------------------------------

inline std::vector<float> random_floats(int64_t n, float lo, float hi, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(gen);
    return v;
}

// Host f32 tensor of `s` with values uniform in [lo, hi).
inline Tensor random_tensor(const Shape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
    return Tensor::from_vector(random_floats(s.numel(), lo, hi, seed), s);
}

// Index tensor of `shape` with values (i * 2654435761 + 12345) % size: scattered, repeating.
inline Tensor index_tensor(const Shape& shape, int64_t size) {
    Tensor t = Tensor::empty(shape, DType::I64, Device::cpu());
    int64_t* p = t.i64();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = (i * 2654435761LL + 12345) % size;
    return t;
}

// ---- Validation
// ----------------------------------------------------------------------------------

// Empty when |got - ref| <= atol + rtol |ref| everywhere (NaN never passes), else a message
// naming `what` (when given) and the first bad index.
inline std::string mismatch(const std::vector<double>& got, const std::vector<double>& ref,
                            double atol, double rtol, const std::string& what = "") {
    const std::string prefix = what.empty() ? "" : what + " ";
    if (got.size() != ref.size()) return prefix + "size mismatch";
    for (size_t i = 0; i < got.size(); ++i) {
        if (!(std::fabs(got[i] - ref[i]) <= atol + rtol * std::fabs(ref[i])))
            return prefix + "mismatch at " + std::to_string(i) + ": " + std::to_string(got[i]) +
                   " vs " + std::to_string(ref[i]);
    }
    return "";
}

inline std::string mismatch(const std::vector<float>& got, const std::vector<double>& ref,
                            double atol, double rtol) {
    return mismatch(std::vector<double>(got.begin(), got.end()), ref, atol, rtol);
}

// Tensor form; the default tolerance is the norms' (DESIGN.md §K).
inline std::string mismatch(const std::string& what, const Tensor& got, const Tensor& ref,
                            double atol = 1e-5, double rtol = 1e-4) {
    return mismatch(got.to_vector<double>(), ref.to_vector<double>(), atol, rtol, what);
}

// True when `err` is empty; otherwise marks the benchmark skipped with it.
inline bool passed(benchmark::State& st, const std::string& err) {
    if (err.empty()) return true;
    st.SkipWithError(err.c_str());
    return false;
}

inline bool validate(benchmark::State& st, const Tensor& got, const Tensor& ref, double atol,
                     double rtol) {
    return passed(st, mismatch("", got, ref, atol, rtol));
}

// ---- Timing
// --------------------------------------------------------------------------------------

// CUDA: `warmup` launches, then per iteration an L2 flush and events around one launch. Returns
// the timed seconds.
inline double time_cuda(benchmark::State& st, const std::function<void()>& launch, int warmup = 3) {
    double seconds = 0;
#if OBL_WITH_CUDA
    cudaStream_t s = cuda_context().stream()->stream;
    Tensor flush = Tensor::empty({kFlushBytes}, DType::U8, Device::cuda());
    cudaEvent_t start, stop;
    OBL_CUDA_CHECK(cudaEventCreate(&start));
    OBL_CUDA_CHECK(cudaEventCreate(&stop));
    for (int i = 0; i < warmup; ++i) launch();
    OBL_CUDA_CHECK(cudaStreamSynchronize(s));
    int flip = 0;
    for (auto _ : st) {
        OBL_CUDA_CHECK(cudaMemsetAsync(flush.raw(), ++flip & 0xff, kFlushBytes, s));
        OBL_CUDA_CHECK(cudaEventRecord(start, s));
        launch();
        OBL_CUDA_CHECK(cudaEventRecord(stop, s));
        OBL_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0.f;
        OBL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        st.SetIterationTime(ms * 1e-3);
        seconds += ms * 1e-3;
    }
    OBL_CUDA_CHECK(cudaEventDestroy(start));
    OBL_CUDA_CHECK(cudaEventDestroy(stop));
#else
    (void)launch;
    (void)warmup;
    st.SkipWithError("built without CUDA");
#endif
    return seconds;
}

// CPU: one warm-up launch (first touch, OpenMP team start), then wall-clock iterations. Returns
// the timed seconds.
inline double time_cpu(benchmark::State& st, const std::function<void()>& launch) {
    launch();
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : st) {
        launch();
        benchmark::ClobberMemory();
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Times `launch` on the CPU or the GPU; reports `bytes` and (when > 0) `items` per iteration as
// rates.
inline void time_it(benchmark::State& st, bool gpu, int64_t bytes, int64_t items,
                    const std::function<void()>& launch) {
    if (gpu) {
        time_cuda(st, launch);
    } else {
        time_cpu(st, launch);
    }
    st.SetBytesProcessed(st.iterations() * bytes);
    if (items > 0) st.SetItemsProcessed(st.iterations() * items);
}

inline void time_it(benchmark::State& st, bool gpu, int64_t bytes,
                    const std::function<void()>& launch) {
    time_it(st, gpu, bytes, 0, launch);
}

// ---- Counters
// ------------------------------------------------------------------------------------

// Sets `name` to `per_iteration` * iterations as a rate (e.g. FLOP per call -> FLOP/s).
inline void rate_counter(benchmark::State& st, const char* name, double per_iteration) {
    st.counters[name] = benchmark::Counter(per_iteration * static_cast<double>(st.iterations()),
                                           benchmark::Counter::kIsRate);
}

inline void gflops_counter(benchmark::State& st, double flops_per_iteration) {
    rate_counter(st, "GFLOP/s", flops_per_iteration * 1e-9);
}

inline void gbps_counter(benchmark::State& st, double bytes_per_iteration) {
    rate_counter(st, "GB/s", bytes_per_iteration * 1e-9);
}

// Percent of `peak` (per second) reached by `amount` per iteration over `seconds` of timed
// iterations (what time_cpu / time_cuda return); a plain value, not a rate.
inline void peak_percent_counter(benchmark::State& st, const char* name,
                                 double amount_per_iteration, double peak, double seconds) {
    if (seconds > 0)
        st.counters[name] =
            100.0 * amount_per_iteration * static_cast<double>(st.iterations()) / seconds / peak;
}

// ---- Registration
// --------------------------------------------------------------------------------

// Registers one benchmark with the project's conventions (microseconds; manual time on CUDA,
// real time on the CPU).
template <class F>
benchmark::internal::Benchmark* register_bench(const std::string& name, bool gpu, F&& fn) {
    auto* b = benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(fn));
    b->Unit(benchmark::kMicrosecond);
    if (gpu) {
        b->UseManualTime();
    } else {
        b->UseRealTime();  // OpenMP kernels: wall time, not the main thread's CPU time
    }
    return b;
}

// n as a count of 2^20 elements: "16M".
inline std::string size_tag(int64_t n) { return std::to_string(n >> 20) + "M"; }

// Where the elementwise benchmarks run, and at which sizes: the CPU at 1M and 16M floats, the GPU
// at 64M (256 MB per tensor, several times the H200's 60 MB L2).
struct SizeTarget {
    const char* device;
    bool gpu;
    std::vector<int64_t> sizes;
};
inline std::vector<SizeTarget> elementwise_targets() {
    return {{"cpu", false, {1 << 20, 16 << 20}}, {"cuda", true, {64 << 20}}};
}

inline std::string dims_tag(int64_t n, int64_t k) {
    return std::to_string(n) + "x" + std::to_string(k);
}

inline std::string dims_str(const Shape& s) {
    std::string t;
    for (int i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
    return t;
}

// ---- Data-movement cases (KernelCase)
// ------------------------------------------------------------

// A problem: host f32 inputs (index tensors ride along as i64), the output shape, the bytes one
// call moves (from the kernel's comment) and `run`, which calls the kernel matching the output's
// device and dtype.
struct KernelCase {
    std::vector<Tensor> inputs;  // on the host: f32 data, i64 indices
    Shape out_shape;
    int64_t bytes = 0;  // moved by one call
    // Runs the kernel for out's device and dtype (inputs on the same device, floats same dtype).
    std::function<void(const Tensor& out, const std::vector<Tensor>& in)> run;
    double cuda_atol = 1e-6, cuda_rtol = 1e-5;  // CUDA vs CPU reference
};
using CaseFactory = std::function<KernelCase()>;

inline std::vector<Tensor> converted(const std::vector<Tensor>& in, DType floats, Device dev) {
    std::vector<Tensor> out;
    for (const Tensor& t : in) {
        Tensor u = is_floating(t.dtype()) ? t.to(floats) : t;
        out.push_back(u.to(dev));
    }
    return out;
}

// CPU: validates the f32 reference against the f64 reference once, then times.
inline void bench_cpu(benchmark::State& st, const CaseFactory& make) {
    const KernelCase kc = make();
    Tensor out = Tensor::empty(kc.out_shape, DType::F32, Device::cpu());
    kc.run(out, kc.inputs);
    {
        const std::vector<Tensor> in64 = converted(kc.inputs, DType::F64, Device::cpu());
        Tensor ref = Tensor::empty(kc.out_shape, DType::F64, Device::cpu());
        kc.run(ref, in64);
        if (!validate(st, out, ref, 1e-6, 1e-5)) return;
    }
    for (auto _ : st) {
        kc.run(out, kc.inputs);
        benchmark::ClobberMemory();
    }
    st.SetBytesProcessed(st.iterations() * kc.bytes);
}

// CUDA: validates against the CPU f32 reference, then times with events (time_cuda).
inline void bench_cuda(benchmark::State& st, const CaseFactory& make) {
    if (!cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const KernelCase kc = make();
    Tensor ref = Tensor::empty(kc.out_shape, DType::F32, Device::cpu());
    kc.run(ref, kc.inputs);
    const std::vector<Tensor> in = converted(kc.inputs, DType::F32, Device::cuda());
    Tensor out = Tensor::empty(kc.out_shape, DType::F32, Device::cuda());
    kc.run(out, in);
    if (!validate(st, out, ref, kc.cuda_atol, kc.cuda_rtol)) return;
    time_cuda(st, [&] { kc.run(out, in); });
    st.SetBytesProcessed(st.iterations() * kc.bytes);
}

// Registers BM_<op>_<dir>/cpu/<dims> and, in CUDA builds, BM_<op>_<dir>/cuda/<dims>.
inline void register_pair(const std::string& op_dir, const std::string& dims,
                          const CaseFactory& make) {
    benchmark::RegisterBenchmark((op_dir + "/cpu/" + dims).c_str(),
                                 [make](benchmark::State& st) { bench_cpu(st, make); })
        ->UseRealTime()  // OpenMP kernels: wall time, not the main thread's CPU time
        ->Unit(benchmark::kMillisecond);
#if OBL_WITH_CUDA
    benchmark::RegisterBenchmark((op_dir + "/cuda/" + dims).c_str(),
                                 [make](benchmark::State& st) { bench_cuda(st, make); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
#endif
}

// Calls the CPU reference for out's dtype or the CUDA kernel: `cpu(T{})` picks the template.
template <class Cpu, class Cuda>
void dispatch(const Tensor& out, Cpu&& cpu, Cuda&& cuda) {
    if (out.device().is_cuda()) {
        cuda();
    } else if (out.dtype() == DType::F64) {
        cpu(double{});
    } else {
        cpu(float{});
    }
}

}  // namespace obl::bench
