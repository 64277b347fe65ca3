// Benchmarks of the fused linear-head step (kernels/head_step.h) against the autodiff path the
// methods would otherwise take:
//   BM_head_step/<cpu|cuda>/<fused|ref|autodiff>/<N>x<D>x<K>
// fused     head_step() on the fast CPU path (or the CUDA kernel): logits, mean CE, dW, db in one
//           call;
// ref       head_step() under ReferenceCpuGuard (the unfused reference composition, double sums);
// autodiff  linear -> cross_entropy -> backward with W and b requiring grad (what CeStep runs when
//           the head is not a single Linear).
// One iteration = the loss and the parameter gradients of one batch. Before timing, every path's
// loss, dW and db are checked against the f64 reference (SkipWithError on mismatch). Counters:
// GFLOP/s over the two GEMMs (4 N D K flops) and rows/s. 256x64x10 is one step of the methods on
// a ResNet-20 pre_logits head (single-threaded: below parallel_worth_it); 8192x512x100 a large
// ResNet-18 / CIFAR-100 head batch.
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "nn/autograd.h"
#include "nn/dispatch.h"
#include "nn/ops.h"
#include "unlearn/head_step.h"

namespace obl {
namespace {

using bench::mismatch;

enum class Path { Fused, Ref, Autodiff };
const char* path_name(Path p) {
    return p == Path::Fused ? "fused" : p == Path::Ref ? "ref" : "autodiff";
}

struct Dims {
    int64_t n, d, k;
};

struct Problem {
    Tensor z, w, b, t;
};

Problem make_problem(Dims s, Device dev) {
    Problem p;
    p.z = Tensor::from_vector(bench::random_floats(s.n * s.d, -1.f, 1.f, 1), {s.n, s.d}).to(dev);
    p.w = Tensor::from_vector(bench::random_floats(s.k * s.d, -0.1f, 0.1f, 2), {s.k, s.d}).to(dev);
    p.b = Tensor::from_vector(bench::random_floats(s.k, -0.1f, 0.1f, 3), {s.k}).to(dev);
    std::vector<int64_t> t(static_cast<size_t>(s.n));
    for (int64_t i = 0; i < s.n; ++i) t[static_cast<size_t>(i)] = (i * 7 + 3) % s.k;
    p.t = Tensor::from_vector(t, Shape{s.n}).to(dev);
    p.w.set_requires_grad(true);
    p.b.set_requires_grad(true);
    return p;
}

// loss, dW, db of one step on `path`.
std::vector<Tensor> run(Path path, const Problem& p) {
    switch (path) {
        case Path::Fused: {
            const HeadStepResult r = head_step(p.z, p.w, p.b, p.t);
            return {r.loss, r.grad_weight, r.grad_bias};
        }
        case Path::Ref: {
            ReferenceCpuGuard guard;
            const HeadStepResult r = head_step(p.z, p.w, p.b, p.t);
            return {r.loss, r.grad_weight, r.grad_bias};
        }
        case Path::Autodiff: {
            Tensor(p.w).zero_grad();
            Tensor(p.b).zero_grad();
            const Tensor loss = cross_entropy(linear(p.z, p.w, p.b), p.t);
            backward(loss);
            return {loss.detach(), p.w.grad(), p.b.grad()};
        }
    }
    return {};
}

void bench_head_step(benchmark::State& st, Path path, Dims s, bool gpu) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Problem p = make_problem(s, gpu ? Device::cuda() : Device::cpu());
    const std::vector<Tensor> got = run(path, p);
    const HeadStepResult truth =
        head_step(p.z.cpu().to(DType::F64), p.w.detach().cpu().to(DType::F64),
                  p.b.detach().cpu().to(DType::F64), p.t.cpu());
    const std::vector<Tensor> want = {truth.loss, truth.grad_weight, truth.grad_bias};
    const char* names[] = {"loss", "dW", "db"};
    for (size_t i = 0; i < want.size(); ++i) {
        const std::string err = mismatch(names[i], got[i], want[i], 1e-4, 1e-4);
        if (!err.empty()) {
            st.SkipWithError(err.c_str());
            return;
        }
    }
    const int64_t bytes = 4 * (s.n * s.d + 2 * s.k * s.d + s.n * s.k) + 8 * s.n;
    bench::time_it(st, gpu, bytes, s.n, [&] { run(path, p); });
    bench::gflops_counter(st, 4.0 * s.n * s.d * s.k);
}

std::string tag(Dims s) {
    return std::to_string(s.n) + "x" + std::to_string(s.d) + "x" + std::to_string(s.k);
}

void register_all() {
    for (Dims s : {Dims{256, 64, 10}, Dims{8192, 512, 100}}) {
        for (Path path : {Path::Fused, Path::Ref, Path::Autodiff})
            bench::register_bench(
                std::string("BM_head_step/cpu/") + path_name(path) + "/" + tag(s), false,
                [=](benchmark::State& st) { bench_head_step(st, path, s, false); });
        for (Path path : {Path::Fused, Path::Autodiff})
            bench::register_bench(
                std::string("BM_head_step/cuda/") + path_name(path) + "/" + tag(s), true,
                [=](benchmark::State& st) { bench_head_step(st, path, s, true); });
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
