// AVX2 + FMA instance of the softmax-family row kernels (kernels/cpu/fast/softmax_simd.h): 8 floats
// per step; the row tail uses maskload/maskstore with an integer lane mask; 2^n is built in the
// exponent bits (n is in [-126, 127] after exp's clamp, so the biased exponent never wraps).
// Compiled with -mavx2 -mfma (kernels/CMakeLists.txt); the fallback when AVX-512 is missing.
#include <immintrin.h>

#include "kernels/cpu/fast/softmax_isa.h"
#include "kernels/cpu/fast/softmax_simd.h"

namespace obl::kernels {

namespace fast_avx2 {

// The ISA wrapper softmax_simd.h expects (its header lists the operations). The lane mask is an
// integer vector (all ones = lane on), the form maskload/maskstore take.
struct V {
    using F = __m256;
    using M = __m256i;
    static constexpr int64_t kWidth = 8;
    static M mask(int64_t rem) {
        const int lanes = rem >= kWidth ? int(kWidth) : static_cast<int>(rem);
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes),
                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static F set1(float v) { return _mm256_set1_ps(v); }
    static F zero() { return _mm256_setzero_ps(); }
    static F load(const float* p, M m, float fill) {
        return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m),
                                _mm256_castsi256_ps(m));
    }
    static void store(float* p, F v, M m) { _mm256_maskstore_ps(p, m, v); }
    static F add(F a, F b) { return _mm256_add_ps(a, b); }
    static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
    static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
    static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
    static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
    static F max(F a, F b) { return _mm256_max_ps(a, b); }
    static F min(F a, F b) { return _mm256_min_ps(a, b); }
    static F add_masked(F acc, F v, M m) {
        return _mm256_add_ps(acc, _mm256_and_ps(v, _mm256_castsi256_ps(m)));
    }
    // Horizontal sum/max: fold 256 -> 128 -> 64 -> 32 bits (three dependent steps).
    static float reduce_add(F v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static float reduce_max(F v) {
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static F round(F v) {
        return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    // y 2^n through the exponent bits: n + 127 shifted into bits 23..30 is the float 2^n.
    static F ldexp(F y, F n) {
        const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
        return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23)));
    }
};

using R = fast_simd::Rows<V>;

}  // namespace fast_avx2

const SoftmaxRowKernels& softmax_rows_avx2() {
    static const SoftmaxRowKernels table = {
        fast_avx2::R::softmax,          fast_avx2::R::log_softmax,
        fast_avx2::R::softmax_backward, fast_avx2::R::log_softmax_backward,
        fast_avx2::R::cross_entropy,    fast_avx2::R::cross_entropy_soft,
    };
    return table;
}

}  // namespace obl::kernels
