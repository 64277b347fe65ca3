// Permutation of dims into a fresh contiguous tensor (nn/ops/shape_ops.h: permute, transpose).
// Mirrors x.permute(perm).contiguous() in PyTorch. Up to 8 dims: Swin's window partition
// permutes 6-D tensors.
//
// Shape letters: R the rank, X the input shape, perm a permutation of 0..R-1, Y the output
// shape with Y_k = X_{perm[k]}. j = (j_0, ..., j_{R-1}) an output coordinate.
//
//   forward:   y[j] = x[i]   where i_{perm[k]} = j_k for every k      (a pure gather)
//   backward:  dx = permute(dy, inverse(perm)),  inverse(perm)[perm[k]] = k
//
// Reads and writes prod X_d elements in both directions.
//
// Both entry points first simplify the problem (permute_simplify): size-1 dims are dropped and
// runs of output dims that stay adjacent and in order in x are merged, so e.g. a transpose of
// the last two dims of (N, C, H, W) becomes a batched 2-D transpose (N*C, H, W) -> (N*C, W, H).
//
// Implementations:
//   permute_{forward,backward}_cpu<T>   reference, T = float or double; one output row (last
//                                       output dim, strided read from x) at a time, OpenMP over
//                                       rows when large.
//   permute_{forward,backward}_cuda     float only; one thread per output element (coalesced
//                                       writes, gathered reads), grid-stride.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct PermuteDims {
    static constexpr int kMaxRank = 8;
    int rank = 0;                    // R
    int64_t x_shape[kMaxRank] = {};  // X
    int perm[kMaxRank] = {};         // output dim k is input dim perm[k]
};

// The same permutation with size-1 dims dropped and adjacent in-order dims merged (rank >= 1).
PermuteDims permute_simplify(const PermuteDims& d);
// The dims of the backward permutation: x_shape = Y, perm = inverse(perm).
PermuteDims permute_inverse(const PermuteDims& d);

template <class T>
void permute_forward_cpu(T* y, const T* x, PermuteDims d);
// dx (shape X) from dy (shape Y); `d` is the forward's dims.
template <class T>
void permute_backward_cpu(T* dx, const T* dy, PermuteDims d);

void permute_forward_cuda(float* y, const float* x, PermuteDims d, Stream s);
void permute_backward_cuda(float* dx, const float* dy, PermuteDims d, Stream s);

}  // namespace obl::kernels
