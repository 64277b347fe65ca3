// Indexing along one dim with an i64 index tensor (nn/ops/shape_ops.h: index_select, gather,
// scatter_add). Mirrors torch.index_select, torch.gather and torch.Tensor.scatter_add
// (aten/src/ATen/native/TensorAdvancedIndexing.cpp), including their shape rules.
//
// ---- index_select ----------------------------------------------------------------------------
// Shape letters: x is viewed as (O, S, I), y as (O, J, I): O = product of the dims before `dim`,
// S = x's size along dim, J = the number of indices (1-D index), I = product of the dims after.
//
//   forward:   y[o, j, i]  = x[o, index[j], i]
//   backward:  dx[o, s, i] = sum_{j : index[j] = s} dy[o, j, i]      (0 where s is never picked)
//
// ---- gather / scatter_add --------------------------------------------------------------------
// The index tensor has the rank R of x (and of src); its shape E is the iteration space. Let
// p = (p_0, ..., p_{R-1}) be a position in E and p[dim := v] the same position with its `dim`
// coordinate replaced by v. PyTorch's rules: E_d <= X_d for d != dim, and (scatter_add) E_d <=
// src_d for every d; only the leading E-shaped box of src is read.
//
//   gather forward:       y[p] = x[p[dim := index[p]]]                      (y has shape E)
//   gather backward:      dx[q] = sum_{p : p[dim := index[p]] = q} dy[p]    (0 where never hit)
//   scatter_add forward:  y = base;  y[p[dim := index[p]]] += src[p]  for every p in E
//   scatter_add backward: dbase = dy (no kernel);
//                         dsrc[p] = dy[p[dim := index[p]]] for p in E, 0 elsewhere in src
//
// Index validity (0 <= index < size along dim): nn/ops validates indices of CPU tensors on the
// host before calling any kernel and throws obl::Error naming the bad index and the size. CUDA
// indices are NOT validated (that needs a device-to-host copy and a sync); instead every kernel,
// CPU and CUDA alike, guards each index: an out-of-range read yields 0 and an out-of-range
// scatter contribution is dropped, so a bad index never touches memory outside the tensors.
//
// Determinism: the CPU scatters (index_select/gather backward, scatter_add forward) loop over
// the index serially within each output row, in index order, so repeated indices are summed in a
// fixed order and the result does not depend on the thread count. The CUDA scatters use
// atomicAdd, so with repeated indices the summation order (and the last bits) may vary run to
// run; everything else is bit-deterministic.
//
// Implementations:
//   *_cpu<T>   reference, T = float or double; OpenMP over independent output rows when large.
//   *_cuda     float only; one thread per output (gathers) or per index position (scatters,
//              atomicAdd into a buffer zeroed, or copied from base, on the same stream).
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct IndexSelectDims {
    int64_t outer = 1;       // O
    int64_t inner = 1;       // I
    int64_t x_size = 0;      // S: x's size along dim
    int64_t index_size = 0;  // J: number of indices (y's size along dim)
};

// Shapes for gather and scatter_add. `x_shape` is the tensor indexed along dim: gather's x, or
// scatter_add's base (= its output). `src_shape` is used by scatter_add only.
struct GatherDims {
    static constexpr int kMaxRank = 8;
    int rank = 0;
    int dim = 0;
    int64_t index_shape[kMaxRank] = {};  // E
    int64_t x_shape[kMaxRank] = {};      // X
    int64_t src_shape[kMaxRank] = {};    // scatter_add's src (E_d <= src_d)
};

template <class T>
void index_select_forward_cpu(T* y, const T* x, const int64_t* index, IndexSelectDims d);
template <class T>
void index_select_backward_cpu(T* dx, const T* dy, const int64_t* index, IndexSelectDims d);
void index_select_forward_cuda(float* y, const float* x, const int64_t* index, IndexSelectDims d,
                               Stream s);
void index_select_backward_cuda(float* dx, const float* dy, const int64_t* index, IndexSelectDims d,
                                Stream s);

template <class T>
void gather_forward_cpu(T* y, const T* x, const int64_t* index, GatherDims d);
template <class T>
void gather_backward_cpu(T* dx, const T* dy, const int64_t* index, GatherDims d);
void gather_forward_cuda(float* y, const float* x, const int64_t* index, GatherDims d, Stream s);
void gather_backward_cuda(float* dx, const float* dy, const int64_t* index, GatherDims d, Stream s);

template <class T>
void scatter_add_forward_cpu(T* y, const T* base, const int64_t* index, const T* src, GatherDims d);
template <class T>
void scatter_add_backward_cpu(T* dsrc, const T* dy, const int64_t* index, GatherDims d);
void scatter_add_forward_cuda(float* y, const float* base, const int64_t* index, const float* src,
                              GatherDims d, Stream s);
void scatter_add_backward_cuda(float* dsrc, const float* dy, const int64_t* index, GatherDims d,
                               Stream s);

// Host check used by nn/ops for CPU index tensors: the position of the first index outside
// [0, size), or -1 when all n indices are valid.
int64_t first_bad_index_cpu(const int64_t* index, int64_t n, int64_t size);

}  // namespace obl::kernels
