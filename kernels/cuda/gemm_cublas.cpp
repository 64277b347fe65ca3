// CUDA GEMM through cuBLAS (kernels/gemm.h): C = alpha * op(A) op(B) + beta * C, row-major,
// batched, f32, as one cublasSgemmStridedBatched call on the context's handle and stream.
//
// Layout: cuBLAS is column-major, and a row-major (R x C) matrix is the column-major (C x R)
// matrix of its transpose. So the row-major product C = op(A) op(B) is computed as the
// column-major product C^T = op(B)^T op(A)^T, i.e. with the operands swapped:
//   cuBLAS (m, n, k) = (N, M, K); first operand B with ld = (trans_b ? K : N) and op = trans_b ? T
//   : N; second operand A with ld = (trans_a ? M : K) and op = trans_a ? T : N; C with ld = N.
// (A stored non-transposed (M, K) row-major is op(A)^T = A^T in column-major terms: no transpose.)
// Precision: the handle uses CUBLAS_PEDANTIC_MATH (set in nn/cuda_context.cpp): plain FP32 FMA,
// never TF32 (DESIGN.md §M.8). Moves (M K + K N + M N (+ M N when beta != 0)) * 4 bytes per item.
#include <algorithm>
#include <limits>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/gemm.h"

namespace obl::kernels {

namespace {

int as_int(int64_t v, const char* what) {
    OBL_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "gemm (cuBLAS): ", what, " = ", v,
              " does not fit cuBLAS's int");
    return static_cast<int>(v);
}

}  // namespace

void gemm_cuda(float* c, const float* a, const float* b, GemmDims d, float alpha, float beta,
               Stream s) {
    OBL_CHECK(s != nullptr && s->cublas != nullptr, "gemm_cuda: no cuBLAS handle in the stream");
    OBL_CHECK(d.batch >= 0 && d.m >= 0 && d.n >= 0 && d.k >= 0, "gemm: negative size: batch ",
              d.batch, ", m ", d.m, ", n ", d.n, ", k ", d.k);
    if (d.batch == 0 || d.m == 0 || d.n == 0) return;
    const int m = as_int(d.n, "n"), n = as_int(d.m, "m"), k = as_int(d.k, "k");
    // Leading dimensions must be >= 1 even when K == 0 (cuBLAS then only scales C by beta).
    const int ld_b = as_int(std::max<int64_t>(1, d.trans_b ? d.k : d.n), "ldb");
    const int ld_a = as_int(std::max<int64_t>(1, d.trans_a ? d.m : d.k), "lda");
    const int ld_c = m;
    const cublasOperation_t op_b = d.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_a = d.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    OBL_CUBLAS_CHECK(cublasSgemmStridedBatched(s->cublas, op_b, op_a, m, n, k, &alpha, b, ld_b,
                                               d.k * d.n, a, ld_a, d.m * d.k, &beta, c, ld_c,
                                               d.m * d.n, as_int(d.batch, "batch")));
}

}  // namespace obl::kernels
