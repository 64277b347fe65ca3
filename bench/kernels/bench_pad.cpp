// Benchmarks of kernels/pad.h: a 1-pixel border around (N, C, H, W) feature maps and CIFAR's
// 4-pixel random-crop padding; forward and backward. GB/s from the kernel comment (forward:
// writes the padded output, reads x; backward: reads and writes dx's size).
#include "bench/bench_util.h"
#include "kernels/pad.h"

namespace obl::bench {
namespace {

CaseFactory pad_case(Shape x, int64_t p, bool forward) {
    return [=] {
        kernels::PadDims d;
        d.rank = x.size();
        Shape y = x;
        for (int k = 0; k < d.rank; ++k) {
            d.x_shape[k] = x[k];
            if (k >= d.rank - 2) {  // pad H and W
                d.lo[k] = d.hi[k] = p;
                y[k] += 2 * p;
            }
        }
        KernelCase kc;
        kc.inputs = {random_tensor(forward ? x : y, 9)};
        kc.out_shape = forward ? y : x;
        kc.bytes = 4 * (forward ? x.numel() + y.numel() : 2 * x.numel());
        kc.run = [d, forward](const Tensor& out, const std::vector<Tensor>& in) {
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    forward ? kernels::pad_forward_cpu<T>(out.data<T>(), in[0].data<T>(), d)
                            : kernels::pad_backward_cpu<T>(out.data<T>(), in[0].data<T>(), d);
                },
                [&] {
                    OBL_CUDA_ONLY(forward ? kernels::pad_forward_cuda(out.f32(), in[0].f32(), d,
                                                                      cuda_context().stream())
                                          : kernels::pad_backward_cuda(out.f32(), in[0].f32(), d,
                                                                       cuda_context().stream()));
                });
        };
        return kc;
    };
}

const bool registered = [] {
    const Shape maps{64, 64, 56, 56}, cifar{256, 3, 32, 32};
    for (bool fwd : {true, false}) {
        const std::string op = fwd ? "BM_pad_fwd" : "BM_pad_bwd";
        register_pair(op, dims_str(maps) + "_hw1", pad_case(maps, 1, fwd));
        register_pair(op, dims_str(cifar) + "_hw4", pad_case(cifar, 4, fwd));
    }
    return true;
}();

}  // namespace
}  // namespace obl::bench
