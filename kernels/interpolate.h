// Bilinear and bicubic resizing of (N, C, H, W) images (nn/ops/shape_ops.h: interpolate). Mirrors
// PyTorch's F.interpolate(mode="bilinear" | "bicubic", align_corners=...), i.e.
// aten/src/ATen/native/UpSample.h (area_pixel_compute_scale, area_pixel_compute_source_index,
// guard_index_and_lambda, cubic_convolution1/2), UpSampleKernel.cpp and the CUDA
// upsample_bilinear2d.cu / upsample_bicubic2d.cu, for output sizes given explicitly (no
// scale_factor).
//
// Shape letters: P = N*C planes, (H, W) the input size, (H', W') the output size. Every output
// pixel is a separable weighted sum of K x K input taps (K = 2 bilinear, K = 4 bicubic):
//
//   forward:   y[p, oy, ox] = sum_{a<K} sum_{b<K} wy[oy][a] wx[ox][b] x[p, iy[oy][a], ix[ox][b]]
//   backward:  dx[p, r, c]  = sum_{oy, ox, a, b : iy[oy][a] = r, ix[ox][b] = c}
//                                 wy[oy][a] wx[ox][b] dy[p, oy, ox]
//
// The taps (i*) and weights (w*) along one axis, for input size n, output size m, output index o:
//   scale = align_corners ? (m > 1 ? (n - 1) / (m - 1) : 0) : n / m
//   src   = align_corners ? scale * o : scale * (o + 0.5) - 0.5
//           bilinear clamps src < 0 to 0; bicubic does NOT clamp src
//   i = min(floor(src), n - 1),  t = clamp(src - i, 0, 1)
//   bilinear: taps (i, i + [i < n - 1]),  weights (1 - t, t)
//   bicubic:  taps clamp(i - 1 + k, 0, n - 1) for k = 0..3 (border replication),
//             weights (W2(t + 1), W1(t), W1(1 - t), W2(2 - t)) with A = -0.75 and the Keys
//             cubic convolution kernel
//               W1(s) = ((A + 2) s - (A + 3)) s^2 + 1           for |s| <= 1
//               W2(s) = ((A s - 5 A) s + 8 A) s - 4 A           for 1 < |s| < 2
//
// Implementations:
//   interpolate_forward_cpu<T>    reference, T = float or double, taps and weights in double.
//                                 Separable, like PyTorch's bicubic (rows first, then columns):
//                                 the taps of every output column and row are computed once per
//                                 call, each plane is resized horizontally into a (H, W') double
//                                 buffer, then vertically (a K-term axpy over contiguous rows,
//                                 which vectorises). OpenMP over planes. This is the path that
//                                 resizes 32x32 CIFAR images to 224x224 for ViT, so it is written
//                                 to be fast, not just correct.
//   interpolate_backward_cpu<T>   the transpose of the same two passes (vertical, then
//                                 horizontal), serial within a plane: deterministic.
//   interpolate_{forward,backward}_cuda   float only, taps and weights in float (PyTorch's
//                                 accscalar_t for float). One thread per output pixel; the
//                                 backward scatters with atomicAdd into a zeroed dx (the
//                                 summation order varies with repeated taps; PyTorch does the
//                                 same).
#pragma once

#include <cstdint>

#include "kernels/common/host_device.h"
#include "kernels/common/stream.h"

namespace obl::kernels {

enum class InterpKind : int { Bilinear = 0, Bicubic = 1 };

struct InterpolateDims {
    int64_t planes = 1;            // P = N*C
    int64_t in_h = 0, in_w = 0;    // H, W (>= 1)
    int64_t out_h = 0, out_w = 0;  // H', W' (>= 1)
    InterpKind kind = InterpKind::Bilinear;
    bool align_corners = false;
};

constexpr int kInterpMaxTaps = 4;
OBL_HD inline int interp_num_taps(InterpKind k) { return k == InterpKind::Bicubic ? 4 : 2; }

// PyTorch's area_pixel_compute_scale (no scale_factor), in the weight type W.
template <class W>
OBL_HD inline W interp_scale(int64_t in, int64_t out, bool align_corners) {
    if (align_corners) return out > 1 ? W(in - 1) / W(out - 1) : W(0);
    return W(in) / W(out);
}

// Taps idx[0..K) and weights w[0..K) of output index `dst` along an axis of input size `in`
// (the formulas in the header comment). Shared by the CPU (W = double) and CUDA (W = float)
// kernels so that both follow one definition; floor and clamps are written out so that the same
// code compiles for host and device.
template <class W>
OBL_HD inline void interp_taps(InterpKind kind, W scale, int64_t dst, int64_t in,
                                      bool align_corners, int64_t* idx, W* w) {
    const bool cubic = kind == InterpKind::Bicubic;
    W src = align_corners ? scale * W(dst) : scale * (W(dst) + W(0.5)) - W(0.5);
    if (!cubic && src < W(0)) src = W(0);
    int64_t i = static_cast<int64_t>(src);  // truncation; fixed up to floor below
    if (W(i) > src) --i;
    if (i > in - 1) i = in - 1;
    W t = src - W(i);
    t = t < W(0) ? W(0) : (t > W(1) ? W(1) : t);
    if (!cubic) {
        idx[0] = i;
        idx[1] = i + (i < in - 1 ? 1 : 0);
        w[0] = W(1) - t;
        w[1] = t;
        return;
    }
    for (int k = 0; k < 4; ++k) {
        const int64_t j = i - 1 + k;
        idx[k] = j < 0 ? 0 : (j > in - 1 ? in - 1 : j);
    }
    const W a = W(-0.75);
    const W s0 = t + W(1), s1 = t, s2 = W(1) - t, s3 = W(2) - t;
    w[0] = ((a * s0 - W(5) * a) * s0 + W(8) * a) * s0 - W(4) * a;  // W2(t + 1)
    w[1] = ((a + W(2)) * s1 - (a + W(3))) * s1 * s1 + W(1);        // W1(t)
    w[2] = ((a + W(2)) * s2 - (a + W(3))) * s2 * s2 + W(1);        // W1(1 - t)
    w[3] = ((a * s3 - W(5) * a) * s3 + W(8) * a) * s3 - W(4) * a;  // W2(2 - t)
}

template <class T>
void interpolate_forward_cpu(T* y, const T* x, InterpolateDims d);
template <class T>
void interpolate_backward_cpu(T* dx, const T* dy, InterpolateDims d);

void interpolate_forward_cuda(float* y, const float* x, InterpolateDims d, Stream s);
void interpolate_backward_cuda(float* dx, const float* dy, InterpolateDims d, Stream s);

}  // namespace obl::kernels
