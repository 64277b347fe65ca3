// Explicit broadcasting with NumPy rules (numpy.broadcast_to; PyTorch's expand + sum_to_size in
// torch/csrc/autograd/FunctionsManual.cpp): a "small" shape S is right-aligned against a "big"
// shape B, and every dim of S is either equal to B's or 1 (missing leading dims count as 1).
//
//   forward  (broadcast_to)  y[b] = x[s(b)]              y has shape B, x has shape S
//   backward (sum_to)        dx[s] = sum_{b : s(b) = s} dy[b]   dx has shape S, dy has shape B
// where s(b) maps a big index to the small index with every expanded coordinate set to 0.
// The forward's gradient is the backward, and the backward's gradient is the forward.
//
// Shape letters: S the small shape, B the big shape (each up to 8 dims).
//
// make_broadcast_dims() validates S against B and canonicalises them: dims of size 1 in B are
// dropped and runs of adjacent dims of the same kind (kept: S = B; expanded: S = 1 < B) are
// merged, so [3, 1] -> [2, 3, 4] becomes (2 expanded)(3 kept)(4 expanded) and [N, D] -> [D]
// becomes (N expanded)(D kept). Kernels see at most 8 canonical dims, usually 1 to 3.
//
// Implementations:
//   broadcast_{forward,backward}_cpu<T>   reference, T = float or double. The backward sums in
//                                         double, each output in increasing big-index order, so
//                                         the result never depends on the thread count.
//   broadcast_{forward,backward}_cuda     float only; the backward accumulates in double too.
// The backward WRITES dx (=); outputs that no element maps to (B has a 0 dim) are set to 0.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

constexpr int kMaxBroadcastDims = 8;

struct BroadcastDims {
    int ndim = 0;                                  // canonical dims (0: a single element)
    int64_t extent[kMaxBroadcastDims] = {};        // size of each canonical dim in B
    bool expanded[kMaxBroadcastDims] = {};         // S has size 1 there: x repeats / dy is summed
    int64_t big_stride[kMaxBroadcastDims] = {};    // element strides in B (row-major)
    int64_t small_stride[kMaxBroadcastDims] = {};  // element strides in S; 0 where expanded
    int64_t small_numel = 1, big_numel = 1;
};

// Checks the NumPy rule (throws obl::Error naming both shapes and the offending dim) and builds
// the canonical dims for broadcasting `small` (small_ndim dims) to `big` (big_ndim dims).
BroadcastDims make_broadcast_dims(const int64_t* small, int small_ndim, const int64_t* big,
                                  int big_ndim);

// y (B) = x (S) repeated along the expanded dims.
template <class T>
void broadcast_forward_cpu(T* y, const T* x, const BroadcastDims& d);
// dx (S) = dy (B) summed over the expanded dims (sum_to).
template <class T>
void broadcast_backward_cpu(T* dx, const T* dy, const BroadcastDims& d);

void broadcast_forward_cuda(float* y, const float* x, const BroadcastDims& d, Stream s);
void broadcast_backward_cuda(float* dx, const float* dy, const BroadcastDims& d, Stream s);

}  // namespace obl::kernels
