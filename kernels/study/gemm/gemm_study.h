// Kernel study of the CPU SGEMM (docs/kernels.md): C (M, N) = A (M, K) B (K, N), row-major f32,
// no transposes, alpha = 1, beta = 0 (C is write-only).
//
// Each version adds ONE idea to the one before it (its file opens with that idea):
//   v1_naive           triple loop i-j-k, straight from C[i][j] = sum_k A[i][k] B[k][j]
//   v2_loop_order      loops i-k-j: unit-stride inner loop over a row of B and C, vectorised
//   v3_register_block  an 8 x 32 tile of C held in 16 AVX-512 registers over the whole k loop
//   v4_packing         cache blocking (KC, MC, NC) + packed A and B strips (GotoBLAS)
//   v5_production      kernels/gemm.h's gemm_fast_cpu, CALLED (never copied): bigger tile, the
//                      skinny-shape paths, AVX2 fallback, OpenMP over tiles
// v1-v4 run on the calling thread; v5 uses num_threads() (kernels/common/parallel.h).
// v3 and v4 need AVX-512 (needs_avx512): callers check cpu_isa() first.
// Checked against gemm_cpu<float> in tests/kernels/test_kernel_study.cpp; timed in
// bench/kernels/bench_study.cpp.
#pragma once

#include <cstdint>

namespace obl::kernels::study {

using GemmFn = void (*)(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k);

void gemm_v1(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k);
void gemm_v2(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k);
void gemm_v3(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k);
void gemm_v4(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k);
void gemm_v5(float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k);

struct GemmVersion {
    const char* name;  // the file name under kernels/study/gemm/, without .cpp
    GemmFn fn;
    bool needs_avx512;
};

// The versions in order, written out by hand (no self-registration).
inline constexpr GemmVersion kGemmVersions[] = {
    {"v1_naive", &gemm_v1, false},         {"v2_loop_order", &gemm_v2, false},
    {"v3_register_block", &gemm_v3, true}, {"v4_packing", &gemm_v4, true},
    {"v5_production", &gemm_v5, false},
};

}  // namespace obl::kernels::study
