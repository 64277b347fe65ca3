// Philox normal study v3 (SIMD Philox): 16 Philox blocks at once, one per 32-bit lane of an
// AVX-512 register, so one pass of the 10 rounds makes 64 words. A round needs the full 32x32 ->
// 64-bit products of c0 and c2: _mm512_mul_epu32 multiplies only the even 32-bit lanes, so the odd
// lanes take a second multiply after a 64-bit shift, and two blends put the hi and lo words back
// into 16 lanes. The words are then stored and Box-Muller runs as in v2 (scalar, libm, double),
// so the output is still bit-identical; the table shows how much of v2's time was Philox and how
// much the libm calls (log, sqrt, cos, sin per pair), which v4 vectorises.
// GCC 12's AVX-512 shift and multiply intrinsics start from _mm512_undefined_epi32(), a
// self-initialised placeholder that -Wuninitialized reports inside the header (GCC PR 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "kernels/common/philox.h"
#include "kernels/study/philox_normal/philox_normal_study.h"

#define OBL_STUDY_AVX512 __attribute__((target("avx512f")))

namespace obl::kernels::study {

namespace {

constexpr int kLanes = 16;  // Philox blocks per vector step

// hi and lo 32-bit words of the 64-bit product of every 32-bit lane of a with the constant in m.
OBL_STUDY_AVX512 void mulhilo(__m512i a, __m512i m, __m512i* hi, __m512i* lo) {
    const __m512i even = _mm512_mul_epu32(a, m);                        // lanes 0, 2, 4, ...
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);  // lanes 1, 3, 5, ...
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

OBL_STUDY_AVX512 __m512i splat(uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }

// words[w][l] = word w of Philox block `block + l` under key `seed`, for l < 16.
OBL_STUDY_AVX512 void philox16(uint64_t block, uint64_t seed, uint32_t words[4][kLanes]) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i base_lo = splat(static_cast<uint32_t>(block));
    const __m512i base_hi = splat(static_cast<uint32_t>(block >> 32));
    // Counter (c0, c1) = block + lane as a 64-bit number: carry into c1 where c0 wrapped.
    __m512i c0 = _mm512_add_epi32(base_lo, iota);
    const __mmask16 wrapped = _mm512_cmplt_epu32_mask(c0, base_lo);
    __m512i c1 = _mm512_mask_add_epi32(base_hi, wrapped, base_hi, splat(1));
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
    for (int r = 0; r < kPhiloxRounds; ++r) {
        __m512i hi0, lo0, hi1, lo1;
        mulhilo(c0, splat(kPhiloxM0), &hi0, &lo0);
        mulhilo(c2, splat(kPhiloxM1), &hi1, &lo1);
        c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), splat(k0));
        c1 = lo1;
        c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), splat(k1));
        c3 = lo0;
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
    }
    _mm512_storeu_si512(words[0], c0);
    _mm512_storeu_si512(words[1], c1);
    _mm512_storeu_si512(words[2], c2);
    _mm512_storeu_si512(words[3], c3);
}

}  // namespace

void philox_normal_v3(float* y, RandomDims d) {
    if (d.n <= 0) return;
    const uint64_t first = d.offset, end = d.offset + static_cast<uint64_t>(d.n);
    for (uint64_t base = first / 4; base * 4 < end; base += kLanes) {
        uint32_t words[4][kLanes];
        philox16(base, d.seed, words);
        for (uint64_t l = 0; l < kLanes && (base + l) * 4 < end; ++l) {
            double z[4];
            philox_box_muller(words[0][l], words[1][l], &z[0], &z[1]);
            philox_box_muller(words[2][l], words[3][l], &z[2], &z[3]);
            for (uint64_t w = 0; w < 4; ++w) {
                const uint64_t e = (base + l) * 4 + w;
                if (e >= first && e < end) y[e - first] = static_cast<float>(z[w]);
            }
        }
    }
}

}  // namespace obl::kernels::study
