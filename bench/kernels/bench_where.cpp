// Benchmarks of where (kernels/where.h), forward and backward (both gradients):
//   BM_where_<forward|backward>/<cpu|cuda>/<n>
// The mask alternates in runs (i % 5 < 2), so both inputs are read. Before timing, each benchmark
// checks its output: the CPU f32 kernel against the f64 reference, the CUDA kernel against the CPU
// f32 reference (SkipWithError on a mismatch). Counter: bytes moved as GB/s (forward 13n: cond,
// a, b in, y out; backward 13n: cond, dy in, da, db out). CUDA timing uses events with the L2
// flushed before each launch (DESIGN.md §L); CUDA size 64M elements.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/where.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using bench::mismatch;
using bench::random_floats;
using bench::time_it;

void run(bool gpu, bool backward, const Tensor& y, const Tensor& da, const Tensor& db,
         const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& dy) {
    const int64_t n = a.numel();
    if (!gpu) {
        if (backward) {
            kernels::where_backward_cpu(da.f32(), db.f32(), dy.f32(), cond.u8(), n);
        } else {
            kernels::where_forward_cpu(y.f32(), cond.u8(), a.f32(), b.f32(), n);
        }
    } else if (backward) {
        OBL_CUDA_ONLY(kernels::where_backward_cuda(da.f32(), db.f32(), dy.f32(), cond.u8(), n,
                                                   cuda_context().stream()));
    } else {
        OBL_CUDA_ONLY(kernels::where_forward_cuda(y.f32(), cond.u8(), a.f32(), b.f32(), n,
                                                  cuda_context().stream()));
    }
}

void bench_where(benchmark::State& st, int64_t n, bool gpu, bool backward) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Shape s{n};
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    std::vector<uint8_t> mask(static_cast<size_t>(n));
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = i % 5 < 2;
    Tensor cond_host = Tensor::from_vector(mask, s);
    Tensor a_host = Tensor::from_vector(random_floats(n, -1.f, 1.f, 1), s);
    Tensor b_host = Tensor::from_vector(random_floats(n, -1.f, 1.f, 2), s);
    Tensor dy_host = Tensor::from_vector(random_floats(n, -1.f, 1.f, 3), s);
    Tensor cond = cond_host.to(dev), a = a_host.to(dev), b = b_host.to(dev), dy = dy_host.to(dev);
    Tensor y = Tensor::empty(s, DType::F32, dev), da = Tensor::empty(s, DType::F32, dev),
           db = Tensor::empty(s, DType::F32, dev);
    run(gpu, false, y, da, db, cond, a, b, dy);
    run(gpu, true, y, da, db, cond, a, b, dy);

    // The truth: the f64 reference (a select is exact, so f32 vs f64 must agree exactly).
    Tensor a64 = a_host.to(DType::F64), b64 = b_host.to(DType::F64), dy64 = dy_host.to(DType::F64);
    Tensor y64 = Tensor::empty(s, DType::F64), da64 = Tensor::empty(s, DType::F64),
           db64 = Tensor::empty(s, DType::F64);
    kernels::where_forward_cpu(y64.f64(), cond_host.u8(), a64.f64(), b64.f64(), n);
    kernels::where_backward_cpu(da64.f64(), db64.f64(), dy64.f64(), cond_host.u8(), n);
    std::string err;
    if (backward) {
        err = mismatch(da.to_vector<float>(), da64.to_vector<double>(), 0, 0);
        if (err.empty()) err = mismatch(db.to_vector<float>(), db64.to_vector<double>(), 0, 0);
    } else {
        err = mismatch(y.to_vector<float>(), y64.to_vector<double>(), 0, 0);
    }
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    time_it(st, gpu, 13 * n, [&] { run(gpu, backward, y, da, db, cond, a, b, dy); });
}

void register_all() {
    for (const auto& t : bench::elementwise_targets()) {
        for (bool backward : {false, true}) {
            for (int64_t n : t.sizes) {
                const std::string name = std::string("BM_where_") +
                                         (backward ? "backward/" : "forward/") + t.device + "/" +
                                         bench::size_tag(n);
                bench::register_bench(name, t.gpu, [=](benchmark::State& st) {
                    bench_where(st, n, t.gpu, backward);
                });
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
