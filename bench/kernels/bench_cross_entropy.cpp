// Benchmarks of the fused softmax-cross-entropy forward + backward (kernels/cross_entropy.h):
//   BM_cross_entropy_fwdbwd/<cpu|cuda>/<fast|ref|cuda>/<N>x<K>         (hard targets, e = 0.1)
//   BM_cross_entropy_soft_fwdbwd/cpu/<fast|ref>/<N>x<K>
// One iteration = the loss AND dlogits for dloss = 1: the CPU fast path is its fused pass plus
// the dloss scaling; the reference (and CUDA) is forward (saving p) + the fused backward.
// Before timing, the result is checked: CPU paths against the f64 reference, CUDA against the f32
// CPU reference (SkipWithError on mismatch). Counters: rows/s (items) and GB/s over the minimum
// traffic, 4·N·K read (logits) + 4·N·K written (dlogits) + 8·N (targets).
// 256x10 is the unlearning head step (thread wake-up would cost more than the work, so it runs
// single-threaded); 4096x200 is threaded.
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "kernels/cross_entropy.h"

namespace obl {
namespace {

using bench::mismatch;
using kernels::CrossEntropyDims;

constexpr float kSmoothing = 0.1f;

enum class Path { Fast, Ref, Cuda };
const char* path_name(Path p) { return p == Path::Fast ? "fast" : p == Path::Ref ? "ref" : "cuda"; }

struct Problem {
    Tensor logits, targets, q, loss, dlogits, saved, dloss;
};

Problem make_problem(CrossEntropyDims d, Device dev, bool soft) {
    Problem p;
    p.logits = Tensor::from_vector(bench::random_floats(d.n * d.k, -4.f, 4.f, 1), {d.n, d.k});
    std::vector<int64_t> t(d.n);
    for (int64_t i = 0; i < d.n; ++i) t[i] = (i * 7 + 3) % d.k;
    p.targets = Tensor::from_vector(t, Shape{d.n});
    if (soft) {
        std::vector<float> q = bench::random_floats(d.n * d.k, 0.f, 1.f, 2);
        for (int64_t r = 0; r < d.n; ++r) {
            float s = 0;
            for (int64_t j = 0; j < d.k; ++j) s += q[r * d.k + j];
            for (int64_t j = 0; j < d.k; ++j) q[r * d.k + j] /= s;
        }
        p.q = Tensor::from_vector(q, {d.n, d.k}).to(dev);
    }
    p.logits = p.logits.to(dev);
    p.targets = p.targets.to(dev);
    p.loss = Tensor::empty({}, DType::F32, dev);
    p.dlogits = Tensor::empty({d.n, d.k}, DType::F32, dev);
    p.saved = Tensor::empty({d.n, d.k}, DType::F32, dev);
    p.dloss = Tensor::ones({}, DType::F32, dev);
    return p;
}

void run(Path path, bool soft, const Problem& p, CrossEntropyDims d) {
    switch (path) {
        case Path::Fast:
            if (soft)
                kernels::cross_entropy_soft_fused_fast_cpu(p.loss.f32(), p.saved.f32(),
                                                           p.logits.f32(), p.q.f32(), d);
            else
                kernels::cross_entropy_fused_fast_cpu(p.loss.f32(), p.saved.f32(), p.logits.f32(),
                                                      p.targets.i64(), d, kSmoothing);
            kernels::cross_entropy_backward_fast_cpu(p.dlogits.f32(), p.dloss.f32(), p.saved.f32(),
                                                     d);
            break;
        case Path::Ref:
            if (soft) {
                kernels::cross_entropy_soft_forward_cpu<float>(p.loss.f32(), p.saved.f32(),
                                                               p.logits.f32(), p.q.f32(), d);
                kernels::cross_entropy_soft_backward_cpu<float>(p.dlogits.f32(), p.dloss.f32(),
                                                                p.saved.f32(), p.q.f32(), d);
            } else {
                kernels::cross_entropy_forward_cpu<float>(
                    p.loss.f32(), p.saved.f32(), p.logits.f32(), p.targets.i64(), d, kSmoothing);
                kernels::cross_entropy_backward_cpu<float>(
                    p.dlogits.f32(), p.dloss.f32(), p.saved.f32(), p.targets.i64(), d, kSmoothing);
            }
            break;
        case Path::Cuda:
            OBL_CUDA_ONLY(kernels::cross_entropy_forward_cuda(p.loss.f32(), p.saved.f32(),
                                                              p.logits.f32(), p.targets.i64(), d,
                                                              kSmoothing, cuda_context().stream());
                          kernels::cross_entropy_backward_cuda(
                              p.dlogits.f32(), p.dloss.f32(), p.saved.f32(), p.targets.i64(), d,
                              kSmoothing, cuda_context().stream()));
            break;
    }
}

// The truth: loss and dlogits from the reference in `dtype` (f64 for CPU paths, f32 for CUDA).
std::pair<Tensor, Tensor> reference(const Problem& gpu_or_cpu, CrossEntropyDims d, bool soft,
                                    DType dtype) {
    const Tensor x = gpu_or_cpu.logits.cpu().to(dtype), t = gpu_or_cpu.targets.cpu();
    Tensor loss = Tensor::empty({}, dtype), p = Tensor::empty({d.n, d.k}, dtype),
           dx = Tensor::empty({d.n, d.k}, dtype), one = Tensor::ones({}, dtype);
    auto go = [&](auto zero) {
        using T = decltype(zero);
        if (soft) {
            const Tensor q = gpu_or_cpu.q.cpu().to(dtype);
            kernels::cross_entropy_soft_forward_cpu<T>(loss.data<T>(), p.data<T>(), x.data<T>(),
                                                       q.data<T>(), d);
            kernels::cross_entropy_soft_backward_cpu<T>(dx.data<T>(), one.data<T>(), p.data<T>(),
                                                        q.data<T>(), d);
        } else {
            kernels::cross_entropy_forward_cpu<T>(loss.data<T>(), p.data<T>(), x.data<T>(), t.i64(),
                                                  d, kSmoothing);
            kernels::cross_entropy_backward_cpu<T>(dx.data<T>(), one.data<T>(), p.data<T>(),
                                                   t.i64(), d, kSmoothing);
        }
    };
    if (dtype == DType::F64)
        go(double{});
    else
        go(float{});
    return {loss, dx};
}

void bench_ce(benchmark::State& st, Path path, bool soft, CrossEntropyDims d) {
    const bool gpu = path == Path::Cuda;
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Problem p = make_problem(d, gpu ? Device::cuda() : Device::cpu(), soft);
    run(path, soft, p, d);
    const auto [loss, dx] = reference(p, d, soft, gpu ? DType::F32 : DType::F64);
    std::string err = mismatch("loss", p.loss, loss);
    if (err.empty()) err = mismatch("dlogits", p.dlogits, dx);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    bench::time_it(st, gpu, 8 * d.n * d.k + 8 * d.n, d.n, [&] { run(path, soft, p, d); });
}

void register_all() {
    for (CrossEntropyDims d :
         {CrossEntropyDims{256, 10}, CrossEntropyDims{4096, 200}, CrossEntropyDims{4096, 1000}}) {
        for (Path path : {Path::Fast, Path::Ref})
            bench::register_bench(std::string("BM_cross_entropy_fwdbwd/cpu/") + path_name(path) +
                                      "/" + bench::dims_tag(d.n, d.k),
                                  false,
                                  [=](benchmark::State& st) { bench_ce(st, path, false, d); });
    }
    for (Path path : {Path::Fast, Path::Ref})
        bench::register_bench(
            std::string("BM_cross_entropy_soft_fwdbwd/cpu/") + path_name(path) + "/4096x200", false,
            [=](benchmark::State& st) {
                bench_ce(st, path, true, CrossEntropyDims{4096, 200});
            });
    for (CrossEntropyDims d :
         {CrossEntropyDims{256, 10}, CrossEntropyDims{4096, 200}, CrossEntropyDims{65536, 1000}})
        bench::register_bench("BM_cross_entropy_fwdbwd/cuda/cuda/" + bench::dims_tag(d.n, d.k),
                              true,
                              [=](benchmark::State& st) { bench_ce(st, Path::Cuda, false, d); });
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
