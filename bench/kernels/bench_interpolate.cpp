// Benchmarks of kernels/interpolate.h: resizing CIFAR batches 256x3x32x32 -> 224x224 for ViT
// (bicubic, as torchvision's ViT transforms, and bilinear), forward and backward. GB/s from the
// kernel comment: each input and output pixel once (taps re-read from cache are not counted).
#include "bench/bench_util.h"
#include "kernels/interpolate.h"

namespace obl::bench {
namespace {

CaseFactory interp_case(Shape x, int64_t oh, int64_t ow, kernels::InterpKind kind,
                        bool align_corners, bool forward) {
    return [=] {
        kernels::InterpolateDims d;
        d.planes = x[0] * x[1];
        d.in_h = x[2];
        d.in_w = x[3];
        d.out_h = oh;
        d.out_w = ow;
        d.kind = kind;
        d.align_corners = align_corners;
        const Shape y{x[0], x[1], oh, ow};
        KernelCase kc;
        kc.inputs = {random_tensor(forward ? x : y, 11)};
        kc.out_shape = forward ? y : x;
        kc.bytes = 4 * (x.numel() + y.numel());
        kc.cuda_atol = 1e-5;  // float weights on CUDA vs double on the CPU; atomics in backward
        kc.run = [d, forward](const Tensor& out, const std::vector<Tensor>& in) {
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    forward
                        ? kernels::interpolate_forward_cpu<T>(out.data<T>(), in[0].data<T>(), d)
                        : kernels::interpolate_backward_cpu<T>(out.data<T>(), in[0].data<T>(), d);
                },
                [&] {
                    OBL_CUDA_ONLY(forward
                                      ? kernels::interpolate_forward_cuda(out.f32(), in[0].f32(), d,
                                                                          cuda_context().stream())
                                      : kernels::interpolate_backward_cuda(
                                            out.f32(), in[0].f32(), d, cuda_context().stream()));
                });
        };
        return kc;
    };
}

const bool registered = [] {
    using kernels::InterpKind;
    const Shape cifar{256, 3, 32, 32};
    const std::string dims = dims_str(cifar) + "_to_224x224";
    register_pair("BM_interpolate_fwd", "bicubic_" + dims,
                  interp_case(cifar, 224, 224, InterpKind::Bicubic, false, true));
    register_pair("BM_interpolate_fwd", "bilinear_" + dims,
                  interp_case(cifar, 224, 224, InterpKind::Bilinear, false, true));
    register_pair("BM_interpolate_bwd", "bicubic_" + dims,
                  interp_case(cifar, 224, 224, InterpKind::Bicubic, false, false));
    register_pair("BM_interpolate_bwd", "bilinear_" + dims,
                  interp_case(cifar, 224, 224, InterpKind::Bilinear, false, false));
    return true;
}();

}  // namespace
}  // namespace obl::bench
