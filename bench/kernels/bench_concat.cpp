// Benchmarks of kernels/concat.h: concat forward (two inputs along the channel dim, as in a
// DenseNet/U-Net style join) and backward. GB/s from the kernel comment: each call reads and
// writes its input's slab.
#include "bench/bench_util.h"
#include "kernels/concat.h"

namespace obl::bench {
namespace {

// Concat of a and b (both (N, C, H, W)) along dim 1.
CaseFactory concat_case(Shape a, Shape b, bool forward) {
    return [=] {
        KernelCase kc;
        Shape y = a;
        y[1] = a[1] + b[1];
        kernels::ConcatDims da{a[0], a.prod(2, 4), a[1], y[1], 0};
        kernels::ConcatDims db{b[0], b.prod(2, 4), b[1], y[1], a[1]};
        if (forward) {
            kc.inputs = {random_tensor(a, 1), random_tensor(b, 2)};
            kc.out_shape = y;
            kc.run = [da, db](const Tensor& out, const std::vector<Tensor>& in) {
                dispatch(
                    out,
                    [&](auto t) {
                        using T = decltype(t);
                        kernels::concat_forward_cpu<T>(out.data<T>(), in[0].data<T>(), da);
                        kernels::concat_forward_cpu<T>(out.data<T>(), in[1].data<T>(), db);
                    },
                    [&] {
                        OBL_CUDA_ONLY(kernels::concat_forward_cuda(out.f32(), in[0].f32(), da,
                                                                   cuda_context().stream());
                                      kernels::concat_forward_cuda(out.f32(), in[1].f32(), db,
                                                                   cuda_context().stream()));
                    });
            };
        } else {  // backward of input b: the slice of dy at offset C_a
            kc.inputs = {random_tensor(y, 3)};
            kc.out_shape = b;
            kc.run = [db](const Tensor& out, const std::vector<Tensor>& in) {
                dispatch(
                    out,
                    [&](auto t) {
                        using T = decltype(t);
                        kernels::concat_backward_cpu<T>(out.data<T>(), in[0].data<T>(), db);
                    },
                    [&] {
                        OBL_CUDA_ONLY(kernels::concat_backward_cuda(out.f32(), in[0].f32(), db,
                                                                    cuda_context().stream()));
                    });
            };
        }
        kc.bytes = 2 * 4 * (forward ? y.numel() : b.numel());
        return kc;
    };
}

const bool registered = [] {
    const Shape a{32, 64, 56, 56}, b{32, 96, 56, 56};
    const std::string dims = dims_str(a) + "+" + dims_str(b) + "_dim1";
    register_pair("BM_concat_fwd", dims, concat_case(a, b, true));
    register_pair("BM_concat_bwd", dims, concat_case(a, b, false));
    return true;
}();

}  // namespace
}  // namespace obl::bench
