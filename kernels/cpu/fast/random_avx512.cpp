// AVX-512 Philox4x32-10 fills (kernels/random.h): 16 Philox blocks per step, one block per 32-bit
// lane, so one step makes 64 consecutive elements. Same stream contract as the reference
// (kernels/common/philox.h): bits and uniforms are bit-identical, normals agree to 1 float ulp.
//
// Philox: the 32x32 -> 64-bit products of a round come from _mm512_mul_epu32 on the even lanes
// and on the odd lanes shifted down; blends put the hi and lo words back into 16 lanes.
// Box-Muller runs in double (8 lanes) with our own polynomials, no libm:
//   ln u:   u = 2^e m with m in [sqrt(1/2), sqrt(2)) (getexp/getmant, then one fix-up),
//           ln m = 2 atanh(s) = 2 s (1 + s^2/3 + ... + s^14/15), s = (m - 1) / (m + 1),
//           |s| <= 0.172 (series truncation < 3e-14 relative).
//   sin/cos of 2 pi u: 4u = q + f with q = round(4u) and |f| <= 1/2, both exact; x = f pi/2 in
//           [-pi/4, pi/4]; Taylor sin to x^13 and cos to x^14 (truncation < 2e-14), then the
//           quadrant q mod 4 swaps and negates.
// So z carries ~1e-13 relative error before rounding to float, where the reference rounds the
// libm value: the two float results differ by at most one ulp, and only near a rounding tie.

// GCC 12 reports its own _mm512_undefined_*() placeholders inside the intrinsics as "maybe
// uninitialized" once they are inlined into OpenMP regions (a known false positive, GCC PR 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>
#include <cstring>

#include "kernels/common/parallel.h"
#include "kernels/common/philox.h"
#include "kernels/random.h"

namespace obl::kernels {

namespace {

constexpr int kLanes = 16;             // Philox blocks per vector step
constexpr int kGroup = 4 * kLanes;     // elements per step
constexpr int64_t kChunkGroups = 256;  // 16384 elements per OpenMP chunk (fixed, see below)
constexpr double kTwoPow24Inv = 5.9604644775390625e-08;  // 2^-24
constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr double kSqrt2 = 1.414213562373095048801688724209698079;

// (pi/2)^k / k!, the Taylor coefficients of sin and cos at x = f pi/2 written in terms of f.
constexpr double quarter_turn_coeff(int k) {
    double c = 1.0;
    for (int i = 1; i <= k; ++i) c *= (kPi / 2) / i;
    return c;
}

// The 32x32 -> 64-bit product of every lane of a with the constant in m: hi and lo words.
inline void mulhilo(__m512i a, __m512i m, __m512i* hi, __m512i* lo) {
    const __m512i even = _mm512_mul_epu32(a, m);                        // lanes 0, 2, ...
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);  // lanes 1, 3, ...
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

// Philox4x32-10 of blocks block .. block + 15: x[w] holds word w, lane l is block + l.
inline void philox16(uint64_t block, uint64_t seed, __m512i x[4]) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i base_lo = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(block)));
    const __m512i base_hi = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(block >> 32)));
    __m512i c0 = _mm512_add_epi32(base_lo, iota);
    const __mmask16 carry = _mm512_cmplt_epu32_mask(c0, base_lo);  // low word wrapped
    __m512i c1 = _mm512_mask_add_epi32(base_hi, carry, base_hi, _mm512_set1_epi32(1));
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kPhiloxM0));
    const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kPhiloxM1));
    uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
    for (int r = 0; r < kPhiloxRounds; ++r) {
        __m512i hi0, lo0, hi1, lo1;
        mulhilo(c0, m0, &hi0, &lo0);
        mulhilo(c2, m1, &hi1, &lo1);
        // 0x96 is the truth table of a ^ b ^ c.
        c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32(static_cast<int>(k0)), 0x96);
        c1 = lo1;
        c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32(static_cast<int>(k1)), 0x96);
        c3 = lo0;
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
    }
    x[0] = c0;
    x[1] = c1;
    x[2] = c2;
    x[3] = c3;
}

// Word-major (v[w] lane l = element 4l + w) to element order (out[j] = elements 16j .. 16j + 15):
// a 4 x 16 transpose of 32-bit values in 12 shuffles.
inline void to_element_order(const __m512i v[4], __m512i out[4]) {
    const __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]);  // per 128-bit lane k: a4k b4k a.. b..
    const __m512i t1 = _mm512_unpackhi_epi32(v[0], v[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]);
    const __m512i t3 = _mm512_unpackhi_epi32(v[2], v[3]);
    const __m512i s0 = _mm512_unpacklo_epi64(t0, t2);  // 128-bit lane k: block 4k, words 0..3
    const __m512i s1 = _mm512_unpackhi_epi64(t0, t2);  // block 4k + 1
    const __m512i s2 = _mm512_unpacklo_epi64(t1, t3);  // block 4k + 2
    const __m512i s3 = _mm512_unpackhi_epi64(t1, t3);  // block 4k + 3
    // Now a 4 x 4 transpose of 128-bit lanes.
    const __m512i u0 = _mm512_shuffle_i32x4(s0, s1, 0x44);  // s0.0 s0.1 s1.0 s1.1
    const __m512i u1 = _mm512_shuffle_i32x4(s0, s1, 0xEE);  // s0.2 s0.3 s1.2 s1.3
    const __m512i u2 = _mm512_shuffle_i32x4(s2, s3, 0x44);
    const __m512i u3 = _mm512_shuffle_i32x4(s2, s3, 0xEE);
    out[0] = _mm512_shuffle_i32x4(u0, u2, 0x88);  // s0.0 s1.0 s2.0 s3.0 = blocks 0..3
    out[1] = _mm512_shuffle_i32x4(u0, u2, 0xDD);  // blocks 4..7
    out[2] = _mm512_shuffle_i32x4(u1, u3, 0x88);  // blocks 8..11
    out[3] = _mm512_shuffle_i32x4(u1, u3, 0xDD);  // blocks 12..15
}

// Eight words (half `h` of x) -> their uniforms in double, exactly: (2 (x >> 9) + 1) 2^-24.
inline __m512d uniform_pd(__m512i x, int h) {
    const __m512i v = _mm512_or_si512(_mm512_slli_epi32(_mm512_srli_epi32(x, 9), 1),
                                      _mm512_set1_epi32(1));  // < 2^24: exact as int32 and double
    const __m256i half = h ? _mm512_extracti64x4_epi64(v, 1) : _mm512_castsi512_si256(v);
    return _mm512_mul_pd(_mm512_cvtepi32_pd(half), _mm512_set1_pd(kTwoPow24Inv));
}

// ln u for u in [2^-24, 1) (any positive normal u works).
inline __m512d log_pd(__m512d u) {
    __m512d e = _mm512_getexp_pd(u);                                          // floor(log2 u)
    __m512d m = _mm512_getmant_pd(u, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);  // [1, 2)
    const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(kSqrt2), _CMP_GT_OQ);
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));  // exact; m in [sqrt(1/2), sqrt(2)]
    e = _mm512_mask_add_pd(e, big, e, _mm512_set1_pd(1.0));
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d s = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    const __m512d s2 = _mm512_mul_pd(s, s);
    __m512d p = _mm512_set1_pd(1.0 / 15);
    p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / 13));
    p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / 11));
    p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / 9));
    p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / 7));
    p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / 5));
    p = _mm512_fmadd_pd(p, s2, _mm512_set1_pd(1.0 / 3));
    p = _mm512_fmadd_pd(p, s2, one);
    const __m512d two_s = _mm512_add_pd(s, s);
    return _mm512_fmadd_pd(e, _mm512_set1_pd(kLn2), _mm512_mul_pd(two_s, p));
}

// sin and cos of 2 pi u for u in [0, 1].
inline void sincos_2pi_pd(__m512d u, __m512d* sin_out, __m512d* cos_out) {
    const __m512d four_u = _mm512_mul_pd(u, _mm512_set1_pd(4.0));  // exact
    const __m512d q = _mm512_roundscale_pd(four_u, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512d f = _mm512_sub_pd(four_u, q);  // exact, |f| <= 1/2: angle (pi/2)(q + f)
    const __m512d f2 = _mm512_mul_pd(f, f);
    // sin(f pi/2) = f (c1 - c3 f^2 + c5 f^4 - ... + c13 f^12), c_k = (pi/2)^k / k!
    __m512d sp = _mm512_set1_pd(quarter_turn_coeff(13));
    sp = _mm512_fmadd_pd(sp, f2, _mm512_set1_pd(-quarter_turn_coeff(11)));
    sp = _mm512_fmadd_pd(sp, f2, _mm512_set1_pd(quarter_turn_coeff(9)));
    sp = _mm512_fmadd_pd(sp, f2, _mm512_set1_pd(-quarter_turn_coeff(7)));
    sp = _mm512_fmadd_pd(sp, f2, _mm512_set1_pd(quarter_turn_coeff(5)));
    sp = _mm512_fmadd_pd(sp, f2, _mm512_set1_pd(-quarter_turn_coeff(3)));
    sp = _mm512_fmadd_pd(sp, f2, _mm512_set1_pd(quarter_turn_coeff(1)));
    sp = _mm512_mul_pd(sp, f);
    // cos(f pi/2) = 1 - c2 f^2 + c4 f^4 - ... - c14 f^14
    __m512d cp = _mm512_set1_pd(-quarter_turn_coeff(14));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(quarter_turn_coeff(12)));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(-quarter_turn_coeff(10)));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(quarter_turn_coeff(8)));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(-quarter_turn_coeff(6)));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(quarter_turn_coeff(4)));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(-quarter_turn_coeff(2)));
    cp = _mm512_fmadd_pd(cp, f2, _mm512_set1_pd(1.0));
    // Quadrant q mod 4 (q = 4 is quadrant 0): 1 swaps and negates cos, 2 negates both,
    // 3 swaps and negates sin.
    const __m256i qi = _mm512_cvtpd_epi32(q);
    const __mmask8 odd = _mm256_test_epi32_mask(qi, _mm256_set1_epi32(1));
    const __mmask8 neg_sin = _mm256_test_epi32_mask(qi, _mm256_set1_epi32(2));
    const __mmask8 neg_cos =
        _mm256_test_epi32_mask(_mm256_add_epi32(qi, _mm256_set1_epi32(1)), _mm256_set1_epi32(2));
    __m512d s = _mm512_mask_blend_pd(odd, sp, cp);
    __m512d c = _mm512_mask_blend_pd(odd, cp, sp);
    const __m512d sign = _mm512_set1_pd(-0.0);
    *sin_out = _mm512_mask_xor_pd(s, neg_sin, s, sign);
    *cos_out = _mm512_mask_xor_pd(c, neg_cos, c, sign);
}

// Normals for eight blocks (half h of the words xa, xb): za = r cos t, zb = r sin t, each then
// mapped to mean + std z and rounded to float.
inline void box_muller_half(__m512i xa, __m512i xb, int h, double mean, double std, __m256* ya,
                            __m256* yb) {
    const __m512d r =
        _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), log_pd(uniform_pd(xa, h))));
    __m512d s, c;
    sincos_2pi_pd(uniform_pd(xb, h), &s, &c);
    const __m512d vm = _mm512_set1_pd(mean), vs = _mm512_set1_pd(std);
    // mean + std * z as the reference writes it (a product, then a sum: no fused rounding).
    *ya = _mm512_cvtpd_ps(_mm512_add_pd(vm, _mm512_mul_pd(vs, _mm512_mul_pd(r, c))));
    *yb = _mm512_cvtpd_ps(_mm512_add_pd(vm, _mm512_mul_pd(vs, _mm512_mul_pd(r, s))));
}

inline __m512i join(__m256 lo, __m256 hi) {
    return _mm512_castps_si512(_mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
}

// Drives a 32-bit fill: make(block, v) writes the 64 values of blocks block .. block + 15 in
// element order. Groups start at the first block touched, so the step grid depends only on
// (offset, n); OpenMP hands out fixed chunks of kChunkGroups groups, and every element's value is
// a function of its index alone, so neither the thread count nor which thread takes a chunk can
// change a result. Chunks go out dynamically: a thread that the OS preempts (2 shared cores) then
// delays the fill by one chunk, not by half of it.
template <class Make>
void fill_groups(void* out, RandomDims d, Make make) {
    if (d.n <= 0) return;
    uint32_t* y = static_cast<uint32_t*>(out);
    const uint64_t first_block = d.offset / 4;
    const uint64_t end_block = (d.offset + static_cast<uint64_t>(d.n) + 3) / 4;
    const int64_t groups = static_cast<int64_t>((end_block - first_block + kLanes - 1) / kLanes);
    const int64_t chunks = (groups + kChunkGroups - 1) / kChunkGroups;
    // The threshold test is written out rather than calling the inline parallel_worth_it(): an
    // out-of-line copy of a shared inline function compiled here could carry this file's ISA
    // into other translation units. ~16 flops per element on this path.
#pragma omp parallel for if (d.n * 16 >= kParallelThreshold) schedule(dynamic)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        const int64_t g_end = chunk * kChunkGroups + kChunkGroups < groups
                                  ? chunk * kChunkGroups + kChunkGroups
                                  : groups;
        for (int64_t g = chunk * kChunkGroups; g < g_end; ++g) {
            const uint64_t block = first_block + static_cast<uint64_t>(g) * kLanes;
            // Output index of the group's first element (may be negative in the first group).
            const int64_t start = static_cast<int64_t>(4 * block - d.offset);
            __m512i v[4];
            make(block, v);
            if (start >= 0 && start + kGroup <= d.n) {
                for (int j = 0; j < 4; ++j) _mm512_storeu_si512(y + start + 16 * j, v[j]);
            } else {  // first or last group: copy the part inside [0, n)
                alignas(64) uint32_t tmp[kGroup];
                for (int j = 0; j < 4; ++j) _mm512_store_si512(tmp + 16 * j, v[j]);
                const int64_t lo = start < 0 ? -start : 0;
                const int64_t hi = start + kGroup > d.n ? d.n - start : kGroup;
                std::memcpy(y + start + lo, tmp + lo, static_cast<size_t>(hi - lo) * 4);
            }
        }
    }
}

}  // namespace

void fill_bits_avx512(uint32_t* y, RandomDims d) {
    fill_groups(y, d, [&](uint64_t block, __m512i* v) {
        __m512i x[4];
        philox16(block, d.seed, x);
        to_element_order(x, v);
    });
}

void fill_uniform_avx512(float* y, RandomDims d, double lo, double hi) {
    const __m512d vlo = _mm512_set1_pd(lo), vscale = _mm512_set1_pd(hi - lo);
    fill_groups(y, d, [&](uint64_t block, __m512i* v) {
        __m512i x[4], f[4];
        philox16(block, d.seed, x);
        for (int w = 0; w < 4; ++w) {
            // lo + (hi - lo) u in double, a product then a sum, exactly as the reference.
            const __m256 a =
                _mm512_cvtpd_ps(_mm512_add_pd(vlo, _mm512_mul_pd(vscale, uniform_pd(x[w], 0))));
            const __m256 b =
                _mm512_cvtpd_ps(_mm512_add_pd(vlo, _mm512_mul_pd(vscale, uniform_pd(x[w], 1))));
            f[w] = join(a, b);
        }
        to_element_order(f, v);
    });
}

void fill_normal_avx512(float* y, RandomDims d, double mean, double std) {
    fill_groups(y, d, [&](uint64_t block, __m512i* v) {
        __m512i x[4], z[4];
        philox16(block, d.seed, x);
        __m256 za[2], zb[2], zc[2], zd[2];
        for (int h = 0; h < 2; ++h) {
            box_muller_half(x[0], x[1], h, mean, std, &za[h], &zb[h]);  // elements 4b, 4b + 1
            box_muller_half(x[2], x[3], h, mean, std, &zc[h], &zd[h]);  // elements 4b + 2, 4b + 3
        }
        z[0] = join(za[0], za[1]);
        z[1] = join(zb[0], zb[1]);
        z[2] = join(zc[0], zc[1]);
        z[3] = join(zd[0], zd[1]);
        to_element_order(z, v);
    });
}

}  // namespace obl::kernels
