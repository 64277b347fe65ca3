// Benchmarks of layer norm (kernels/layer_norm.h), forward and backward:
//   BM_layer_norm_<forward|backward>/<cpu|cuda>/R<rows>_D<d>
// Shapes: ViT-B/16 token rows (D = 768): 4096 rows on the CPU, a batch of 128 images x 197 tokens
// on CUDA (77 MB per tensor, above the H200's 60 MB L2). Before timing, the CPU f32 reference is
// compared with the f64 reference and the CUDA kernel with the CPU f32 reference (SkipWithError on
// a mismatch). Counter: bytes moved from memory: forward reads x and writes y (8 B per element; a
// row's second and third passes hit L1), backward reads dy and x twice (once for dx, once for the
// dweight/dbias column sums) and writes dx (20 B per element). CUDA: events around each launch,
// L2 flushed before it (DESIGN.md §L).
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/layer_norm.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using kernels::LayerNormDims;

using bench::mismatch;
using bench::random_tensor;

struct Buffers {
    Tensor x, w, b, y, mean, rstd, dy, dx, dw, db;
};

Buffers make_buffers(const LayerNormDims& d, DType dtype, Device dev) {
    const Shape xs{d.rows, d.d}, ds{d.d}, rs{d.rows};
    Buffers t;
    t.x = random_tensor(xs, 1).to(dtype).to(dev);
    t.dy = random_tensor(xs, 2).to(dtype).to(dev);
    t.w = random_tensor(ds, 3).to(dtype).to(dev);
    t.b = random_tensor(ds, 4).to(dtype).to(dev);
    t.y = Tensor::empty(xs, dtype, dev);
    t.dx = Tensor::empty(xs, dtype, dev);
    t.mean = Tensor::empty(rs, dtype, dev);
    t.rstd = Tensor::empty(rs, dtype, dev);
    t.dw = Tensor::empty(ds, dtype, dev);
    t.db = Tensor::empty(ds, dtype, dev);
    return t;
}

template <class T>
void run_cpu(bool backward, const LayerNormDims& d, const Buffers& t) {
    if (backward) {
        kernels::layer_norm_backward_cpu<T>(t.dx.data<T>(), t.dw.data<T>(), t.db.data<T>(),
                                            t.dy.data<T>(), t.x.data<T>(), t.w.data<T>(),
                                            t.mean.data<T>(), t.rstd.data<T>(), d);
    } else {
        kernels::layer_norm_forward_cpu<T>(t.y.data<T>(), t.mean.data<T>(), t.rstd.data<T>(),
                                           t.x.data<T>(), t.w.data<T>(), t.b.data<T>(), d);
    }
}

void run(bool gpu, bool backward, const LayerNormDims& d, const Buffers& t) {
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
        kernels::layer_norm_backward_cuda(t.dx.f32(), t.dw.f32(), t.db.f32(), t.dy.f32(), t.x.f32(),
                                          t.w.f32(), t.mean.f32(), t.rstd.f32(), d, s);
    } else {
        kernels::layer_norm_forward_cuda(t.y.f32(), t.mean.f32(), t.rstd.f32(), t.x.f32(),
                                         t.w.f32(), t.b.f32(), d, s);
    }
#endif
}

void bench_layer_norm(benchmark::State& st, LayerNormDims d, bool gpu, bool backward) {
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
        err = mismatch("dx", t.dx, ref.dx, 1e-5, 1e-4);
        // dweight/dbias sum over all rows: the reductions tolerance grows with sqrt(rows / 100).
        const double tol = 1e-4 * std::sqrt(static_cast<double>(d.rows) / 100.0);
        if (err.empty()) err = mismatch("dweight", t.dw, ref.dw, tol, tol);
        if (err.empty()) err = mismatch("dbias", t.db, ref.db, tol, tol);
    } else {
        err = mismatch("y", t.y, ref.y, 1e-5, 1e-4);
    }
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    const int64_t bytes = (backward ? 20 : 8) * d.rows * d.d;
    bench::time_it(st, gpu, bytes, [&] { run(gpu, backward, d, t); });
}

void register_all() {
    struct Case {
        int64_t rows, dim;
        bool gpu;
    };
    const std::vector<Case> cases = {{4096, 768, false}, {128 * 197, 768, true}};
    for (const auto& c : cases) {
        for (bool backward : {false, true}) {
            LayerNormDims d;
            d.rows = c.rows;
            d.d = c.dim;
            const std::string name = std::string("BM_layer_norm_") +
                                     (backward ? "backward/" : "forward/") +
                                     (c.gpu ? "cuda/" : "cpu/") + "R" + std::to_string(c.rows) +
                                     "_D" + std::to_string(c.dim);
            bench::register_bench(name, c.gpu, [=](benchmark::State& st) {
                bench_layer_norm(st, d, c.gpu, backward);
            });
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
