// Whole-model forward throughput (inference: eval mode, NoGradGuard), images/s:
//   BM_forward/<cpu|cuda>/<zoo name>/N<batch>_<H>x<W>
// for cifar_resnet20, cifar_resnet56 and resnet18_cifar at 32x32, batch 256, on 2 OpenMP threads
// on the CPU (the comparison point is bench/models/pytorch_forward.py: the same models in PyTorch
// with torch.set_num_threads(2)). Weights are the zoo's deterministic init with fresh BatchNorm
// statistics; throughput does not depend on the values. Before timing, the fast CPU path runs the
// first two images and is compared with the plain-loop reference (ReferenceCpuGuard), and CUDA
// with the CPU (SkipWithError on a mismatch). Wall-clock time (UseRealTime), since the work runs
// on the OpenMP team; CUDA iterations end with a host copy of the logits, so they are synced.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/common/parallel.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"
#include "nn/ops.h"

namespace obl {
namespace {

constexpr int kCpuThreads = 2;
constexpr int64_t kBatch = 256;

Tensor input_batch(int64_t n, int64_t size) {
    return rand_uniform({n, 3, size, size}, -2.0, 2.0, 42);
}

// Largest |a - b| relative to max(1, |b|).
double max_rel_diff(const Tensor& a, const Tensor& b) {
    const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i)
        worst = std::max(worst, std::fabs(x[i] - y[i]) / std::max(1.0, std::fabs(y[i])));
    return worst;
}

void bench_forward(benchmark::State& st, std::string name, Device dev) {
    if (dev.is_cuda() && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const int threads_before = num_threads();
    if (dev.is_cpu()) set_num_threads(kCpuThreads);
    NoGradGuard no_grad;
    std::shared_ptr<Classifier> model = make_model(name);
    const int64_t size = zoo_entry(name).input_size;

    // Validation on two images: fast CPU path vs the reference, or CUDA vs the CPU.
    const Tensor probe = input_batch(2, size);
    Tensor want;
    {
        ReferenceCpuGuard reference;
        want = model->forward(probe);
    }
    model->to(dev);
    const Tensor got = model->forward(probe.to(dev)).cpu();
    const double err = max_rel_diff(got, want);
    if (!(err <= 1e-3)) {  // conv sums reordered over up to 4,608 terms; observed ~1e-6
        st.SkipWithError(
            ("forward differs from the CPU reference: max rel diff " + std::to_string(err))
                .c_str());
        set_num_threads(threads_before);
        return;
    }

    const Tensor x = input_batch(kBatch, size).to(dev);
    for (auto _ : st) {
        Tensor logits = model->forward(x);
        if (dev.is_cuda()) logits = logits.cpu();  // sync point
        benchmark::DoNotOptimize(logits);
    }
    st.SetItemsProcessed(st.iterations() * kBatch);
    st.counters["img/s"] = benchmark::Counter(static_cast<double>(kBatch),
                                              benchmark::Counter::kIsIterationInvariantRate);
    st.counters["threads"] = dev.is_cpu() ? kCpuThreads : 0;
    st.counters["params"] = static_cast<double>(model->num_parameters());
    set_num_threads(threads_before);
}

void register_all() {
    for (const char* name : {"cifar_resnet20", "cifar_resnet56", "resnet18_cifar"}) {
        const int64_t size = zoo_entry(name).input_size;
        for (Device dev : {Device::cpu(), Device::cuda()}) {
            const std::string label = std::string("BM_forward/") + (dev.is_cpu() ? "cpu" : "cuda") +
                                      "/" + name + "/N" + std::to_string(kBatch) + "_" +
                                      std::to_string(size) + "x" + std::to_string(size);
            benchmark::RegisterBenchmark(label.c_str(), bench_forward, std::string(name), dev)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
