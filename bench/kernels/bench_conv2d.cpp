// Benchmarks of conv2d (kernels/conv2d.h), forward and backward (dx + dweight + dbias):
//   BM_conv2d_<forward|backward>/<cpu|cuda>/<fast|ref|cudnn|im2col>/N<n>_C<c>_H<h>_W<w>_O<o>_k<k>
// The two shapes the issue asks for are 3x3 convs (padding 1) 16->16 on 128x32x32 and 64->64 on
// 128x8x8 (CIFAR ResNet layer shapes); a small batch also times the plain-loop reference, for
// scale. Before timing, the implementation under test runs on the first two images of the batch
// and is compared with the f64 reference (SkipWithError on a mismatch): the reference is too
// slow to check the whole batch every time. Counters: GFLOP/s (2 flops per multiply-add; the
// backward does twice the forward's work) and %peak, the share of 167 GFLOP/s fp32 per core
// (AVX-512 FMA, DESIGN.md §N) times the OpenMP threads; on CUDA %peak is of the H200's 67 TFLOP/s
// fp32 (non-tensor). CUDA timing: events around each call, L2 flushed before it (DESIGN.md §L).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/common/parallel.h"
#include "kernels/conv2d.h"
#include "nn/cuda_context.h"
#include "nn/tensor.h"

namespace obl {
namespace {

using kernels::Conv2dDims;

enum class Impl { Fast, Ref, Cuda };

#if defined(OBL_WITH_CUDNN) && OBL_WITH_CUDNN
constexpr bool kCudnnBuild = true;  // conv2d_*_cuda is the cuDNN wrapper
#else
constexpr bool kCudnnBuild = false;  // conv2d_*_cuda is the im2col + GEMM fallback
#endif

Tensor random_tensor(const Shape& s, uint64_t seed, DType dtype = DType::F32) {
    return bench::random_tensor(s, seed).to(dtype);
}

// The tensors of one conv call on one device and dtype.
struct Buffers {
    Tensor x, w, b, y, dy, dx, dw, db;
};

Buffers make_buffers(const Conv2dDims& d, DType dtype, Device dev) {
    Buffers t;
    t.x = random_tensor({d.n, d.c, d.h, d.w}, 1, dtype).to(dev);
    t.w = random_tensor({d.o, d.c / d.groups, d.kh, d.kw}, 2, dtype).to(dev);
    t.b = random_tensor({d.o}, 3, dtype).to(dev);
    t.dy = random_tensor({d.n, d.o, d.oh, d.ow}, 4, dtype).to(dev);
    t.y = Tensor::empty(t.dy.shape(), dtype, dev);
    t.dx = Tensor::empty(t.x.shape(), dtype, dev);
    t.dw = Tensor::empty(t.w.shape(), dtype, dev);
    t.db = Tensor::empty(t.b.shape(), dtype, dev);
    return t;
}

void run(Impl impl, bool backward, const Conv2dDims& d, const Buffers& t) {
    switch (impl) {
        case Impl::Fast:
            if (backward) {
                kernels::conv2d_backward_fast_cpu(t.dx.f32(), t.dw.f32(), t.db.f32(), t.dy.f32(),
                                                  t.x.f32(), t.w.f32(), d);
            } else {
                kernels::conv2d_forward_fast_cpu(t.y.f32(), t.x.f32(), t.w.f32(), t.b.f32(), d);
            }
            break;
        case Impl::Ref:
            if (backward) {
                kernels::conv2d_backward_cpu<float>(t.dx.f32(), t.dw.f32(), t.db.f32(), t.dy.f32(),
                                                    t.x.f32(), t.w.f32(), d);
            } else {
                kernels::conv2d_forward_cpu<float>(t.y.f32(), t.x.f32(), t.w.f32(), t.b.f32(), d);
            }
            break;
        case Impl::Cuda:
#if OBL_WITH_CUDA
            if (backward) {
                kernels::conv2d_backward_cuda(t.dx.f32(), t.dw.f32(), t.db.f32(), t.dy.f32(),
                                              t.x.f32(), t.w.f32(), d, cuda_context().stream());
            } else {
                kernels::conv2d_forward_cuda(t.y.f32(), t.x.f32(), t.w.f32(), t.b.f32(), d,
                                             cuda_context().stream());
            }
#endif
            break;
    }
}

// Runs `impl` on the first two images and compares with the f64 reference.
std::string validate(Impl impl, bool backward, Conv2dDims d) {
    d.n = std::min<int64_t>(d.n, 2);
    const Device dev = impl == Impl::Cuda ? Device::cuda() : Device::cpu();
    const Buffers got = make_buffers(d, DType::F32, dev);
    const Buffers ref = make_buffers(d, DType::F64, Device::cpu());
    run(impl, backward, d, got);
    const int64_t k = std::max((d.c / d.groups) * d.kh * d.kw, d.n * d.oh * d.ow);
    const double tol = 1e-4 * std::max(1.0, std::sqrt(static_cast<double>(k) / 100.0));
    if (!backward) {
        kernels::conv2d_forward_cpu<double>(ref.y.f64(), ref.x.f64(), ref.w.f64(), ref.b.f64(), d);
        return bench::mismatch("y", got.y, ref.y, tol, tol);
    }
    kernels::conv2d_backward_cpu<double>(ref.dx.f64(), ref.dw.f64(), ref.db.f64(), ref.dy.f64(),
                                         ref.x.f64(), ref.w.f64(), d);
    std::string err = bench::mismatch("dx", got.dx, ref.dx, tol, tol);
    if (err.empty()) err = bench::mismatch("dweight", got.dw, ref.dw, tol, tol);
    if (err.empty()) err = bench::mismatch("dbias", got.db, ref.db, tol, tol);
    return err;
}

void bench_conv2d(benchmark::State& st, Conv2dDims d, Impl impl, bool backward) {
    const bool gpu = impl == Impl::Cuda;
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const std::string err = validate(impl, backward, d);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    const Buffers t = make_buffers(d, DType::F32, gpu ? Device::cuda() : Device::cpu());
    const double flops = 2.0 * static_cast<double>(kernels::conv2d_macs(d)) * (backward ? 2 : 1);
    const auto launch = [&] { run(impl, backward, d, t); };
    // Timed seconds, for %peak; the CPU warm-up sizes scratch and GEMM pack buffers.
    const double seconds = gpu ? bench::time_cuda(st, launch) : bench::time_cpu(st, launch);
    const double peak = gpu ? bench::kGpuFp32Flops : bench::kCpuFlopsPerCore * num_threads();
    bench::gflops_counter(st, flops);
    bench::peak_percent_counter(st, "%peak", flops, peak, seconds);
}

Conv2dDims square_conv(int64_t n, int64_t c, int64_t hw, int64_t o, int64_t k, int64_t pad) {
    Conv2dDims d;
    d.n = n;
    d.c = c;
    d.h = d.w = hw;
    d.o = o;
    d.kh = d.kw = k;
    d.pad_h = d.pad_w = pad;
    d.oh = kernels::conv2d_out_size(hw, k, 1, pad, 1);
    d.ow = kernels::conv2d_out_size(hw, k, 1, pad, 1);
    return d;
}

std::string tag(const Conv2dDims& d) {
    return "N" + std::to_string(d.n) + "_C" + std::to_string(d.c) + "_H" + std::to_string(d.h) +
           "_W" + std::to_string(d.w) + "_O" + std::to_string(d.o) + "_k" + std::to_string(d.kh);
}

void register_all() {
    struct Target {
        const char* device;
        const char* version;
        Impl impl;
        std::vector<Conv2dDims> shapes;
    };
    const Conv2dDims wide = square_conv(128, 16, 32, 16, 3, 1);  // the two shapes
    const Conv2dDims deep = square_conv(128, 64, 8, 64, 3, 1);
    const Conv2dDims small = square_conv(8, 16, 32, 16, 3, 1);  // reference is timed here only
    const char* cuda_version = kCudnnBuild ? "cudnn" : "im2col";
    const std::vector<Target> targets = {
        {"cpu", "fast", Impl::Fast, {wide, deep, small}},
        {"cpu", "ref", Impl::Ref, {small}},
        {"cuda", cuda_version, Impl::Cuda, {wide, deep}},
    };
    for (const auto& t : targets) {
        for (bool backward : {false, true}) {
            for (const auto& d : t.shapes) {
                const std::string name = std::string("BM_conv2d_") +
                                         (backward ? "backward/" : "forward/") + t.device + "/" +
                                         t.version + "/" + tag(d);
                bench::register_bench(name, t.impl == Impl::Cuda, [=](benchmark::State& st) {
                    bench_conv2d(st, d, t.impl, backward);
                })->Unit(benchmark::kMillisecond);
            }
        }
    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
