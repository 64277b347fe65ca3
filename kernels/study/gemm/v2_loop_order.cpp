// GEMM study v2 (loop order i-k-j): the same products, with the j loop innermost:
//     C[i][:] += A[i][p] * B[p][:]      for p = 0 .. K-1.
// Now the inner loop streams one row of B and one row of C with unit stride, and its iterations
// are independent (no reduction), so the compiler vectorises it (SSE2, 4 lanes, at the baseline
// x86-64 ISA this file is built for). Each element of C still goes to memory and back once per p:
// two loads and a store per multiply-add.
#include "kernels/study/gemm/gemm_study.h"

namespace obl::kernels::study {

void gemm_v2(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k) {
    for (int64_t i = 0; i < m; ++i) {
        float* crow = c + i * n;
        for (int64_t j = 0; j < n; ++j) crow[j] = 0.f;
        for (int64_t p = 0; p < k; ++p) {
            const float aip = a[i * k + p];
            const float* brow = b + p * n;
            for (int64_t j = 0; j < n; ++j) crow[j] += aip * brow[j];
        }
    }
}

}  // namespace obl::kernels::study
