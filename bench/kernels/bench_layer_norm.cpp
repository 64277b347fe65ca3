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
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/layer_norm.h"
#include "nn/cuda_context.h"
#include "nn/device.h"
#include "nn/tensor.h"

#if OBL_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#endif

namespace obl {
namespace {

using kernels::LayerNormDims;

constexpr int64_t kFlushBytes = 128ll << 20;  // > 2x the H200's 60 MB L2

Tensor random_tensor(const Shape& s, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<double> v(static_cast<size_t>(s.numel()));
    for (double& x : v) x = u(gen);
    return Tensor::from_vector(v, s);
}

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

std::string mismatch(const char* what, const Tensor& got, const Tensor& ref, double atol,
                     double rtol) {
    const std::vector<double> a = got.to_vector<double>(), b = ref.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
        if (!(std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i])))
            return std::string(what) + " mismatch at " + std::to_string(i) + ": " +
                   std::to_string(a[i]) + " vs " + std::to_string(b[i]);
    }
    return "";
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
    if (!gpu) {
        for (auto _ : st) {
            run(gpu, backward, d, t);
            benchmark::ClobberMemory();
        }
    } else {
#if OBL_WITH_CUDA
        cudaStream_t s = cuda_context().stream()->stream;
        Tensor flush = Tensor::empty({kFlushBytes}, DType::U8, Device::cuda());
        cudaEvent_t start, stop;
        OBL_CUDA_CHECK(cudaEventCreate(&start));
        OBL_CUDA_CHECK(cudaEventCreate(&stop));
        for (int i = 0; i < 3; ++i) run(gpu, backward, d, t);  // warm-up
        OBL_CUDA_CHECK(cudaStreamSynchronize(s));
        for (auto _ : st) {
            OBL_CUDA_CHECK(cudaMemsetAsync(flush.raw(), 0, kFlushBytes, s));
            OBL_CUDA_CHECK(cudaEventRecord(start, s));
            run(gpu, backward, d, t);
            OBL_CUDA_CHECK(cudaEventRecord(stop, s));
            OBL_CUDA_CHECK(cudaEventSynchronize(stop));
            float ms = 0.f;
            OBL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
            st.SetIterationTime(ms * 1e-3);
        }
        OBL_CUDA_CHECK(cudaEventDestroy(start));
        OBL_CUDA_CHECK(cudaEventDestroy(stop));
#endif
    }
    st.SetBytesProcessed(st.iterations() * bytes);
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
            auto* b =
                benchmark::RegisterBenchmark(name.c_str(), bench_layer_norm, d, c.gpu, backward);
            b->Unit(benchmark::kMicrosecond);
            if (c.gpu) {
                b->UseManualTime();
            } else {
                b->UseRealTime();
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
