// The FMA ceiling loop (bench/fma_peak.h).
#include "bench/fma_peak.h"

#include <immintrin.h>

#include "kernels/common/cpu_features.h"

namespace obl::bench {

namespace {

// The inputs are volatile so that the compiler cannot evaluate the loop at compile time.
__attribute__((target("avx512f"))) float fma_loop_avx512(int64_t iters) {
    __m512 acc[kFmaAccumulators];
    for (int j = 0; j < kFmaAccumulators; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j));
    volatile float opaque_a = 0.999999f, opaque_b = 1e-6f;
    const __m512 a = _mm512_set1_ps(opaque_a), b = _mm512_set1_ps(opaque_b);
    for (int64_t i = 0; i < iters; ++i)
        for (int j = 0; j < kFmaAccumulators; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    __m512 s = acc[0];
    for (int j = 1; j < kFmaAccumulators; ++j) s = _mm512_add_ps(s, acc[j]);
    alignas(64) float v[16];  // (not _mm512_reduce_add_ps: GCC 12 warns inside it)
    _mm512_store_ps(v, s);
    float t = 0;
    for (float x : v) t += x;
    return t;
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iters) {
    __m256 acc[kFmaAccumulators];
    for (int j = 0; j < kFmaAccumulators; ++j) acc[j] = _mm256_set1_ps(static_cast<float>(j));
    volatile float opaque_a = 0.999999f, opaque_b = 1e-6f;
    const __m256 a = _mm256_set1_ps(opaque_a), b = _mm256_set1_ps(opaque_b);
    for (int64_t i = 0; i < iters; ++i)
        for (int j = 0; j < kFmaAccumulators; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
    __m256 s = acc[0];
    for (int j = 1; j < kFmaAccumulators; ++j) s = _mm256_add_ps(s, acc[j]);
    alignas(32) float v[8];
    _mm256_store_ps(v, s);
    float t = 0;
    for (float x : v) t += x;
    return t;
}

}  // namespace

int fma_lanes() {
    const CpuIsa isa = cpu_isa();
    return isa == CpuIsa::Avx512 ? 16 : isa >= CpuIsa::Avx2 ? 8 : 0;
}

float fma_loop(int64_t iters) {
    return fma_lanes() == 16 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
}

}  // namespace obl::bench
