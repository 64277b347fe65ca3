// Reductions over one dim: sum, mean, max, min, argmax/argmin, var.
//
// Shape letters: the input is viewed as (O, R, I) around the reduced dim: O = product of the dims
// before it ("outer"), R = the reduced dim, I = product of the dims after it ("inner"). The output
// is (O, I) (keepdim only changes the shape the op reports, never the layout).
//
// Forward, for every o < O, i < I (x[o, r, i] = x[(o * R + r) * I + i]):
//   sum:     y[o, i] = sum_r x[o, r, i]
//   mean:    y[o, i] = sum_r x[o, r, i] / R
//   max/min: y[o, i] = max_r / min_r x[o, r, i]            (NaN propagates: the first NaN wins)
//   arg:     index[o, i] = the FIRST r reaching that max/min (i64; PyTorch's rule)
//   var:     y[o, i] = sum_r (x[o, r, i] - mean)^2 / (R - c),  c = 1 (Bessel) or 0 (population)
// Backward (dy is (O, I); dx is (O, R, I)):
//   sum:     dx[o, r, i] = dy[o, i]
//   mean:    dx[o, r, i] = dy[o, i] / R
//   max/min: dx[o, r, i] = dy[o, i] if r == index[o, i] else 0   (gradient to the first extremum)
//   var:     dx[o, r, i] = dy[o, i] * 2 (x[o, r, i] - mean[o, i]) / (R - c)
//
// Implementations:
//   *_cpu<T>   reference: plain loops, every reduction accumulated in double, OpenMP over the
//              (O, I) outputs only, so each output is a fixed sequential sum (thread-count
//              independent). Instantiated for float and double.
//   *_cuda     float only: a warp (small R) or a 256-thread block (large R) per output when I = 1,
//              else one thread per output walking R (adjacent threads read adjacent i: coalesced).
// Reference: torch.sum/mean/amax/amin/argmax/var (aten/src/ATen/native/ReduceOps.cpp).
#pragma once

#include <cstdint>
#include <functional>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct ReduceDims {
    int64_t outer = 1;  // O
    int64_t r = 1;      // R, the reduced extent
    int64_t inner = 1;  // I
};

// Sum, Mean, Max, Min for reduce_forward; Sum, Mean for reduce_backward; Max, Min for arg_reduce.
enum class ReduceOp { Sum, Mean, Max, Min };

// ---- CPU reference (T = float or double) ------------------------------------------------------
template <class T>
void reduce_forward_cpu(T* y, const T* x, ReduceDims d, ReduceOp op);
// Sum/Mean only: dx = dy broadcast over R (scaled by 1/R for Mean).
template <class T>
void reduce_backward_cpu(T* dx, const T* dy, ReduceDims d, ReduceOp op);
// Max/Min only: index[o, i] = first r of the extremum.
template <class T>
void arg_reduce_cpu(int64_t* index, const T* x, ReduceDims d, ReduceOp op);
// dx[o, r, i] = (r == index[o, i]) ? dy[o, i] : 0 (the backward of max/min).
template <class T>
void select_backward_cpu(T* dx, const T* dy, const int64_t* index, ReduceDims d);
template <class T>
void var_forward_cpu(T* y, const T* x, ReduceDims d, int64_t correction);
template <class T>
void var_backward_cpu(T* dx, const T* dy, const T* x, ReduceDims d, int64_t correction);

// Deterministic parallel sum over n rows, in double: rows are cut into fixed chunks of 64 and
// chunk_sum(begin, end) must return the sum over rows [begin, end) taken in row order; chunk sums
// are then added in chunk order, so the result never depends on the thread count. Threads are
// used when n * work_per_row is worth it; chunk_sum must only write rows of its own range. The
// fused losses (cross_entropy, kl_div) take their mean over rows with it.
double ordered_chunk_sum(int64_t n, int64_t work_per_row,
                         const std::function<double(int64_t begin, int64_t end)>& chunk_sum);

// ---- CUDA (float) ------------------------------------------------------------------------------
void reduce_forward_cuda(float* y, const float* x, ReduceDims d, ReduceOp op, Stream s);
void reduce_backward_cuda(float* dx, const float* dy, ReduceDims d, ReduceOp op, Stream s);
void arg_reduce_cuda(int64_t* index, const float* x, ReduceDims d, ReduceOp op, Stream s);
void select_backward_cuda(float* dx, const float* dy, const int64_t* index, ReduceDims d, Stream s);
void var_forward_cuda(float* y, const float* x, ReduceDims d, int64_t correction, Stream s);
// Uses the context workspace for the (O, I) means.
void var_backward_cuda(float* dx, const float* dy, const float* x, ReduceDims d, int64_t correction,
                       Stream s);

}  // namespace obl::kernels
