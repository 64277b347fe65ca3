// Elementwise select: y = cond ? a : b, cond a u8 mask (nonzero = true), all of one shape
// (PyTorch's torch.where without broadcasting). Gradients flow to the selected input:
//
//   forward    y[i]  = cond[i] ? a[i] : b[i]
//   backward   da[i] = cond[i] ? dy[i] : 0
//              db[i] = cond[i] ? 0 : dy[i]
//
// Shape letters: n the number of elements of cond, a, b, y (contiguous, flattened).
//
// Implementations:
//   where_{forward,backward}_cpu<T>   reference, T = float or double, OpenMP when large.
//   where_{forward,backward}_cuda     float only, grid-stride.
// Backward kernels WRITE da and db (=); either may be nullptr when not needed.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

template <class T>
void where_forward_cpu(T* y, const uint8_t* cond, const T* a, const T* b, int64_t n);
template <class T>
void where_backward_cpu(T* da, T* db, const T* dy, const uint8_t* cond, int64_t n);

void where_forward_cuda(float* y, const uint8_t* cond, const float* a, const float* b, int64_t n,
                        Stream s);
void where_backward_cuda(float* da, float* db, const float* dy, const uint8_t* cond, int64_t n,
                         Stream s);

}  // namespace obl::kernels
