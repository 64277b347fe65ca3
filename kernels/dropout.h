// Inverted dropout with a Philox mask (torch.nn.functional.dropout semantics, training mode).
//
// Shape letters: n elements, any shape flattened (element i = flat index in the tensor).
//   keep_i = (u_i >= p),  u_i = the Philox uniform of element i under key `seed` (counter i,
//            offset 0: word i % 4 of block i / 4, kernels/common/philox.h), u_i in (0, 1)
//   forward:  y_i  = keep_i ? x_i / (1 - p) : 0          (p = 1: y = 0, as PyTorch)
//   backward: dx_i = keep_i ? dy_i / (1 - p) : 0         (the same mask, regenerated from seed)
// The mask is never stored: forward and backward recompute it from (seed, i), so CPU and CUDA
// drop the same elements and the backward costs one Philox call per 4 elements instead of n
// bytes of mask memory. keep_i equals (rand_uniform(shape, 0, 1, seed) >= p) elementwise.
// P(keep) = 1 - p up to the 2^-23 granularity of u.
//
// Implementations: *_cpu<T> reference (float/double; OpenMP over Philox blocks), *_cuda float
// (one thread per Philox block of 4 elements).
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct DropoutDims {
    int64_t n = 0;      // elements
    double p = 0;       // drop probability, 0 <= p <= 1
    uint64_t seed = 0;  // Philox key of the mask
};

// forward and backward are the same map (y = mask * x / (1 - p)); two names keep the four-function
// shape of every op.
template <class T>
void dropout_forward_cpu(T* y, const T* x, DropoutDims d);
template <class T>
void dropout_backward_cpu(T* dx, const T* dy, DropoutDims d);

void dropout_forward_cuda(float* y, const float* x, DropoutDims d, Stream s);
void dropout_backward_cuda(float* dx, const float* dy, DropoutDims d, Stream s);

}  // namespace obl::kernels
