// Reference GEMM (kernels/gemm.h): C = alpha * op(A) op(B) + beta * C, batched, row-major.
//     C[b][i][j] = alpha * sum_k A(b, i, k) * B(b, k, j) + beta * C[b][i][j]
// with A(b, i, k) = a[b][trans_a ? k * M + i : i * K + k] and B(b, k, j) = b[b][trans_b ? j * K + k
// : k * N + j]. A triple loop that reads like the formula; each dot product is accumulated in
// double, so the reference is at least as accurate as any fast path. beta == 0 never reads C.
// OpenMP over the outermost (batch x row) loop only; each C element is computed by one thread
// in one fixed order, so the result does not depend on the thread count.
#include "kernels/gemm.h"

#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

template <class T>
void gemm_cpu(T* c, const T* a, const T* b, GemmDims d, T alpha, T beta) {
    OBL_CHECK(d.batch >= 0 && d.m >= 0 && d.n >= 0 && d.k >= 0, "gemm: negative size: batch ",
              d.batch, ", m ", d.m, ", n ", d.n, ", k ", d.k);
    const int64_t M = d.m, N = d.n, K = d.k;
    const int64_t rows = d.batch * M;
#pragma omp parallel for if (parallel_worth_it(rows * N * K)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t bi = r / M, i = r % M;
        const T* ab = a + bi * M * K;
        const T* bb = b + bi * K * N;
        T* crow = c + bi * M * N + i * N;
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0.0;
            for (int64_t k = 0; k < K; ++k) {
                const double aik = d.trans_a ? ab[k * M + i] : ab[i * K + k];
                const double bkj = d.trans_b ? bb[j * K + k] : bb[k * N + j];
                acc += aik * bkj;
            }
            // alpha == 0: A and B are not referenced (BLAS), so NaN in them cannot leak into C.
            const double out = alpha == T(0) ? 0.0 : static_cast<double>(alpha) * acc;
            crow[j] = beta == T(0) ? static_cast<T>(out)
                                   : static_cast<T>(out + static_cast<double>(beta) * crow[j]);
        }
    }
}

template void gemm_cpu<float>(float*, const float*, const float*, GemmDims, float, float);
template void gemm_cpu<double>(double*, const double*, const double*, GemmDims, double, double);

}  // namespace obl::kernels
