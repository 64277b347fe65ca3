// Matrix products (kernels/gemm.h): CPU reference, fast packed SIMD GEMM, cuBLAS on CUDA.
#pragma once

#include "nn/tensor.h"

namespace obl {

// C = op(A) op(B), 2-D; op(A) = A^T when trans_a. A (M, K) or (K, M); B (K, N) or (N, K).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// Batched: (B, M, K) x (B, K, N) -> (B, M, N), with the same transpose flags per batch item.
Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// y = x W^T + b for x (..., in), W (out, in), b (out) or undefined; leading dims are flattened.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace obl
