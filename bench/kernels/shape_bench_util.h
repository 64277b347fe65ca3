// Shared harness of the data-movement benchmarks (bench_concat.cpp, bench_slice.cpp,
// bench_index.cpp, bench_pad.cpp, bench_permute.cpp, bench_interpolate.cpp), DESIGN.md §L.
//
// A benchmark is a KernelCase: host f32 inputs (index tensors ride along as i64), the output
// shape, the bytes one call moves (from the kernel's comment) and `run`, which calls the
// kernel matching the output's device and dtype. bench_cpu validates the f32 reference against
// the f64 reference once, then times; bench_cuda validates against the CPU f32 reference, then
// times with CUDA events around each launch after flushing the L2 (manual time). Both report
// GB/s through SetBytesProcessed. Names: BM_<op>_<dir>/<device>/<dims>.
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

struct KernelCase {
    std::vector<Tensor> inputs;  // on the host: f32 data, i64 indices
    Shape out_shape;
    int64_t bytes = 0;  // moved by one call
    // Runs the kernel for out's device and dtype (inputs on the same device, floats same dtype).
    std::function<void(const Tensor& out, const std::vector<Tensor>& in)> run;
    double cuda_atol = 1e-6, cuda_rtol = 1e-5;  // CUDA vs CPU reference
};
using CaseFactory = std::function<KernelCase()>;

inline Tensor random_tensor(const Shape& s, uint64_t seed) {
    Tensor t = Tensor::empty(s, DType::F32, Device::cpu());
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    float* p = t.f32();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(gen);
    return t;
}

// Index tensor of `shape` with values (i * 2654435761 + 12345) % size: scattered, repeating.
inline Tensor index_tensor(const Shape& shape, int64_t size) {
    Tensor t = Tensor::empty(shape, DType::I64, Device::cpu());
    int64_t* p = t.i64();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = (i * 2654435761LL + 12345) % size;
    return t;
}

inline std::vector<Tensor> converted(const std::vector<Tensor>& in, DType floats, Device dev) {
    std::vector<Tensor> out;
    for (const Tensor& t : in) {
        Tensor u = is_floating(t.dtype()) ? t.to(floats) : t;
        out.push_back(u.to(dev));
    }
    return out;
}

inline bool validate(benchmark::State& st, const Tensor& got, const Tensor& ref, double atol,
                     double rtol) {
    const std::vector<double> a = got.to_vector<double>(), b = ref.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
        if (!(std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i]))) {
            const std::string msg = "mismatch vs reference at " + std::to_string(i) + ": " +
                                    std::to_string(a[i]) + " vs " + std::to_string(b[i]);
            st.SkipWithError(msg.c_str());
            return false;
        }
    }
    return true;
}

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

inline void bench_cuda(benchmark::State& st, const CaseFactory& make) {
#if OBL_WITH_CUDA
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
    // L2 flush: memset a buffer larger than the H200's 60 MB L2 before every timed launch.
    constexpr int64_t kFlushFloats = int64_t(128) << 18;  // 128 MiB
    Tensor flush = Tensor::empty(Shape{kFlushFloats}, DType::F32, Device::cuda());
    cudaStream_t s = cuda_context().stream()->stream;
    for (int i = 0; i < 3; ++i) kc.run(out, in);  // warm-up
    cudaEvent_t start, stop;
    OBL_CUDA_CHECK(cudaEventCreate(&start));
    OBL_CUDA_CHECK(cudaEventCreate(&stop));
    int flip = 0;
    for (auto _ : st) {
        OBL_CUDA_CHECK(cudaMemsetAsync(flush.raw(), ++flip & 0xff, kFlushFloats * 4, s));
        OBL_CUDA_CHECK(cudaEventRecord(start, s));
        kc.run(out, in);
        OBL_CUDA_CHECK(cudaEventRecord(stop, s));
        OBL_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0.f;
        OBL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        st.SetIterationTime(ms / 1e3);
    }
    OBL_CUDA_CHECK(cudaEventDestroy(start));
    OBL_CUDA_CHECK(cudaEventDestroy(stop));
    st.SetBytesProcessed(st.iterations() * kc.bytes);
#else
    (void)make;
    st.SkipWithError("built without CUDA");
#endif
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

inline std::string dims_str(const Shape& s) {
    std::string t;
    for (int i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
    return t;
}

}  // namespace obl::bench
