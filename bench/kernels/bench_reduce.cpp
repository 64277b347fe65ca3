// Benchmarks of the reductions (kernels/reduce.h), forward:
//   BM_reduce_forward/<cpu|cuda>/<op>/<O>x<R>x<I>
// op: sum, max, argmax, var. Shapes cover the three CUDA mappings: I = 1 with R <= 1024 (a warp
// per output), I = 1 with R > 1024 (a block per output, e.g. sum_all) and I > 1 (a thread per
// output, e.g. a sum over dim 0). Checked before timing: the f32 CPU reference against the f64 one,
// CUDA against the f32 CPU reference (SkipWithError on mismatch). Counter: GB/s over the input
// read once (4·O·R·I bytes) plus the output.
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "kernels/reduce.h"

namespace obl {
namespace {

using kernels::ReduceDims;
using kernels::ReduceOp;

enum class Kind { Sum, Max, Argmax, Var };
const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Sum:
            return "sum";
        case Kind::Max:
            return "max";
        case Kind::Argmax:
            return "argmax";
        default:
            return "var";
    }
}

template <class T>
void run_cpu(Kind kind, const Tensor& out, const Tensor& x, ReduceDims d) {
    switch (kind) {
        case Kind::Sum:
            kernels::reduce_forward_cpu<T>(out.data<T>(), x.data<T>(), d, ReduceOp::Sum);
            break;
        case Kind::Max:
            kernels::reduce_forward_cpu<T>(out.data<T>(), x.data<T>(), d, ReduceOp::Max);
            break;
        case Kind::Argmax:
            kernels::arg_reduce_cpu<T>(out.i64(), x.data<T>(), d, ReduceOp::Max);
            break;
        case Kind::Var:
            kernels::var_forward_cpu<T>(out.data<T>(), x.data<T>(), d, 1);
            break;
    }
}

void run_cuda([[maybe_unused]] Kind kind, [[maybe_unused]] const Tensor& out,
              [[maybe_unused]] const Tensor& x, [[maybe_unused]] ReduceDims d) {
    OBL_CUDA_ONLY(const Stream s = cuda_context().stream(); switch (kind) {
        case Kind::Sum:
            kernels::reduce_forward_cuda(out.f32(), x.f32(), d, ReduceOp::Sum, s);
            break;
        case Kind::Max:
            kernels::reduce_forward_cuda(out.f32(), x.f32(), d, ReduceOp::Max, s);
            break;
        case Kind::Argmax:
            kernels::arg_reduce_cuda(out.i64(), x.f32(), d, ReduceOp::Max, s);
            break;
        case Kind::Var:
            kernels::var_forward_cuda(out.f32(), x.f32(), d, 1, s);
            break;
    });
}

void bench_reduce(benchmark::State& st, bool gpu, Kind kind, ReduceDims d) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    const int64_t numel = d.outer * d.r * d.inner, outputs = d.outer * d.inner;
    const Tensor x_host = Tensor::from_vector(bench::random_floats(numel, -1.f, 1.f, 1), {numel});
    const Tensor x = x_host.to(dev);
    const DType out_dtype = kind == Kind::Argmax ? DType::I64 : DType::F32;
    Tensor out = Tensor::empty({outputs}, out_dtype, dev);
    auto launch = [&] { gpu ? run_cuda(kind, out, x, d) : run_cpu<float>(kind, out, x, d); };
    launch();
    const DType rt = gpu ? DType::F32 : DType::F64;
    Tensor ref = Tensor::empty({outputs}, kind == Kind::Argmax ? DType::I64 : rt);
    if (gpu)
        run_cpu<float>(kind, ref, x_host, d);
    else
        run_cpu<double>(kind, ref, x_host.to(rt), d);
    const std::string err = bench::mismatch(kind_name(kind), out, ref);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    bench::time_it(st, gpu, 4 * numel + static_cast<int64_t>(dtype_size(out_dtype)) * outputs,
                   outputs, launch);
}

std::string tag(ReduceDims d) {
    return std::to_string(d.outer) + "x" + std::to_string(d.r) + "x" + std::to_string(d.inner);
}

void register_all() {
    // rows of a (4096, 1000) matrix; sum over dim 0 of (1000, 4096); the sum of 16M values.
    const std::vector<ReduceDims> cpu_dims = {{4096, 1000, 1}, {1, 1000, 4096}, {1, 1 << 24, 1}};
    const std::vector<ReduceDims> cuda_dims = {
        {65536, 1000, 1}, {1, 1000, 65536}, {64, 1 << 20, 1}};
    for (bool gpu : {false, true})
        for (Kind kind : {Kind::Sum, Kind::Max, Kind::Argmax, Kind::Var})
            for (ReduceDims d : gpu ? cuda_dims : cpu_dims)
                bench::register_bench(
                    std::string("BM_reduce_forward/") + (gpu ? "cuda/" : "cpu/") + kind_name(kind) +
                        "/" + tag(d),
                    gpu, [=](benchmark::State& st) { bench_reduce(st, gpu, kind, d); });
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
