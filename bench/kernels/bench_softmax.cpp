// Benchmarks of softmax / log-softmax over the last dim (kernels/softmax.h):
//   BM_<softmax|log_softmax>_<forward|backward>/<cpu|cuda>/<fast|ref|cuda>/<N>x<K>
// Checked before timing: CPU paths against the f64 reference, CUDA against the f32 CPU reference
// (SkipWithError on mismatch). Counters: rows/s and GB/s over the minimum traffic (forward:
// 4·N·K read + 4·N·K written; backward: 8·N·K read + 4·N·K written). CUDA sizes go past the
// H200's 60 MB L2 (65536x1000 floats = 262 MB).
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "kernels/softmax.h"

namespace obl {
namespace {

using kernels::SoftmaxDims;

enum class Path { Fast, Ref, Cuda };
const char* path_name(Path p) { return p == Path::Fast ? "fast" : p == Path::Ref ? "ref" : "cuda"; }

// y = f(x) or dx = f'(dy, y) on one path, in float.
void run(Path path, bool log, bool backward, float* out, const float* a, const float* b,
         SoftmaxDims d) {
    switch (path) {
        case Path::Fast:
            if (backward)
                log ? kernels::log_softmax_backward_fast_cpu(out, a, b, d)
                    : kernels::softmax_backward_fast_cpu(out, a, b, d);
            else
                log ? kernels::log_softmax_forward_fast_cpu(out, a, d)
                    : kernels::softmax_forward_fast_cpu(out, a, d);
            break;
        case Path::Ref:
            if (backward)
                log ? kernels::log_softmax_backward_cpu<float>(out, a, b, d)
                    : kernels::softmax_backward_cpu<float>(out, a, b, d);
            else
                log ? kernels::log_softmax_forward_cpu<float>(out, a, d)
                    : kernels::softmax_forward_cpu<float>(out, a, d);
            break;
        case Path::Cuda: {
            OBL_CUDA_ONLY(const Stream s = cuda_context().stream();
                          if (backward) log ? kernels::log_softmax_backward_cuda(out, a, b, d, s)
                                            : kernels::softmax_backward_cuda(out, a, b, d, s);
                          else log ? kernels::log_softmax_forward_cuda(out, a, d, s)
                                   : kernels::softmax_forward_cuda(out, a, d, s));
            break;
        }
    }
}

// The reference output for the same inputs in `dtype` (y from x; the backward uses y = f(x)).
template <class T>
Tensor reference(bool log, bool backward, const Tensor& x_host, const Tensor& dy_host,
                 SoftmaxDims d) {
    const DType dt = DTypeOf<T>::value;
    const Tensor x = x_host.to(dt), dy = dy_host.to(dt);
    Tensor y = Tensor::empty(x.shape(), dt), dx = Tensor::empty(x.shape(), dt);
    log ? kernels::log_softmax_forward_cpu<T>(y.data<T>(), x.data<T>(), d)
        : kernels::softmax_forward_cpu<T>(y.data<T>(), x.data<T>(), d);
    if (!backward) return y;
    log ? kernels::log_softmax_backward_cpu<T>(dx.data<T>(), dy.data<T>(), y.data<T>(), d)
        : kernels::softmax_backward_cpu<T>(dx.data<T>(), dy.data<T>(), y.data<T>(), d);
    return dx;
}

void bench_softmax(benchmark::State& st, Path path, bool log, bool backward, SoftmaxDims d) {
    const bool gpu = path == Path::Cuda;
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    const Shape shape{d.n, d.k};
    const Tensor x_host = Tensor::from_vector(bench::random_floats(d.n * d.k, -4.f, 4.f, 1), shape);
    const Tensor dy_host =
        Tensor::from_vector(bench::random_floats(d.n * d.k, -1.f, 1.f, 2), shape);
    // The backward's saved output y comes from the f32 reference, on every path alike.
    const Tensor y_host = reference<float>(log, false, x_host, dy_host, d);
    const Tensor x = x_host.to(dev), dy = dy_host.to(dev), y = y_host.to(dev);
    Tensor out = Tensor::empty(shape, DType::F32, dev);
    const float* a = backward ? dy.f32() : x.f32();
    const float* b = backward ? y.f32() : nullptr;
    run(path, log, backward, out.f32(), a, b, d);
    const Tensor ref = gpu ? reference<float>(log, backward, x_host, dy_host, d)
                           : reference<double>(log, backward, x_host, dy_host, d);
    const std::string err = bench::mismatch(backward ? "dx" : "y", out, ref);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    bench::time_it(st, gpu, (backward ? 12 : 8) * d.n * d.k, d.n,
                   [&] { run(path, log, backward, out.f32(), a, b, d); });
}

void register_all() {
    struct Target {
        const char* device;
        std::vector<Path> paths;
        std::vector<SoftmaxDims> dims;
    };
    const std::vector<Target> targets = {
        {"cpu", {Path::Fast, Path::Ref}, {{256, 10}, {4096, 1000}}},
        {"cuda", {Path::Cuda}, {{4096, 1000}, {65536, 1000}, {4096, 32000}}},
    };
    for (const auto& t : targets)
        for (bool log : {false, true})
            for (bool backward : {false, true})
                for (Path path : t.paths)
                    for (SoftmaxDims d : t.dims) {
                        const std::string name =
                            std::string("BM_") + (log ? "log_softmax_" : "softmax_") +
                            (backward ? "backward/" : "forward/") + t.device + "/" +
                            path_name(path) + "/" + bench::dims_tag(d.n, d.k);
                        bench::register_bench(name, path == Path::Cuda, [=](benchmark::State& st) {
                            bench_softmax(st, path, log, backward, d);
                        });
                    }
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
