// Benchmarks of kernels/permute.h: Swin-T's window partition, a 6-D permute of
// (B, H/7, 7, W/7, 7, C) -> (B, H/7, W/7, 7, 7, C) at stage 1 (56x56, C = 96), and the
// transpose of the last two dims of ViT-B tokens (N, 197, 768). GB/s: reads and writes numel.
#include "bench/bench_util.h"
#include "kernels/permute.h"

namespace obl::bench {
namespace {

CaseFactory permute_case(Shape x, std::vector<int> perm, bool forward) {
    return [=] {
        kernels::PermuteDims d;
        d.rank = x.size();
        Shape y;
        for (int k = 0; k < d.rank; ++k) {
            d.x_shape[k] = x[k];
            d.perm[k] = perm[k];
            y.push_back(x[perm[k]]);
        }
        KernelCase kc;
        kc.inputs = {random_tensor(forward ? x : y, 10)};
        kc.out_shape = forward ? y : x;
        kc.bytes = 8 * x.numel();
        kc.run = [d, forward](const Tensor& out, const std::vector<Tensor>& in) {
            dispatch(
                out,
                [&](auto t) {
                    using T = decltype(t);
                    forward ? kernels::permute_forward_cpu<T>(out.data<T>(), in[0].data<T>(), d)
                            : kernels::permute_backward_cpu<T>(out.data<T>(), in[0].data<T>(), d);
                },
                [&] {
                    OBL_CUDA_ONLY(forward
                                      ? kernels::permute_forward_cuda(out.f32(), in[0].f32(), d,
                                                                      cuda_context().stream())
                                      : kernels::permute_backward_cuda(out.f32(), in[0].f32(), d,
                                                                       cuda_context().stream()));
                });
        };
        return kc;
    };
}

const bool registered = [] {
    const Shape window{64, 8, 7, 8, 7, 96}, tokens{64, 197, 768};
    for (bool fwd : {true, false}) {
        const std::string op = fwd ? "BM_permute_fwd" : "BM_permute_bwd";
        register_pair(op, dims_str(window) + "_swin_window",
                      permute_case(window, {0, 1, 3, 2, 4, 5}, fwd));
        register_pair(op, dims_str(tokens) + "_transpose12", permute_case(tokens, {0, 2, 1}, fwd));
    }
    return true;
}();

}  // namespace
}  // namespace obl::bench
