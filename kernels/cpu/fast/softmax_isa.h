// Internal: the per-ISA row kernels of the softmax family (kernels/cpu/fast/softmax_simd.h
// compiled for AVX-512 and for AVX2) as a table of function pointers, and the run-time choice.
// Each function processes `rows` consecutive rows of K floats; the cross-entropy ones return the
// sum of the row losses in row order (double) and write grad = (p sum q - q) inv_n when
// grad != nullptr.
#pragma once

#include <cstdint>

namespace obl::kernels {

struct SoftmaxRowKernels {
    void (*softmax)(float* y, const float* x, int64_t rows, int64_t k);
    void (*log_softmax)(float* y, const float* x, int64_t rows, int64_t k);
    void (*softmax_backward)(float* dx, const float* dy, const float* y, int64_t rows, int64_t k);
    void (*log_softmax_backward)(float* dx, const float* dy, const float* y, int64_t rows,
                                 int64_t k);
    double (*cross_entropy)(float* grad, const float* x, const int64_t* targets, int64_t rows,
                            int64_t k, float label_smoothing, float inv_n);
    double (*cross_entropy_soft)(float* grad, const float* x, const float* q, int64_t rows,
                                 int64_t k, float inv_n);
};

const SoftmaxRowKernels& softmax_rows_avx512();  // softmax_avx512.cpp
const SoftmaxRowKernels& softmax_rows_avx2();    // softmax_avx2.cpp
// The table for cpu_isa(), or nullptr on a CPU without AVX2 (callers then use the reference).
const SoftmaxRowKernels* softmax_rows_for_cpu();

}  // namespace obl::kernels
