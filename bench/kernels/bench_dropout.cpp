// Inverted dropout (kernels/dropout.h): forward on the CPU reference (1 and 2 threads) and CUDA.
//   BM_dropout_forward/cpu/ref/threads:T/n:N   GB/s from 8 bytes per element (read x, write y)
//   BM_dropout_forward/cuda/n:N                CUDA events, same byte count
// Validation first: the kept elements must be exactly those with Philox uniform u >= p, scaled
// by 1/(1-p); the CUDA output must equal the CPU reference bit for bit.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/common/parallel.h"
#include "kernels/dropout.h"
#include "kernels/random.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

namespace {

using obl::kernels::DropoutDims;

constexpr double kP = 0.3;
constexpr uint64_t kSeed = 77;

std::vector<float> make_input(int64_t n) {
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[i] = 0.5f + static_cast<float>(i % 97) / 97.f;  // nonzero
    return x;
}

// Checks y against the definition on the first `len` elements.
bool valid(const std::vector<float>& x, const std::vector<float>& y, int64_t len) {
    std::vector<float> u(static_cast<size_t>(len));
    obl::kernels::fill_uniform_cpu<float>(u.data(), {len, kSeed, 0}, 0, 1);
    for (int64_t i = 0; i < len; ++i) {
        const float want = u[i] >= kP ? static_cast<float>(x[i] * (1 / (1 - kP))) : 0.f;
        if (y[i] != want) return false;
    }
    return true;
}

void bm_cpu(benchmark::State& state, int threads, int64_t n) {
    const int saved = obl::num_threads();
    obl::set_num_threads(threads);
    const std::vector<float> x = make_input(n);
    std::vector<float> y(static_cast<size_t>(n));
    const DropoutDims d{n, kP, kSeed};
    obl::kernels::dropout_forward_cpu<float>(y.data(), x.data(), d);
    if (!valid(x, y, std::min<int64_t>(n, 1 << 16))) {
        state.SkipWithError("dropout mask or scale differs from the definition");
        obl::set_num_threads(saved);
        return;
    }
    for (auto _ : state) {
        obl::kernels::dropout_forward_cpu<float>(y.data(), x.data(), d);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * n * 8);
    obl::set_num_threads(saved);
}

void bm_cuda(benchmark::State& state, [[maybe_unused]] int64_t n) {
    if (!obl::cuda_available()) {
        state.SkipWithError("no GPU");
        return;
    }
#if OBL_WITH_CUDA
    obl::Stream s = obl::cuda_context().stream();
    const std::vector<float> xh = make_input(n);
    const obl::Tensor x = obl::Tensor::from_vector(xh, obl::Shape{n}, obl::Device::cuda());
    obl::Tensor y = obl::Tensor::empty(obl::Shape{n}, obl::DType::F32, obl::Device::cuda());
    const DropoutDims d{n, kP, kSeed};
    obl::kernels::dropout_forward_cuda(y.f32(), x.f32(), d, s);
    const std::vector<float> got = y.to_vector<float>();
    std::vector<float> ref(static_cast<size_t>(n));
    obl::kernels::dropout_forward_cpu<float>(ref.data(), xh.data(), d);
    if (got != ref) {
        state.SkipWithError("CUDA dropout differs from the CPU reference");
        return;
    }
    // 2^26 elements move 512 MB per call, far beyond the 60 MB L2.
    obl::bench::time_cuda(state,
                          [&] { obl::kernels::dropout_forward_cuda(y.f32(), x.f32(), d, s); });
    state.SetBytesProcessed(state.iterations() * n * 8);
#endif
}

bool register_all() {
    const int64_t n = int64_t(1) << 22;
    for (int threads : {1, 2}) {
        benchmark::RegisterBenchmark(("BM_dropout_forward/cpu/ref/threads:" +
                                      std::to_string(threads) + "/n:" + std::to_string(n))
                                         .c_str(),
                                     [=](benchmark::State& st) { bm_cpu(st, threads, n); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    const int64_t n_gpu = int64_t(1) << 26;
    benchmark::RegisterBenchmark(("BM_dropout_forward/cuda/n:" + std::to_string(n_gpu)).c_str(),
                                 [=](benchmark::State& st) { bm_cuda(st, n_gpu); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    return true;
}

// bench/ is an executable, so this static registration cannot be dropped by the linker.
[[maybe_unused]] const bool registered = register_all();

}  // namespace
