// Benchmarks of kernels/index.h: index_select of rows (an embedding-style lookup) forward and
// backward, gather along dim 1 forward and backward, and scatter_add. Indices repeat and are
// scattered (index_tensor), so backward/scatter passes hit repeated targets. GB/s from the kernel
// comments: data floats + 8-byte indices, atomics counted as a read and a write.
#include "bench/bench_util.h"
#include "kernels/index.h"

namespace obl::bench {
namespace {

CaseFactory index_select_case(int64_t rows, int64_t cols, int64_t picks, bool forward) {
    return [=] {
        kernels::IndexSelectDims d{1, cols, rows, picks};
        KernelCase kc;
        const Shape x{rows, cols}, y{picks, cols};
        kc.inputs = {random_tensor(forward ? x : y, 5), index_tensor({picks}, rows)};
        kc.out_shape = forward ? y : x;
        kc.bytes = forward ? 8 * y.numel() + 8 * picks : 4 * x.numel() + 12 * y.numel() + 8 * picks;
        kc.cuda_atol = 1e-5;  // backward: atomicAdd order
        kc.run = [d, forward](const Tensor& out, const std::vector<Tensor>& in) {
            const int64_t* idx = in[1].i64();
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    forward ? kernels::index_select_forward_cpu<T>(out.data<T>(), in[0].data<T>(),
                                                                   idx, d)
                            : kernels::index_select_backward_cpu<T>(out.data<T>(), in[0].data<T>(),
                                                                    idx, d);
                },
                [&] {
                    OBL_CUDA_ONLY(
                        forward ? kernels::index_select_forward_cuda(out.f32(), in[0].f32(), idx, d,
                                                                     cuda_context().stream())
                                : kernels::index_select_backward_cuda(out.f32(), in[0].f32(), idx,
                                                                      d, cuda_context().stream()));
                });
        };
        return kc;
    };
}

kernels::GatherDims dims2(Shape index, Shape x, Shape src) {
    kernels::GatherDims g;
    g.rank = 2;
    g.dim = 1;
    for (int k = 0; k < 2; ++k) {
        g.index_shape[k] = index[k];
        g.x_shape[k] = x[k];
        g.src_shape[k] = src[k];
    }
    return g;
}

// gather (forward / backward) of x (R, S) along dim 1 with an index (R, J).
CaseFactory gather_case(int64_t r, int64_t s, int64_t j, bool forward) {
    return [=] {
        const Shape x{r, s}, e{r, j};
        const kernels::GatherDims g = dims2(e, x, e);
        KernelCase kc;
        kc.inputs = {random_tensor(forward ? x : e, 6), index_tensor(e, s)};
        kc.out_shape = forward ? e : x;
        kc.bytes = forward ? 16 * e.numel() : 4 * x.numel() + 20 * e.numel();
        kc.cuda_atol = 1e-5;  // backward: atomicAdd order
        kc.run = [g, forward](const Tensor& out, const std::vector<Tensor>& in) {
            const int64_t* idx = in[1].i64();
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    forward
                        ? kernels::gather_forward_cpu<T>(out.data<T>(), in[0].data<T>(), idx, g)
                        : kernels::gather_backward_cpu<T>(out.data<T>(), in[0].data<T>(), idx, g);
                },
                [&] {
                    OBL_CUDA_ONLY(forward
                                      ? kernels::gather_forward_cuda(out.f32(), in[0].f32(), idx, g,
                                                                     cuda_context().stream())
                                      : kernels::gather_backward_cuda(out.f32(), in[0].f32(), idx,
                                                                      g, cuda_context().stream()));
                });
        };
        return kc;
    };
}

// scatter_add forward: base (R, S) += src (R, J) at index (R, J) along dim 1.
CaseFactory scatter_add_case(int64_t r, int64_t s, int64_t j) {
    return [=] {
        const Shape x{r, s}, e{r, j};
        const kernels::GatherDims g = dims2(e, x, e);
        KernelCase kc;
        kc.inputs = {random_tensor(x, 7), index_tensor(e, s), random_tensor(e, 8)};
        kc.out_shape = x;
        kc.bytes = 8 * x.numel() + 20 * e.numel();
        kc.cuda_atol = 1e-5;  // atomicAdd order
        kc.run = [g](const Tensor& out, const std::vector<Tensor>& in) {
            const int64_t* idx = in[1].i64();
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    kernels::scatter_add_forward_cpu<T>(out.data<T>(), in[0].data<T>(), idx,
                                                        in[2].data<T>(), g);
                },
                [&] {
                    OBL_CUDA_ONLY(kernels::scatter_add_forward_cuda(
                        out.f32(), in[0].f32(), idx, in[2].f32(), g, cuda_context().stream()));
                });
        };
        return kc;
    };
}

const bool registered = [] {
    register_pair("BM_index_select_fwd", "20000x512_pick32768",
                  index_select_case(20000, 512, 32768, true));
    register_pair("BM_index_select_bwd", "20000x512_pick32768",
                  index_select_case(20000, 512, 32768, false));
    register_pair("BM_gather_fwd", "4096x4096_dim1_index4096x1024",
                  gather_case(4096, 4096, 1024, true));
    register_pair("BM_gather_bwd", "4096x4096_dim1_index4096x1024",
                  gather_case(4096, 4096, 1024, false));
    register_pair("BM_scatter_add_fwd", "4096x4096_dim1_index4096x1024",
                  scatter_add_case(4096, 4096, 1024));
    return true;
}();

}  // namespace
}  // namespace obl::bench
