// Benchmarks of broadcast_to (forward) and sum_to (backward) (kernels/broadcast.h):
//   BM_broadcast_<forward|backward>/<cpu|cuda>/<small>_to_<big>
// Shapes: a bias row [D] against [N, D] (backward: the bias gradient), and a per-channel [C, 1, 1]
// against [N, C, H, W] (backward: contiguous runs). Before timing, each benchmark checks its
// output: the CPU f32 kernel against the f64 reference, the CUDA kernel against the CPU f32
// reference (SkipWithError on a mismatch). Counter: bytes moved, 4 (|S| + |B|), as GB/s. CUDA
// timing uses events with the L2 flushed before each launch (DESIGN.md §L); CUDA shapes hold 64M
// elements.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/broadcast.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using bench::mismatch;
using bench::random_floats;
using bench::time_it;

// forward: big = broadcast(small); backward: small = sum_to(big).
void run(bool gpu, bool backward, const kernels::BroadcastDims& d, const Tensor& small,
         const Tensor& big) {
    if (!gpu) {
        if (backward) {
            kernels::broadcast_backward_cpu(small.f32(), big.f32(), d);
        } else {
            kernels::broadcast_forward_cpu(big.f32(), small.f32(), d);
        }
    } else if (backward) {
        OBL_CUDA_ONLY(
            kernels::broadcast_backward_cuda(small.f32(), big.f32(), d, cuda_context().stream()));
    } else {
        OBL_CUDA_ONLY(
            kernels::broadcast_forward_cuda(big.f32(), small.f32(), d, cuda_context().stream()));
    }
}

void bench_broadcast(benchmark::State& st, Shape small_shape, Shape big_shape, bool gpu,
                     bool backward) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const auto d = kernels::make_broadcast_dims(small_shape.begin(), small_shape.size(),
                                                big_shape.begin(), big_shape.size());
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    // The input of the direction under test is random; its output is allocated.
    const Shape& in_shape = backward ? big_shape : small_shape;
    const Shape& out_shape = backward ? small_shape : big_shape;
    Tensor in_host = Tensor::from_vector(random_floats(in_shape.numel(), -1.f, 1.f, 1), in_shape);
    Tensor in = in_host.to(dev), out = Tensor::empty(out_shape, DType::F32, dev);
    const Tensor& small = backward ? out : in;
    const Tensor& big = backward ? in : out;
    run(gpu, backward, d, small, big);

    // The truth: the f64 reference for the CPU kernel, the f32 CPU reference for CUDA.
    const DType rt = gpu ? DType::F32 : DType::F64;
    Tensor in_ref = in_host.to(rt), out_ref = Tensor::empty(out_shape, rt);
    if (rt == DType::F64) {
        if (backward) {
            kernels::broadcast_backward_cpu(out_ref.f64(), in_ref.f64(), d);
        } else {
            kernels::broadcast_forward_cpu(out_ref.f64(), in_ref.f64(), d);
        }
    } else if (backward) {
        kernels::broadcast_backward_cpu(out_ref.f32(), in_ref.f32(), d);
    } else {
        kernels::broadcast_forward_cpu(out_ref.f32(), in_ref.f32(), d);
    }
    // sum_to: long sums in double, rounded once; 1e-5 relative covers f32 inputs vs f64.
    const std::string err =
        mismatch(out.to_vector<float>(), out_ref.to_vector<double>(), 1e-5, 1e-5);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    time_it(st, gpu, 4 * (small_shape.numel() + big_shape.numel()),
            [&] { run(gpu, backward, d, small, big); });
}

std::string tag(const Shape& s) {
    std::string t;
    for (int i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
    return t;
}

void register_all() {
    struct Case {
        const char* device;
        bool gpu;
        Shape small, big;
    };
    const std::vector<Case> cases = {
        {"cpu", false, {1024}, {4096, 1024}},
        {"cpu", false, {64, 1, 1}, {64, 64, 32, 32}},
        {"cuda", true, {4096}, {16384, 4096}},
        {"cuda", true, {64, 1, 1}, {256, 64, 64, 64}},
    };
    for (const auto& c : cases) {
        for (bool backward : {false, true}) {
            const std::string name = std::string("BM_broadcast_") +
                                     (backward ? "backward/" : "forward/") + c.device + "/" +
                                     tag(c.small) + "_to_" + tag(c.big);
            bench::register_bench(name, c.gpu, [=](benchmark::State& st) {
                bench_broadcast(st, c.small, c.big, c.gpu, backward);
            });
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
