// GEMM: C = alpha * op(A) op(B) + beta * C, row-major (PyTorch layout), batched.
//
// Shape letters: B batch, M rows of C, N cols of C, K the contracted dim.
//   A is (B, M, K), or (B, K, M) when trans_a;   B is (B, K, N), or (B, N, K) when trans_b;
//   C is (B, M, N). All contiguous; batch item b starts at b*M*K, b*K*N, b*M*N.
// Backward of Y = X W (no transposes): dX = dY W^T (trans_b), dW = X^T dY (trans_a).
// beta = 0 means C is write-only (its old contents, even NaN, are ignored), as in BLAS.
//
// Implementations:
//   gemm_cpu<T>    reference (kernels/cpu/gemm.cpp): triple loop, dot products accumulated in
//                  double.
//   gemm_fast_cpu  f32 fast path (kernels/cpu/fast/gemm*.cpp): packed panels, cache blocking,
//                  AVX-512 (or AVX2) register-tiled micro-kernel chosen at run time, OpenMP over
//                  blocks. Bit-identical for any thread count; equal to gemm_cpu<float> on
//                  small-integer data (exact partial sums), within f32 rounding (~sqrt(K) eps)
//                  otherwise. Safe to call inside an OpenMP parallel region (stays on its thread).
//   gemm_cuda      cuBLAS (kernels/cuda/gemm_cublas.cpp): cublasSgemmStridedBatched with pedantic
//                  FP32 (no TF32), asynchronous on s->stream.
// Preconditions: sizes >= 0; a, b, c non-null when the product is non-empty; c overlaps neither
// a nor b. K == 0 or alpha == 0 gives C = beta * C (A and B are not read).
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct GemmDims {
    int64_t batch = 1;
    int64_t m = 0, n = 0, k = 0;
    bool trans_a = false, trans_b = false;
};

template <class T>
void gemm_cpu(T* c, const T* a, const T* b, GemmDims d, T alpha = T(1), T beta = T(0));
void gemm_fast_cpu(float* c, const float* a, const float* b, GemmDims d, float alpha = 1.f,
                   float beta = 0.f);
void gemm_cuda(float* c, const float* a, const float* b, GemmDims d, float alpha, float beta,
               Stream s);

}  // namespace obl::kernels
