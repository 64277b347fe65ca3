// CUDA bilinear/bicubic resize (kernels/interpolate.h), as PyTorch's upsample_bilinear2d.cu and
// upsample_bicubic2d.cu: one thread per output pixel, taps and weights in float from the shared
// interp_taps; the backward scatters with atomicAdd into a zeroed dx.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/interpolate.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // memory-bound: enough warps per SM to hide latency

int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

// Thread i owns y[i] = (p, oy, ox): K row taps and K column taps (K = 2 or 4), then the K x K
// weighted sum, rows first as in PyTorch. Writes P*H'*W' floats; reads K*K floats per output,
// served mostly from L1/L2 when upsampling (each input pixel feeds several outputs).
template <int K>
__global__ void interpolate_forward_kernel(float* y, const float* x, InterpolateDims d,
                                           float scale_h, float scale_w, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t ox = i % d.out_w, oy = (i / d.out_w) % d.out_h, p = i / (d.out_w * d.out_h);
        int64_t iy[kInterpMaxTaps], ix[kInterpMaxTaps];
        float wy[kInterpMaxTaps], wx[kInterpMaxTaps];
        interp_taps<float>(d.kind, scale_h, oy, d.in_h, d.align_corners, iy, wy);
        interp_taps<float>(d.kind, scale_w, ox, d.in_w, d.align_corners, ix, wx);
        const float* plane = x + p * d.in_h * d.in_w;
        float acc = 0.f;
#pragma unroll
        for (int a = 0; a < K; ++a) {
            const float* row = plane + iy[a] * d.in_w;
            float r = 0.f;
#pragma unroll
            for (int b = 0; b < K; ++b) r += wx[b] * row[ix[b]];
            acc += wy[a] * r;
        }
        y[i] = acc;
    }
}

// Thread i owns dy[i] and adds wy[a] * wx[b] * dy[i] into each of its K x K input taps with
// atomicAdd (dx zeroed first). Reads P*H'*W' floats; K*K atomic read-modify-writes per output.
template <int K>
__global__ void interpolate_backward_kernel(float* dx, const float* dy, InterpolateDims d,
                                            float scale_h, float scale_w, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t ox = i % d.out_w, oy = (i / d.out_w) % d.out_h, p = i / (d.out_w * d.out_h);
        int64_t iy[kInterpMaxTaps], ix[kInterpMaxTaps];
        float wy[kInterpMaxTaps], wx[kInterpMaxTaps];
        interp_taps<float>(d.kind, scale_h, oy, d.in_h, d.align_corners, iy, wy);
        interp_taps<float>(d.kind, scale_w, ox, d.in_w, d.align_corners, ix, wx);
        float* plane = dx + p * d.in_h * d.in_w;
        const float g = dy[i];
#pragma unroll
        for (int a = 0; a < K; ++a)
#pragma unroll
            for (int b = 0; b < K; ++b)
                atomicAdd(&plane[iy[a] * d.in_w + ix[b]], wy[a] * wx[b] * g);
    }
}

void check(const InterpolateDims& d) {
    OBL_CHECK(d.planes >= 0 && d.in_h >= 1 && d.in_w >= 1 && d.out_h >= 1 && d.out_w >= 1,
              "interpolate kernel: sizes must be >= 1, got input ", d.in_h, "x", d.in_w,
              ", output ", d.out_h, "x", d.out_w);
}

}  // namespace

void interpolate_forward_cuda(float* y, const float* x, InterpolateDims d, Stream s) {
    check(d);
    const int64_t n = d.planes * d.out_h * d.out_w;
    if (n == 0) return;
    const float sh = interp_scale<float>(d.in_h, d.out_h, d.align_corners);
    const float sw = interp_scale<float>(d.in_w, d.out_w, d.align_corners);
    if (d.kind == InterpKind::Bicubic) {
        interpolate_forward_kernel<4><<<grid_for(n), kBlock, 0, s->stream>>>(y, x, d, sh, sw, n);
    } else {
        interpolate_forward_kernel<2><<<grid_for(n), kBlock, 0, s->stream>>>(y, x, d, sh, sw, n);
    }
    OBL_LAUNCH_CHECK(s->stream);
}

void interpolate_backward_cuda(float* dx, const float* dy, InterpolateDims d, Stream s) {
    check(d);
    const int64_t dx_n = d.planes * d.in_h * d.in_w;
    if (dx_n == 0) return;
    OBL_CUDA_CHECK(cudaMemsetAsync(dx, 0, static_cast<size_t>(dx_n) * sizeof(float), s->stream));
    const int64_t n = d.planes * d.out_h * d.out_w;
    const float sh = interp_scale<float>(d.in_h, d.out_h, d.align_corners);
    const float sw = interp_scale<float>(d.in_w, d.out_w, d.align_corners);
    if (d.kind == InterpKind::Bicubic) {
        interpolate_backward_kernel<4><<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, d, sh, sw, n);
    } else {
        interpolate_backward_kernel<2><<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, d, sh, sw, n);
    }
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
