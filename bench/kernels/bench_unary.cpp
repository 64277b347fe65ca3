// Benchmarks of the unary elementwise kernels (kernels/unary.h), forward and backward:
//   BM_unary_<forward|backward>/<cpu|cuda>/<op>/<n>
// Before timing, each benchmark checks its output: the CPU f32 reference against the f64
// reference on the same inputs, the CUDA kernel against the CPU f32 reference (SkipWithError on a
// mismatch). Counter: bytes moved (kernel comment in kernels/cuda/unary.cu) as GB/s. CUDA timing
// uses events around each launch, with the L2 flushed by a memset before it (DESIGN.md §L); the
// CUDA sizes (64M floats = 256 MB per tensor) are several times the H200's 60 MB L2.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/unary.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using kernels::UnaryOp;
using kernels::UnaryParams;

using bench::mismatch;
using bench::random_floats;
using bench::time_it;

struct UnaryBench {
    UnaryParams p;
    float lo, hi;  // input range (positive for log/sqrt/pow)
};

// Runs the kernel under test on tensors that live on the device being timed.
void run(bool gpu, bool backward, const UnaryParams& p, const Tensor& y, const Tensor& dx,
         const Tensor& x, const Tensor& dy) {
    const int64_t n = x.numel();
    if (!gpu) {
        if (backward) {
            kernels::unary_backward_cpu(dx.f32(), dy.f32(), x.f32(), y.f32(), n, p);
        } else {
            kernels::unary_forward_cpu(y.f32(), x.f32(), n, p);
        }
    } else if (backward) {
        OBL_CUDA_ONLY(kernels::unary_backward_cuda(dx.f32(), dy.f32(), x.f32(), y.f32(), n, p,
                                                   cuda_context().stream()));
    } else {
        OBL_CUDA_ONLY(kernels::unary_forward_cuda(y.f32(), x.f32(), n, p, cuda_context().stream()));
    }
}

void bench_unary(benchmark::State& st, UnaryBench b, int64_t n, bool gpu, bool backward) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const UnaryParams p = b.p;
    const Shape s{n};
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    Tensor x_host = Tensor::from_vector(random_floats(n, b.lo, b.hi, 1), s);
    Tensor dy_host = Tensor::from_vector(random_floats(n, -1.f, 1.f, 2), s);
    Tensor x = x_host.to(dev), dy = dy_host.to(dev);
    Tensor y = Tensor::empty(s, DType::F32, dev), dx = Tensor::empty(s, DType::F32, dev);
    run(gpu, false, p, y, dx, x, dy);
    run(gpu, true, p, y, dx, x, dy);

    // The truth: the f64 reference for the CPU kernel, the f32 CPU reference for CUDA.
    const DType ref_type = gpu ? DType::F32 : DType::F64;
    Tensor xr = x_host.to(ref_type), dyr = dy_host.to(ref_type);
    Tensor yr = Tensor::empty(s, ref_type), dxr = Tensor::empty(s, ref_type);
    if (gpu) {
        kernels::unary_forward_cpu(yr.f32(), xr.f32(), n, p);
        kernels::unary_backward_cpu(dxr.f32(), dyr.f32(), xr.f32(), yr.f32(), n, p);
    } else {
        kernels::unary_forward_cpu(yr.f64(), xr.f64(), n, p);
        kernels::unary_backward_cpu(dxr.f64(), dyr.f64(), xr.f64(), yr.f64(), n, p);
    }
    const std::string err =
        backward ? mismatch(dx.to_vector<float>(), dxr.to_vector<double>(), 1e-6, 1e-5)
                 : mismatch(y.to_vector<float>(), yr.to_vector<double>(), 1e-6, 1e-5);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    const bool reads =
        kernels::unary_backward_reads_x(p.op) || kernels::unary_backward_reads_y(p.op);
    const int64_t bytes = (backward && reads ? 12 : 8) * n;
    time_it(st, gpu, bytes, [&] { run(gpu, backward, p, y, dx, x, dy); });
}

void register_all() {
    const std::vector<UnaryBench> ops = {
        {{UnaryOp::Relu}, -3.f, 3.f},
        {{UnaryOp::Gelu}, -3.f, 3.f},
        {{UnaryOp::Sigmoid}, -3.f, 3.f},
        {{UnaryOp::Tanh}, -3.f, 3.f},
        {{UnaryOp::Exp}, -3.f, 3.f},
        {{UnaryOp::Log}, 0.1f, 3.f},
        {{UnaryOp::Pow, 2.5}, 0.1f, 3.f},
        {{UnaryOp::Clamp, -1.0, 1.0}, -3.f, 3.f},
        {{UnaryOp::MulScalar, 0.5}, -3.f, 3.f},
    };
    for (const auto& t : bench::elementwise_targets()) {
        for (bool backward : {false, true}) {
            for (const auto& op : ops) {
                for (int64_t n : t.sizes) {
                    const std::string name =
                        std::string("BM_unary_") + (backward ? "backward/" : "forward/") +
                        t.device + "/" + kernels::unary_op_name(op.p.op) + "/" + bench::size_tag(n);
                    bench::register_bench(name, t.gpu, [=](benchmark::State& st) {
                        bench_unary(st, op, n, t.gpu, backward);
                    });
                }
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
