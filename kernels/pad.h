// Constant padding (nn/ops/shape_ops.h: pad). Mirrors torch.nn.functional.pad(mode="constant")
// with non-negative pads; nn/ops converts PyTorch's pad order ({last_lo, last_hi,
// second_last_lo, ...}) into per-dim lo/hi here.
//
// Shape letters: R the rank, X_d the input sizes, lo_d / hi_d the pads before / after along dim
// d, Y_d = lo_d + X_d + hi_d the output sizes. c = (c_0, ..., c_{R-1}) an output coordinate.
//
//   forward:   y[c]  = x[c - lo]   if 0 <= c_d - lo_d < X_d for every d
//                    = value       otherwise
//   backward:  dx[c] = dy[c + lo]  (the crop of dy; the pad region gets no gradient)
//
// Forward writes prod Y_d elements and reads prod X_d; backward writes and reads prod X_d.
//
// Implementations:
//   pad_{forward,backward}_cpu<T>   reference, T = float or double; one output row (last dim)
//                                   at a time: fill, copy, fill; OpenMP over rows when large.
//   pad_{forward,backward}_cuda     float only; one thread per output element, grid-stride.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct PadDims {
    static constexpr int kMaxRank = 8;
    int rank = 0;                    // R >= 1
    int64_t x_shape[kMaxRank] = {};  // X
    int64_t lo[kMaxRank] = {};       // >= 0
    int64_t hi[kMaxRank] = {};       // >= 0
    double value = 0.0;              // the fill value (cast to the element type)
};

template <class T>
void pad_forward_cpu(T* y, const T* x, PadDims d);
template <class T>
void pad_backward_cpu(T* dx, const T* dy, PadDims d);

void pad_forward_cuda(float* y, const float* x, PadDims d, Stream s);
void pad_backward_cuda(float* dx, const float* dy, PadDims d, Stream s);

}  // namespace obl::kernels
