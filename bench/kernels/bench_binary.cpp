// Benchmarks of the binary elementwise kernels on equal shapes (kernels/binary.h):
//   BM_binary_<forward|backward>/<cpu|cuda>/<op>/<n>
// The backward computes both da and db. Before timing, each benchmark checks its output: the CPU
// f32 reference against the f64 reference, the CUDA kernel against the CPU f32 reference
// (SkipWithError on a mismatch). Counter: bytes moved (kernels/cuda/binary.cu) as GB/s. CUDA timing
// uses events with the L2 flushed before each launch (DESIGN.md §L); CUDA sizes are 64M floats.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/binary.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using kernels::BinaryOp;

using bench::mismatch;
using bench::random_floats;
using bench::time_it;

void run(bool gpu, bool backward, BinaryOp op, const Tensor& y, const Tensor& da, const Tensor& db,
         const Tensor& a, const Tensor& b, const Tensor& dy) {
    const int64_t n = a.numel();
    if (!gpu) {
        if (backward) {
            kernels::binary_backward_cpu(da.f32(), db.f32(), dy.f32(), a.f32(), b.f32(), n, op);
        } else {
            kernels::binary_forward_cpu(y.f32(), a.f32(), b.f32(), n, op);
        }
    } else if (backward) {
        OBL_CUDA_ONLY(kernels::binary_backward_cuda(da.f32(), db.f32(), dy.f32(), a.f32(), b.f32(),
                                                    n, op, cuda_context().stream()));
    } else {
        OBL_CUDA_ONLY(kernels::binary_forward_cuda(y.f32(), a.f32(), b.f32(), n, op,
                                                   cuda_context().stream()));
    }
}

template <class T>
std::vector<Tensor> reference(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dy) {
    const int64_t n = a.numel();
    Tensor y = Tensor::empty(a.shape(), a.dtype()), da = Tensor::empty(a.shape(), a.dtype()),
           db = Tensor::empty(a.shape(), a.dtype());
    kernels::binary_forward_cpu(y.data<T>(), a.data<T>(), b.data<T>(), n, op);
    kernels::binary_backward_cpu(da.data<T>(), db.data<T>(), dy.data<T>(), a.data<T>(), b.data<T>(),
                                 n, op);
    return {y, da, db};
}

void bench_binary(benchmark::State& st, BinaryOp op, int64_t n, bool gpu, bool backward) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Shape s{n};
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    // Positive operands keep div and pow well defined.
    Tensor a_host = Tensor::from_vector(random_floats(n, 0.5f, 2.f, 1), s);
    Tensor b_host = Tensor::from_vector(random_floats(n, 0.5f, 2.f, 2), s);
    Tensor dy_host = Tensor::from_vector(random_floats(n, -1.f, 1.f, 3), s);
    Tensor a = a_host.to(dev), b = b_host.to(dev), dy = dy_host.to(dev);
    Tensor y = Tensor::empty(s, DType::F32, dev), da = Tensor::empty(s, DType::F32, dev),
           db = Tensor::empty(s, DType::F32, dev);
    run(gpu, false, op, y, da, db, a, b, dy);
    run(gpu, true, op, y, da, db, a, b, dy);

    // The truth: the f64 reference for the CPU kernel, the f32 CPU reference for CUDA.
    const DType rt = gpu ? DType::F32 : DType::F64;
    const std::vector<Tensor> ref =
        gpu ? reference<float>(op, a_host, b_host, dy_host)
            : reference<double>(op, a_host.to(rt), b_host.to(rt), dy_host.to(rt));
    std::string err;
    if (backward) {
        err = mismatch(da.to_vector<float>(), ref[1].to_vector<double>(), 1e-6, 1e-5);
        if (err.empty())
            err = mismatch(db.to_vector<float>(), ref[2].to_vector<double>(), 1e-6, 1e-5);
    } else {
        err = mismatch(y.to_vector<float>(), ref[0].to_vector<double>(), 1e-6, 1e-5);
    }
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    // forward: a, b in, y out. backward: dy (+ a, b unless add/sub) in, da, db out.
    const bool reads = op != BinaryOp::Add && op != BinaryOp::Sub;
    const int64_t bytes = (backward ? (reads ? 20 : 12) : 12) * n;
    time_it(st, gpu, bytes, [&] { run(gpu, backward, op, y, da, db, a, b, dy); });
}

void register_all() {
    const std::vector<BinaryOp> ops = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div,
                                       BinaryOp::Pow};
    for (const auto& t : bench::elementwise_targets()) {
        for (bool backward : {false, true}) {
            for (BinaryOp op : ops) {
                for (int64_t n : t.sizes) {
                    const std::string name =
                        std::string("BM_binary_") + (backward ? "backward/" : "forward/") +
                        t.device + "/" + kernels::binary_op_name(op) + "/" + bench::size_tag(n);
                    bench::register_bench(name, t.gpu, [=](benchmark::State& st) {
                        bench_binary(st, op, n, t.gpu, backward);
                    });
                }
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
