// Concatenation along one dim (nn/ops/shape_ops.h: concat, and stack = concat of inputs reshaped
// with a new unit dim). Mirrors torch.cat (aten/src/ATen/native/TensorShape.cpp).
//
// Shape letters: every tensor is viewed as (O, S, I): O = product of the dims before `dim`,
// S = the size along `dim`, I = product of the dims after it. Input k has S_k rows along dim and
// lands at offset P_k = S_0 + ... + S_{k-1} of the output, whose size along dim is S = sum_k S_k.
//
//   forward  (one call per input k):  y[o, P_k + s, i] = x_k[o, s, i]        s < S_k
//   backward (one call per input k):  dx_k[o, s, i]    = dy[o, P_k + s, i]   s < S_k
//
// The forward calls together write every element of y (each call its own slab); each backward
// call writes all of dx_k. Pure data movement: reads and writes O*S_k*I elements per call.
//
// Implementations:
//   concat_{forward,backward}_cpu<T>   reference, T = float or double; one contiguous run of I
//                                      elements per (o, s), OpenMP over runs when large.
//   concat_{forward,backward}_cuda     float only; one thread per element of x_k, grid-stride.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct ConcatDims {
    int64_t outer = 1;   // O
    int64_t inner = 1;   // I
    int64_t x_size = 0;  // S_k: this input's size along dim
    int64_t y_size = 0;  // S: the output's size along dim
    int64_t offset = 0;  // P_k: where this input starts along dim of the output
};

template <class T>
void concat_forward_cpu(T* y, const T* x, ConcatDims d);
template <class T>
void concat_backward_cpu(T* dx, const T* dy, ConcatDims d);

void concat_forward_cuda(float* y, const float* x, ConcatDims d, Stream s);
void concat_backward_cuda(float* dx, const float* dy, ConcatDims d, Stream s);

}  // namespace obl::kernels
