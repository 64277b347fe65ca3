// GEMM study v1 (naive): the triple loop i-j-k, read straight off the formula
//     C[i][j] = sum_k A[i][k] B[k][j].
// The inner loop walks B down a column (stride N floats): every step lands on a new cache line,
// and the float sum is a serial dependency chain the compiler may not reorder (no fast-math), so
// nothing vectorises. This is the baseline every later version is measured against.
#include "kernels/study/gemm/gemm_study.h"

namespace obl::kernels::study {

void gemm_v1(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            float acc = 0.f;
            for (int64_t p = 0; p < k; ++p) acc += a[i * k + p] * b[p * n + j];
            c[i * n + j] = acc;
        }
    }
}

}  // namespace obl::kernels::study
