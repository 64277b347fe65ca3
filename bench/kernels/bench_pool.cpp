// Benchmarks of the pooling kernels (kernels/pool.h), forward and backward:
//   BM_<max_pool2d|avg_pool2d|adaptive_avg_pool2d>_<forward|backward>/<cpu|cuda>/<dims>
// Shapes: the ResNet stem's 3x3 / stride 2 / padding 1 max pool and a 2x2 average pool on
// 64-channel 32x32 maps (CPU) or 112x112 maps (CUDA: 205 MB inputs, several times the H200's
// 60 MB L2), and the global average pool before a classifier head. Before timing, the CPU f32
// reference is compared with the f64 reference and the CUDA kernel with the CPU f32 reference
// (SkipWithError on a mismatch). Counter: bytes moved, as GB/s: forward reads x and writes y (max
// pooling also writes its int64 argmax), backward reads dy (and argmax) and writes dx; re-reads of
// overlapping windows are cache hits and not counted. CUDA: events around each launch, L2 flushed
// before it (DESIGN.md §L).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/pool.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using kernels::Pool2dDims;

using bench::mismatch;
using bench::random_tensor;

enum class Kind { Max, Avg, Adaptive };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Max:
            return "max_pool2d";
        case Kind::Avg:
            return "avg_pool2d";
        case Kind::Adaptive:
            return "adaptive_avg_pool2d";
    }
    return "?";
}

struct Buffers {
    Tensor x, y, argmax, dy, dx;
};

Buffers make_buffers(const Pool2dDims& d, DType dtype, Device dev) {
    Buffers t;
    t.x = random_tensor({d.n, d.c, d.h, d.w}, 1).to(dtype).to(dev);
    t.dy = random_tensor({d.n, d.c, d.oh, d.ow}, 2).to(dtype).to(dev);
    t.y = Tensor::empty(t.dy.shape(), dtype, dev);
    t.dx = Tensor::empty(t.x.shape(), dtype, dev);
    t.argmax = Tensor::empty(t.dy.shape(), DType::I64, dev);
    return t;
}

template <class T>
void run_cpu(Kind k, bool backward, const Pool2dDims& d, const Buffers& t) {
    T* y = t.y.data<T>();
    T* dx = t.dx.data<T>();
    const T* x = t.x.data<T>();
    const T* dy = t.dy.data<T>();
    switch (k) {
        case Kind::Max:
            // The backward needs the forward's argmax: run the forward once before timing.
            if (backward) {
                kernels::max_pool2d_backward_cpu<T>(dx, dy, t.argmax.i64(), d);
            } else {
                kernels::max_pool2d_forward_cpu<T>(y, t.argmax.i64(), x, d);
            }
            break;
        case Kind::Avg:
            if (backward) {
                kernels::avg_pool2d_backward_cpu<T>(dx, dy, d);
            } else {
                kernels::avg_pool2d_forward_cpu<T>(y, x, d);
            }
            break;
        case Kind::Adaptive:
            if (backward) {
                kernels::adaptive_avg_pool2d_backward_cpu<T>(dx, dy, d);
            } else {
                kernels::adaptive_avg_pool2d_forward_cpu<T>(y, x, d);
            }
            break;
    }
}

void run(bool gpu, Kind k, bool backward, const Pool2dDims& d, const Buffers& t) {
    if (!gpu) {
        if (t.x.dtype() == DType::F64) {
            run_cpu<double>(k, backward, d, t);
        } else {
            run_cpu<float>(k, backward, d, t);
        }
        return;
    }
#if OBL_WITH_CUDA
    const Stream s = cuda_context().stream();
    switch (k) {
        case Kind::Max:
            if (backward) {
                kernels::max_pool2d_backward_cuda(t.dx.f32(), t.dy.f32(), t.argmax.i64(), d, s);
            } else {
                kernels::max_pool2d_forward_cuda(t.y.f32(), t.argmax.i64(), t.x.f32(), d, s);
            }
            break;
        case Kind::Avg:
            if (backward) {
                kernels::avg_pool2d_backward_cuda(t.dx.f32(), t.dy.f32(), d, s);
            } else {
                kernels::avg_pool2d_forward_cuda(t.y.f32(), t.x.f32(), d, s);
            }
            break;
        case Kind::Adaptive:
            if (backward) {
                kernels::adaptive_avg_pool2d_backward_cuda(t.dx.f32(), t.dy.f32(), d, s);
            } else {
                kernels::adaptive_avg_pool2d_forward_cuda(t.y.f32(), t.x.f32(), d, s);
            }
            break;
    }
#endif
}

void bench_pool(benchmark::State& st, Kind k, Pool2dDims d, bool gpu, bool backward) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Buffers t = make_buffers(d, DType::F32, gpu ? Device::cuda() : Device::cpu());
    // The truth: the f64 reference for the CPU kernel, the f32 CPU reference for CUDA.
    const Buffers ref = make_buffers(d, gpu ? DType::F32 : DType::F64, Device::cpu());
    run(gpu, k, false, d, t);  // forward first: the max-pool backward reads its argmax
    run(false, k, false, d, ref);
    if (backward) {
        run(gpu, k, true, d, t);
        run(false, k, true, d, ref);
    }
    const std::string err =
        backward ? mismatch("dx", t.dx, ref.dx, 1e-6, 1e-5) : mismatch("y", t.y, ref.y, 1e-6, 1e-5);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    const int64_t in = d.n * d.c * d.h * d.w, out = d.n * d.c * d.oh * d.ow;
    const int64_t idx = k == Kind::Max ? 8 * out : 0;
    const int64_t bytes = 4 * in + 4 * out + idx;
    bench::time_it(st, gpu, bytes, [&] { run(gpu, k, backward, d, t); });
}

Pool2dDims window(int64_t n, int64_t c, int64_t hw, int64_t k, int64_t stride, int64_t pad) {
    Pool2dDims d;
    d.n = n;
    d.c = c;
    d.h = d.w = hw;
    d.kh = d.kw = k;
    d.stride_h = d.stride_w = stride;
    d.pad_h = d.pad_w = pad;
    d.oh = d.ow = kernels::pool2d_out_size(hw, k, stride, pad);
    return d;
}

Pool2dDims adaptive(int64_t n, int64_t c, int64_t hw, int64_t out) {
    Pool2dDims d;
    d.n = n;
    d.c = c;
    d.h = d.w = hw;
    d.oh = d.ow = out;
    return d;
}

std::string tag(const Pool2dDims& d, Kind k) {
    std::string t = "N" + std::to_string(d.n) + "_C" + std::to_string(d.c) + "_H" +
                    std::to_string(d.h) + "_W" + std::to_string(d.w);
    if (k == Kind::Adaptive) return t + "_to" + std::to_string(d.oh) + "x" + std::to_string(d.ow);
    return t + "_k" + std::to_string(d.kh) + "s" + std::to_string(d.stride_h) + "p" +
           std::to_string(d.pad_h);
}

void register_all() {
    struct Case {
        Kind kind;
        Pool2dDims cpu, cuda;
    };
    const std::vector<Case> cases = {
        {Kind::Max, window(32, 64, 32, 3, 2, 1), window(64, 64, 112, 3, 2, 1)},
        {Kind::Avg, window(32, 64, 32, 2, 2, 0), window(64, 64, 112, 2, 2, 0)},
        {Kind::Adaptive, adaptive(32, 512, 7, 1), adaptive(256, 2048, 7, 1)},
    };
    for (const auto& c : cases) {
        for (bool gpu : {false, true}) {
            for (bool backward : {false, true}) {
                const Pool2dDims& d = gpu ? c.cuda : c.cpu;
                const std::string name = std::string("BM_") + kind_name(c.kind) +
                                         (backward ? "_backward/" : "_forward/") +
                                         (gpu ? "cuda/" : "cpu/") + tag(d, c.kind);
                bench::register_bench(name, gpu, [=](benchmark::State& st) {
                    bench_pool(st, c.kind, d, gpu, backward);
                });
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
