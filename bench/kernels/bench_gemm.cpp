// Benchmarks of kernels/gemm.h: our fast CPU SGEMM side by side with OpenBLAS (cblas_sgemm, the
// yardstick; linked into obl_bench only) and, in CUDA builds with a GPU, cuBLAS.
//
// Names: BM_gemm/<device>/<impl>/<M>x<K>x<N>, dims written as a linear layer reads them: rows x
// in x out, i.e. C (M, N) = A (M, K) B (K, N). Square shapes use A and B as stored (NN); the
// skinny shapes are linear heads y = x W^T with W stored (out, in), so B is transposed (NT):
// 256x512x10 (a 10-class head on 512-D embeddings), 8192x512x100, 256x2048x200.
// Counters: GFLOP/s = 2 M N K / time, and %peak against kPeakGflopsPerCore x threads.
// Before timing, each implementation's result is checked against the reference (gemm_cpu, on a
// few row blocks: the full reference of a 2048^3 product would take minutes); SkipWithError on
// a mismatch, so nothing unvalidated is timed (DESIGN.md §L).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/gemm.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

#ifdef OBL_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if OBL_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#endif

namespace obl::bench {
namespace {

using kernels::GemmDims;

// fp32 FMA peak of one core of the benchmark machine (AMD EPYC Zen 4, 2 cores): one 512-bit FMA
// per cycle (Zen 4 splits it over its two 256-bit FMA pipes) = 32 flop/cycle. Measured with an
// FMA-only loop of 24 independent zmm chains: 116 GFLOP/s per core, i.e. ~3.6 GHz. (DESIGN.md
// §N says ~167; OpenBLAS's 97 GFLOP/s per core here would then be 58% of peak, not the quoted
// ~80%, so 116 is the figure consistent with both measurements.)
constexpr double kPeakGflopsPerCore = 116.0;

struct Problem {
    GemmDims d;
    std::vector<float> a, b;
};

Problem make_problem(int64_t m, int64_t k, int64_t n, bool trans_b) {
    Problem p;
    p.d.m = m, p.d.n = n, p.d.k = k, p.d.trans_b = trans_b;
    std::mt19937_64 gen(m * 1000003 + k * 1009 + n);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    p.a.resize(static_cast<size_t>(m * k));
    p.b.resize(static_cast<size_t>(k * n));
    for (auto& x : p.a) x = u(gen);
    for (auto& x : p.b) x = u(gen);
    return p;
}

// Checks rows [0, 8), the middle 8 and the last 8 of c against the reference on those rows
// (A is never transposed here, so a row block of C needs only a row block of A).
bool validate(benchmark::State& st, const Problem& p, const std::vector<float>& c) {
    const GemmDims& d = p.d;
    const double tol = 1e-4 * std::max(1.0, std::sqrt(d.k / 32.0));  // DESIGN.md §K
    for (int64_t r0 : {int64_t(0), d.m / 2, d.m - 8}) {
        const int64_t i0 = std::max<int64_t>(0, std::min(r0, d.m - 8));
        const int64_t rows = std::min<int64_t>(8, d.m - i0);
        GemmDims sub = d;
        sub.m = rows;
        std::vector<float> ref(static_cast<size_t>(rows * d.n));
        kernels::gemm_cpu<float>(ref.data(), p.a.data() + i0 * d.k, p.b.data(), sub);
        for (int64_t i = 0; i < rows * d.n; ++i) {
            const double got = c[i0 * d.n + i], want = ref[i];
            if (!(std::fabs(got - want) <= tol + tol * std::fabs(want))) {
                const std::string msg = "mismatch vs gemm_cpu at row " +
                                        std::to_string(i0 + i / d.n) + ", col " +
                                        std::to_string(i % d.n) + ": " + std::to_string(got) +
                                        " vs " + std::to_string(want);
                st.SkipWithError(msg.c_str());
                return false;
            }
        }
    }
    return true;
}

void set_counters(benchmark::State& st, const GemmDims& d, int threads) {
    const double gflop = 2.0 * d.m * d.n * d.k * 1e-9;
    st.counters["GFLOP/s"] =
        benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
    st.counters["%peak"] = benchmark::Counter(100.0 * gflop / (kPeakGflopsPerCore * threads),
                                              benchmark::Counter::kIsIterationInvariantRate);
    st.counters["threads"] = threads;
}

void bench_ours(benchmark::State& st, int64_t m, int64_t k, int64_t n, bool trans_b) {
    const Problem p = make_problem(m, k, n, trans_b);
    std::vector<float> c(static_cast<size_t>(m * n));
    kernels::gemm_fast_cpu(c.data(), p.a.data(), p.b.data(), p.d);
    if (!validate(st, p, c)) return;
    for (auto _ : st) {
        kernels::gemm_fast_cpu(c.data(), p.a.data(), p.b.data(), p.d);
        benchmark::ClobberMemory();
    }
    set_counters(st, p.d, num_threads());
}

#ifdef OBL_HAVE_OPENBLAS
void openblas_sgemm(float* c, const Problem& p) {
    const GemmDims& d = p.d;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, d.trans_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(d.m), static_cast<int>(d.n), static_cast<int>(d.k), 1.f,
                p.a.data(), static_cast<int>(d.k), p.b.data(),
                static_cast<int>(d.trans_b ? d.k : d.n), 0.f, c, static_cast<int>(d.n));
}

void bench_openblas(benchmark::State& st, int64_t m, int64_t k, int64_t n, bool trans_b) {
    openblas_set_num_threads(num_threads());  // the same thread count as ours
    const Problem p = make_problem(m, k, n, trans_b);
    std::vector<float> c(static_cast<size_t>(m * n));
    openblas_sgemm(c.data(), p);
    if (!validate(st, p, c)) return;
    for (auto _ : st) {
        openblas_sgemm(c.data(), p);
        benchmark::ClobberMemory();
    }
    set_counters(st, p.d, num_threads());
}
#endif

#if OBL_WITH_CUDA
// cuBLAS (pedantic FP32) through gemm_cuda, timed with CUDA events after an L2 flush.
void bench_cublas(benchmark::State& st, int64_t m, int64_t k, int64_t n, bool trans_b) {
    if (!cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Problem p = make_problem(m, k, n, trans_b);
    const Tensor a = Tensor::from_vector(p.a, {m, k}, Device::cuda());
    const Tensor b = Tensor::from_vector(p.b, trans_b ? Shape{n, k} : Shape{k, n}, Device::cuda());
    const Tensor c = Tensor::empty({m, n}, DType::F32, Device::cuda());
    const Stream s = cuda_context().stream();
    kernels::gemm_cuda(c.f32(), a.f32(), b.f32(), p.d, 1.f, 0.f, s);
    if (!validate(st, p, c.to_vector<float>())) return;
    constexpr int64_t kFlushFloats = int64_t(128) << 18;  // 128 MiB > the H200's 60 MB L2
    const Tensor flush = Tensor::empty(Shape{kFlushFloats}, DType::F32, Device::cuda());
    for (int i = 0; i < 3; ++i) kernels::gemm_cuda(c.f32(), a.f32(), b.f32(), p.d, 1.f, 0.f, s);
    cudaEvent_t start, stop;
    OBL_CUDA_CHECK(cudaEventCreate(&start));
    OBL_CUDA_CHECK(cudaEventCreate(&stop));
    int flip = 0;
    for (auto _ : st) {
        OBL_CUDA_CHECK(cudaMemsetAsync(flush.raw(), ++flip & 0xff, kFlushFloats * 4, s->stream));
        OBL_CUDA_CHECK(cudaEventRecord(start, s->stream));
        kernels::gemm_cuda(c.f32(), a.f32(), b.f32(), p.d, 1.f, 0.f, s);
        OBL_CUDA_CHECK(cudaEventRecord(stop, s->stream));
        OBL_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0.f;
        OBL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        st.SetIterationTime(ms / 1e3);
    }
    OBL_CUDA_CHECK(cudaEventDestroy(start));
    OBL_CUDA_CHECK(cudaEventDestroy(stop));
    const double gflop = 2.0 * m * n * k * 1e-9;
    st.counters["GFLOP/s"] =
        benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
}
#endif

const bool registered = [] {
    struct Shape3 {
        int64_t m, k, n;
        bool trans_b;
    };
    const Shape3 shapes[] = {{256, 256, 256, false},    {512, 512, 512, false},
                             {1024, 1024, 1024, false}, {2048, 2048, 2048, false},
                             {256, 512, 10, true},      {8192, 512, 100, true},
                             {256, 2048, 200, true}};
    for (const Shape3& s : shapes) {
        const std::string dims =
            std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n);
        const int64_t m = s.m, k = s.k, n = s.n;
        const bool tb = s.trans_b;
        benchmark::RegisterBenchmark(("BM_gemm/cpu/ours/" + dims).c_str(),
                                     [=](benchmark::State& st) { bench_ours(st, m, k, n, tb); })
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
#ifdef OBL_HAVE_OPENBLAS
        benchmark::RegisterBenchmark(("BM_gemm/cpu/openblas/" + dims).c_str(),
                                     [=](benchmark::State& st) { bench_openblas(st, m, k, n, tb); })
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
#endif
#if OBL_WITH_CUDA
        benchmark::RegisterBenchmark(("BM_gemm/cuda/cublas/" + dims).c_str(),
                                     [=](benchmark::State& st) { bench_cublas(st, m, k, n, tb); })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
#endif
    }
    return true;
}();

}  // namespace
}  // namespace obl::bench
