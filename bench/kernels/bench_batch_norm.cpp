// Benchmarks of batch norm (kernels/batch_norm.h), forward and backward, training and eval:
//   BM_batch_norm_<forward|backward>/<cpu|cuda>/<train|eval>/N<n>_C<c>_H<h>_W<w>
// Shapes: a 64-channel 32x32 CIFAR ResNet activation (CPU) and 56x56 maps of a batch of 128
// (CUDA: 103 MB, several times the H200's 60 MB L2). Before timing, the CPU f32 reference is
// compared with the f64 reference and the CUDA kernel with the CPU f32 reference (SkipWithError
// on a mismatch). Counter: bytes moved, from the kernels' comments (kernels/cuda/batch_norm.cu):
// training forward reads x three times and writes y (16 B per element), eval reads once and
// writes once (8 B), backward reads dy and x twice and writes dx (20 B). CUDA: events around each
// launch, L2 flushed before it (DESIGN.md §L). Each run starts from fresh running statistics.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/batch_norm.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using kernels::BatchNormDims;

using bench::mismatch;
using bench::random_tensor;

struct Buffers {
    Tensor x, w, b, rm, rv, y, mean, invstd, dy, dx, dw, db;
};

Buffers make_buffers(const BatchNormDims& d, DType dtype, Device dev) {
    const Shape xs{d.n, d.c, d.s}, cs{d.c};
    Buffers t;
    t.x = random_tensor(xs, 1).to(dtype).to(dev);
    t.dy = random_tensor(xs, 2).to(dtype).to(dev);
    t.w = random_tensor(cs, 3).to(dtype).to(dev);
    t.b = random_tensor(cs, 4).to(dtype).to(dev);
    t.rm = random_tensor(cs, 5).to(dtype).to(dev);
    t.rv = random_tensor(cs, 6, 0.5f, 1.5f).to(dtype).to(dev);
    t.y = Tensor::empty(xs, dtype, dev);
    t.dx = Tensor::empty(xs, dtype, dev);
    t.mean = Tensor::empty(cs, dtype, dev);
    t.invstd = Tensor::empty(cs, dtype, dev);
    t.dw = Tensor::empty(cs, dtype, dev);
    t.db = Tensor::empty(cs, dtype, dev);
    return t;
}

template <class T>
void run_cpu(bool backward, const BatchNormDims& d, const Buffers& t) {
    if (backward) {
        kernels::batch_norm_backward_cpu<T>(t.dx.data<T>(), t.dw.data<T>(), t.db.data<T>(),
                                            t.dy.data<T>(), t.x.data<T>(), t.w.data<T>(),
                                            t.mean.data<T>(), t.invstd.data<T>(), d);
    } else {
        kernels::batch_norm_forward_cpu<T>(t.y.data<T>(), t.mean.data<T>(), t.invstd.data<T>(),
                                           t.rm.data<T>(), t.rv.data<T>(), t.x.data<T>(),
                                           t.w.data<T>(), t.b.data<T>(), d);
    }
}

void run(bool gpu, bool backward, const BatchNormDims& d, const Buffers& t) {
    if (!gpu) {
        if (t.x.dtype() == DType::F64) {
            run_cpu<double>(backward, d, t);
        } else {
            run_cpu<float>(backward, d, t);
        }
        return;
    }
#if OBL_WITH_CUDA
    const Stream s = cuda_context().stream();
    if (backward) {
        kernels::batch_norm_backward_cuda(t.dx.f32(), t.dw.f32(), t.db.f32(), t.dy.f32(), t.x.f32(),
                                          t.w.f32(), t.mean.f32(), t.invstd.f32(), d, s);
    } else {
        kernels::batch_norm_forward_cuda(t.y.f32(), t.mean.f32(), t.invstd.f32(), t.rm.f32(),
                                         t.rv.f32(), t.x.f32(), t.w.f32(), t.b.f32(), d, s);
    }
#endif
}

void bench_batch_norm(benchmark::State& st, BatchNormDims d, bool gpu, bool backward) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Buffers t = make_buffers(d, DType::F32, gpu ? Device::cuda() : Device::cpu());
    const Buffers ref = make_buffers(d, gpu ? DType::F32 : DType::F64, Device::cpu());
    run(gpu, false, d, t);  // the backward reads the forward's saved statistics
    run(false, false, d, ref);
    std::string err;
    if (backward) {
        run(gpu, true, d, t);
        run(false, true, d, ref);
        err = mismatch("dx", t.dx, ref.dx);
        if (err.empty()) err = mismatch("dweight", t.dw, ref.dw);
        if (err.empty()) err = mismatch("dbias", t.db, ref.db);
    } else {
        err = mismatch("y", t.y, ref.y);
        if (err.empty()) err = mismatch("running_mean", t.rm, ref.rm);
        if (err.empty()) err = mismatch("running_var", t.rv, ref.rv);
    }
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    const int64_t elems = d.n * d.c * d.s;
    const int64_t bytes = (backward ? 20 : d.training ? 16 : 8) * elems;
    bench::time_it(st, gpu, bytes, [&] { run(gpu, backward, d, t); });
}

void register_all() {
    struct Case {
        int64_t n, c, hw;
        bool gpu;
    };
    const std::vector<Case> cases = {{32, 64, 32, false}, {128, 64, 56, true}};
    for (const auto& c : cases) {
        for (bool training : {true, false}) {
            for (bool backward : {false, true}) {
                BatchNormDims d;
                d.n = c.n;
                d.c = c.c;
                d.s = c.hw * c.hw;
                d.training = training;
                const std::string name =
                    std::string("BM_batch_norm_") + (backward ? "backward/" : "forward/") +
                    (c.gpu ? "cuda/" : "cpu/") + (training ? "train/" : "eval/") + "N" +
                    std::to_string(c.n) + "_C" + std::to_string(c.c) + "_H" + std::to_string(c.hw) +
                    "_W" + std::to_string(c.hw);
                bench::register_bench(name, c.gpu, [=](benchmark::State& st) {
                    bench_batch_norm(st, d, c.gpu, backward);
                });
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
