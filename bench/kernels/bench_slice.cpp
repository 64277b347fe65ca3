// Benchmarks of kernels/slice.h: dropping ViT's CLS token, x[:, 1:, :] of (N, 197, 768), and a
// stride-2 slice along the channels of an NCHW map; forward and backward. GB/s from the kernel
// comment (forward: reads + writes the output; backward: writes dx, reads dy).
#include "bench/bench_util.h"
#include "kernels/slice.h"

namespace obl::bench {
namespace {

CaseFactory slice_case(Shape x, int dim, int64_t start, int64_t end, int64_t step, bool forward) {
    return [=] {
        kernels::SliceDims d;
        d.outer = x.prod(0, dim);
        d.inner = x.prod(dim + 1, x.size());
        d.x_size = x[dim];
        d.y_size = (end - start + step - 1) / step;
        d.start = start;
        d.step = step;
        Shape y = x;
        y[dim] = d.y_size;
        KernelCase kc;
        kc.inputs = {random_tensor(forward ? x : y, 4)};
        kc.out_shape = forward ? y : x;
        kc.bytes = 4 * (forward ? 2 * y.numel() : x.numel() + y.numel());
        kc.run = [d, forward](const Tensor& out, const std::vector<Tensor>& in) {
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    forward ? kernels::slice_forward_cpu<T>(out.data<T>(), in[0].data<T>(), d)
                            : kernels::slice_backward_cpu<T>(out.data<T>(), in[0].data<T>(), d);
                },
                [&] {
                    OBL_CUDA_ONLY(forward ? kernels::slice_forward_cuda(out.f32(), in[0].f32(), d,
                                                                        cuda_context().stream())
                                          : kernels::slice_backward_cuda(out.f32(), in[0].f32(), d,
                                                                         cuda_context().stream()));
                });
        };
        return kc;
    };
}

const bool registered = [] {
    const Shape tokens{128, 197, 768}, maps{32, 256, 56, 56};
    for (bool fwd : {true, false}) {
        const std::string op = fwd ? "BM_slice_fwd" : "BM_slice_bwd";
        register_pair(op, dims_str(tokens) + "_dim1_1to197", slice_case(tokens, 1, 1, 197, 1, fwd));
        register_pair(op, dims_str(maps) + "_dim1_step2", slice_case(maps, 1, 0, 256, 2, fwd));
    }
    return true;
}();

}  // namespace
}  // namespace obl::bench
