// Optimizer updates (kernels/optim.h) on a ResNet-18-sized parameter vector (11.7M floats).
//   BM_optim_sgd/cpu/ref/threads:T/n:N    momentum + Nesterov + decay; 20 bytes per element
//                                         (read param, grad, buf; write param, buf)
//   BM_optim_adam/cpu/ref/threads:T/n:N   AdamW; 28 bytes per element (read param, grad, m, v;
//                                         write param, m, v)
//   BM_optim_{sgd,adam}/cuda/n:N          CUDA events, same byte counts
// Validation first: one step against a double-precision evaluation of the formula (CPU) or
// against the CPU reference (CUDA), within 1e-6 + 1e-5 |ref|.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/common/parallel.h"
#include "kernels/optim.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

namespace {

constexpr int64_t kResNet18Params = 11689512;

struct State {
    std::vector<float> param, grad, buf, m, v;
};

State make_state(int64_t n) {
    State s;
    s.param.resize(static_cast<size_t>(n));
    s.grad.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        s.param[i] = std::sin(0.001f * static_cast<float>(i % 10007));
        s.grad[i] = std::cos(0.003f * static_cast<float>(i % 9973));
    }
    s.buf.assign(static_cast<size_t>(n), 0.f);
    s.m.assign(static_cast<size_t>(n), 0.f);
    s.v.assign(static_cast<size_t>(n), 0.f);
    return s;
}

obl::kernels::SgdParams sgd_params(int64_t n) {
    obl::kernels::SgdParams p;
    p.n = n;
    p.lr = 0.1;
    p.momentum = 0.9;
    p.weight_decay = 5e-4;
    p.nesterov = true;
    p.first_step = true;
    return p;
}

obl::kernels::AdamParams adam_params(int64_t n) {
    obl::kernels::AdamParams p;
    p.n = n;
    p.lr = 1e-3;
    p.weight_decay = 1e-2;
    p.decoupled = true;
    p.step = 1;
    return p;
}

// First step of each optimizer written out in double for elements [0, len).
bool first_step_valid(bool adam, const State& before, const State& after, int64_t len) {
    for (int64_t i = 0; i < len; ++i) {
        const double w = before.param[i], g = before.grad[i];
        double want;
        if (adam) {  // m_hat = g, v_hat = g^2 at t = 1
            want = w * (1 - 1e-3 * 1e-2) - 1e-3 * g / (std::fabs(g) + 1e-8);
        } else {  // buf = d = g + wd w; Nesterov: d + 0.9 buf = 1.9 d
            want = w - 0.1 * 1.9 * (g + 5e-4 * w);
        }
        if (std::fabs(after.param[i] - want) > 1e-6 + 1e-5 * std::fabs(want)) return false;
    }
    return true;
}

void step_cpu(bool adam, State& s, int64_t n) {
    if (adam) {
        obl::kernels::adam_step_cpu<float>(s.param.data(), s.m.data(), s.v.data(), s.grad.data(),
                                           adam_params(n));
    } else {
        obl::kernels::sgd_step_cpu<float>(s.param.data(), s.buf.data(), s.grad.data(),
                                          sgd_params(n));
    }
}

void bm_cpu(benchmark::State& state, bool adam, int threads, int64_t n) {
    const int saved = obl::num_threads();
    obl::set_num_threads(threads);
    const State before = make_state(n);
    State s = before;
    step_cpu(adam, s, n);
    if (!first_step_valid(adam, before, s, std::min<int64_t>(n, 1 << 16))) {
        state.SkipWithError("first optimizer step differs from the formula");
        obl::set_num_threads(saved);
        return;
    }
    for (auto _ : state) {
        step_cpu(adam, s, n);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * n * (adam ? 28 : 20));
    obl::set_num_threads(saved);
}

void bm_cuda(benchmark::State& state, [[maybe_unused]] bool adam, [[maybe_unused]] int64_t n) {
    if (!obl::cuda_available()) {
        state.SkipWithError("no GPU");
        return;
    }
#if OBL_WITH_CUDA
    using obl::Device;
    using obl::Shape;
    using obl::Tensor;
    obl::Stream st = obl::cuda_context().stream();
    const State before = make_state(n);
    Tensor param = Tensor::from_vector(before.param, Shape{n}, Device::cuda());
    const Tensor grad = Tensor::from_vector(before.grad, Shape{n}, Device::cuda());
    Tensor a = Tensor::zeros(Shape{n}, obl::DType::F32, Device::cuda());
    Tensor b = Tensor::zeros(Shape{n}, obl::DType::F32, Device::cuda());
    auto step = [&] {
        if (adam) {
            obl::kernels::adam_step_cuda(param.f32(), a.f32(), b.f32(), grad.f32(), adam_params(n),
                                         st);
        } else {
            obl::kernels::sgd_step_cuda(param.f32(), a.f32(), grad.f32(), sgd_params(n), st);
        }
    };
    step();
    State ref = before;
    step_cpu(adam, ref, n);
    const std::vector<float> got = param.to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
        if (std::fabs(got[i] - ref.param[i]) > 1e-6 + 1e-5 * std::fabs(ref.param[i])) {
            state.SkipWithError("CUDA optimizer step differs from the CPU reference");
            return;
        }
    }
    // 11.7M parameters move 230-330 MB per step, beyond the 60 MB L2.
    obl::bench::time_cuda(state, step);
    state.SetBytesProcessed(state.iterations() * n * (adam ? 28 : 20));
#endif
}

bool register_all() {
    const int64_t n = kResNet18Params;
    for (bool adam : {false, true}) {
        const std::string name = adam ? "BM_optim_adam" : "BM_optim_sgd";
        for (int threads : {1, 2}) {
            benchmark::RegisterBenchmark(
                (name + "/cpu/ref/threads:" + std::to_string(threads) + "/n:" + std::to_string(n))
                    .c_str(),
                [=](benchmark::State& st) { bm_cpu(st, adam, threads, n); })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
        }
        benchmark::RegisterBenchmark((name + "/cuda/n:" + std::to_string(n)).c_str(),
                                     [=](benchmark::State& st) { bm_cuda(st, adam, n); })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
    }
    return true;
}

// bench/ is an executable, so this static registration cannot be dropped by the linker.
[[maybe_unused]] const bool registered = register_all();

}  // namespace
