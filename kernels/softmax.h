// Softmax and log-softmax over the last dim.
//
// Shape letters: N rows (all leading dims flattened), K classes (the last dim). x, y: (N, K).
// Forward, per row (m = max_j x_j, the shift that keeps exp from overflowing):
//   softmax:      y_k = exp(x_k - m) / sum_j exp(x_j - m)
//   log_softmax:  y_k = x_k - m - log sum_j exp(x_j - m)
// Backward, per row (from the saved output y, not x):
//   softmax:      dx_k = y_k (dy_k - sum_j dy_j y_j)
//   log_softmax:  dx_k = dy_k - exp(y_k) sum_j dy_j
//
// Implementations:
//   *_cpu<T>       reference: three plain loops per row, sums and exp in double; OpenMP over rows.
//   *_fast_cpu     f32 fast path (kernels/cpu/fast/softmax*.cpp): AVX-512 (AVX2 fallback) chosen
//                  by cpu_isa(), our own polynomial exp (no libm call per element), masked tails;
//                  rows split over threads only above parallel_worth_it. Per-row results do not
//                  depend on the thread count. With OBL_CPU_ISA=scalar it is the reference.
//   *_cuda         one warp per row for K <= 1024, one 256-thread block per row above; online
//                  (max, sum) in one pass, then one pass writing y.
// Reference: torch.softmax / torch.log_softmax (aten/src/ATen/native/SoftMax.cpp); the CUDA
// mapping follows llm.c's softmax_forward_kernel (one warp per row, online normaliser).
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct SoftmaxDims {
    int64_t n = 0;  // N rows
    int64_t k = 0;  // K classes (the reduced, last dim)
};

// ---- CPU reference (T = float or double) ------------------------------------------------------
template <class T>
void softmax_forward_cpu(T* y, const T* x, SoftmaxDims d);
template <class T>
void softmax_backward_cpu(T* dx, const T* dy, const T* y, SoftmaxDims d);
template <class T>
void log_softmax_forward_cpu(T* y, const T* x, SoftmaxDims d);
template <class T>
void log_softmax_backward_cpu(T* dx, const T* dy, const T* y, SoftmaxDims d);

// ---- CPU fast path (f32) -----------------------------------------------------------------------
void softmax_forward_fast_cpu(float* y, const float* x, SoftmaxDims d);
void softmax_backward_fast_cpu(float* dx, const float* dy, const float* y, SoftmaxDims d);
void log_softmax_forward_fast_cpu(float* y, const float* x, SoftmaxDims d);
void log_softmax_backward_fast_cpu(float* dx, const float* dy, const float* y, SoftmaxDims d);

// ---- CUDA (f32) --------------------------------------------------------------------------------
void softmax_forward_cuda(float* y, const float* x, SoftmaxDims d, Stream s);
void softmax_backward_cuda(float* dx, const float* dy, const float* y, SoftmaxDims d, Stream s);
void log_softmax_forward_cuda(float* y, const float* x, SoftmaxDims d, Stream s);
void log_softmax_backward_cuda(float* dx, const float* dy, const float* y, SoftmaxDims d, Stream s);

}  // namespace obl::kernels
