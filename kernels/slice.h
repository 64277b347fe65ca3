// Strided slice along one dim (nn/ops/shape_ops.h: slice). Mirrors x[..., start:end:step, ...]
// (torch.Tensor.__getitem__ / aten::slice), but the result is a fresh contiguous tensor.
//
// Shape letters: x is viewed as (O, S, I) and y as (O, J, I): O = product of the dims before
// `dim`, S = x's size along dim, J = ceil((end - start) / step) the output's size along dim,
// I = product of the dims after dim.
//
//   forward:   y[o, j, i]  = x[o, start + j*step, i]                        j < J
//   backward:  dx[o, s, i] = dy[o, (s - start) / step, i]   if s >= start, (s - start) % step == 0
//                                                           and (s - start) / step < J
//                          = 0                              otherwise
//
// The backward is written as a gather over dx, so it writes every element of dx (no separate
// zero fill, no scatter). Forward reads and writes O*J*I elements; backward writes O*S*I and
// reads O*J*I.
//
// Implementations:
//   slice_{forward,backward}_cpu<T>   reference, T = float or double; OpenMP over (o, s) rows.
//   slice_{forward,backward}_cuda     float only; one thread per output element, grid-stride.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct SliceDims {
    int64_t outer = 1;   // O
    int64_t inner = 1;   // I
    int64_t x_size = 0;  // S
    int64_t y_size = 0;  // J
    int64_t start = 0;   // first selected index along dim (0 <= start <= S)
    int64_t step = 1;    // >= 1
};

template <class T>
void slice_forward_cpu(T* y, const T* x, SliceDims d);
template <class T>
void slice_backward_cpu(T* dx, const T* dy, SliceDims d);

void slice_forward_cuda(float* y, const float* x, SliceDims d, Stream s);
void slice_backward_cuda(float* dx, const float* dy, SliceDims d, Stream s);

}  // namespace obl::kernels
