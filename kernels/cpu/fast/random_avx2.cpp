// AVX2 Philox4x32-10 fills (kernels/random.h): the AVX-512 path (random_avx512.cpp, which explains
// the polynomials and the error bound) at half the width: 8 Philox blocks per step, 32 elements.
// Differences forced by AVX2: no getexp/getmant (the exponent and mantissa come from the bits),
// no unsigned compare (the 64-bit block counters are built in scalar code), no mask registers
// (quadrant fix-ups use compare + blend).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/common/parallel.h"
#include "kernels/common/philox.h"
#include "kernels/random.h"

namespace obl::kernels {

namespace {

constexpr int kLanes = 8;                                // Philox blocks per vector step
constexpr int kGroup = 4 * kLanes;                       // elements per step
constexpr int64_t kChunkGroups = 512;                    // 16384 elements per OpenMP chunk
constexpr double kTwoPow24Inv = 5.9604644775390625e-08;  // 2^-24
constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr double kSqrt2 = 1.414213562373095048801688724209698079;

// (pi/2)^k / k!: Taylor coefficients of sin and cos at x = f pi/2, in terms of f.
constexpr double quarter_turn_coeff(int k) {
    double c = 1.0;
    for (int i = 1; i <= k; ++i) c *= (kPi / 2) / i;
    return c;
}

// 32x32 -> 64-bit products of every lane with the constant in m: hi and lo words.
inline void mulhilo(__m256i a, __m256i m, __m256i* hi, __m256i* lo) {
    const __m256i even = _mm256_mul_epu32(a, m);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Philox4x32-10 of blocks block .. block + 7: x[w] holds word w, lane l is block + l. Per round:
// two 32x32 products per lane (mulhilo), then the Feistel-like mix with the round key.
inline void philox8(uint64_t block, uint64_t seed, __m256i x[4]) {
    alignas(32) uint32_t lo[kLanes], hi[kLanes];
    for (int l = 0; l < kLanes; ++l) {
        lo[l] = static_cast<uint32_t>(block + l);
        hi[l] = static_cast<uint32_t>((block + l) >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi));
    __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
    const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
    uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
    for (int r = 0; r < kPhiloxRounds; ++r) {
        // c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0), then bump the key (Weyl sequence).
        __m256i hi0, lo0, hi1, lo1;
        mulhilo(c0, m0, &hi0, &lo0);
        mulhilo(c2, m1, &hi1, &lo1);
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
        c1 = lo1;
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
        c3 = lo0;
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
    }
    x[0] = c0;
    x[1] = c1;
    x[2] = c2;
    x[3] = c3;
}

// Word-major (v[w] lane l = element 4l + w) to element order (out[j] = elements 8j .. 8j + 7).
inline void to_element_order(const __m256i v[4], __m256i out[4]) {
    const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]);
    const __m256i t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]);
    const __m256i t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    // t0..t3 interleave words 0/1 and 2/3 of neighbouring blocks; the 64-bit unpacks then gather
    // one block's four words per 128-bit lane, and the lane permutes put blocks in order.
    const __m256i s0 = _mm256_unpacklo_epi64(t0, t2);  // 128-bit lane k: block 4k, words 0..3
    const __m256i s1 = _mm256_unpackhi_epi64(t0, t2);  // block 4k + 1
    const __m256i s2 = _mm256_unpacklo_epi64(t1, t3);  // block 4k + 2
    const __m256i s3 = _mm256_unpackhi_epi64(t1, t3);  // block 4k + 3
    out[0] = _mm256_permute2x128_si256(s0, s1, 0x20);  // blocks 0, 1
    out[1] = _mm256_permute2x128_si256(s2, s3, 0x20);  // blocks 2, 3
    out[2] = _mm256_permute2x128_si256(s0, s1, 0x31);  // blocks 4, 5
    out[3] = _mm256_permute2x128_si256(s2, s3, 0x31);  // blocks 6, 7
}

// Four words (quarter q of x) -> their uniforms in double, exactly.
inline __m256d uniform_pd(__m256i x, int q) {
    const __m256i v =
        _mm256_or_si256(_mm256_slli_epi32(_mm256_srli_epi32(x, 9), 1), _mm256_set1_epi32(1));
    const __m128i part = q ? _mm256_extracti128_si256(v, 1) : _mm256_castsi256_si128(v);
    return _mm256_mul_pd(_mm256_cvtepi32_pd(part), _mm256_set1_pd(kTwoPow24Inv));
}

// ln u for positive normal u; see random_avx512.cpp.
inline __m256d log_pd(__m256d u) {
    const __m256i bits = _mm256_castpd_si256(u);
    // Biased exponent as a double, by the 2^52 trick: (2^52 + b) - 2^52 - 1023.
    const __m256i biased = _mm256_srli_epi64(bits, 52);
    const __m256d magic = _mm256_set1_pd(4503599627370496.0);  // 2^52
    __m256d e = _mm256_sub_pd(
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_castpd_si256(magic))),
                      magic),
        _mm256_set1_pd(1023.0));
    __m256d m = _mm256_castsi256_pd(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFll)),
                        _mm256_set1_epi64x(0x3FF0000000000000ll)));  // [1, 2)
    // Fold m into [sqrt(1/2), sqrt(2)] so that |s| <= 0.172 below; halving m is exact.
    const __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(kSqrt2), _CMP_GT_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
    e = _mm256_add_pd(e, _mm256_and_pd(big, _mm256_set1_pd(1.0)));
    const __m256d one = _mm256_set1_pd(1.0);
    // ln m = 2 atanh(s) = 2 s (1 + s^2/3 + ... + s^14/15), s = (m - 1) / (m + 1).
    const __m256d s = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
    const __m256d s2 = _mm256_mul_pd(s, s);
    __m256d p = _mm256_set1_pd(1.0 / 15);
    p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(1.0 / 13));
    p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(1.0 / 11));
    p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(1.0 / 9));
    p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(1.0 / 7));
    p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(1.0 / 5));
    p = _mm256_fmadd_pd(p, s2, _mm256_set1_pd(1.0 / 3));
    p = _mm256_fmadd_pd(p, s2, one);
    return _mm256_fmadd_pd(e, _mm256_set1_pd(kLn2), _mm256_mul_pd(_mm256_add_pd(s, s), p));
}

// sin and cos of 2 pi u for u in [0, 1]; see random_avx512.cpp.
inline void sincos_2pi_pd(__m256d u, __m256d* sin_out, __m256d* cos_out) {
    const __m256d four_u = _mm256_mul_pd(u, _mm256_set1_pd(4.0));
    const __m256d q = _mm256_round_pd(four_u, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d f = _mm256_sub_pd(four_u, q);  // exact; the angle is (pi/2)(q + f), |f| <= 1/2
    const __m256d f2 = _mm256_mul_pd(f, f);
    // Taylor series of sin and cos at x = f pi/2 in Horner form (to x^13 and x^14).
    __m256d sp = _mm256_set1_pd(quarter_turn_coeff(13));
    sp = _mm256_fmadd_pd(sp, f2, _mm256_set1_pd(-quarter_turn_coeff(11)));
    sp = _mm256_fmadd_pd(sp, f2, _mm256_set1_pd(quarter_turn_coeff(9)));
    sp = _mm256_fmadd_pd(sp, f2, _mm256_set1_pd(-quarter_turn_coeff(7)));
    sp = _mm256_fmadd_pd(sp, f2, _mm256_set1_pd(quarter_turn_coeff(5)));
    sp = _mm256_fmadd_pd(sp, f2, _mm256_set1_pd(-quarter_turn_coeff(3)));
    sp = _mm256_fmadd_pd(sp, f2, _mm256_set1_pd(quarter_turn_coeff(1)));
    sp = _mm256_mul_pd(sp, f);
    __m256d cp = _mm256_set1_pd(-quarter_turn_coeff(14));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(quarter_turn_coeff(12)));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(-quarter_turn_coeff(10)));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(quarter_turn_coeff(8)));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(-quarter_turn_coeff(6)));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(quarter_turn_coeff(4)));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(-quarter_turn_coeff(2)));
    cp = _mm256_fmadd_pd(cp, f2, _mm256_set1_pd(1.0));
    // q is 0..4 (4 is quadrant 0): q = 1, 3 swap; q = 2, 3 negate sin; q = 1, 2 negate cos.
    const __m256d is1 = _mm256_cmp_pd(q, _mm256_set1_pd(1.0), _CMP_EQ_OQ);
    const __m256d is2 = _mm256_cmp_pd(q, _mm256_set1_pd(2.0), _CMP_EQ_OQ);
    const __m256d is3 = _mm256_cmp_pd(q, _mm256_set1_pd(3.0), _CMP_EQ_OQ);
    const __m256d odd = _mm256_or_pd(is1, is3);
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d s = _mm256_blendv_pd(sp, cp, odd);
    const __m256d c = _mm256_blendv_pd(cp, sp, odd);
    *sin_out = _mm256_xor_pd(s, _mm256_and_pd(_mm256_or_pd(is2, is3), sign));
    *cos_out = _mm256_xor_pd(c, _mm256_and_pd(_mm256_or_pd(is1, is2), sign));
}

// Normals for four blocks (quarter q of the words xa, xb), mapped to mean + std z, as float.
inline void box_muller_quarter(__m256i xa, __m256i xb, int q, double mean, double std, __m128* ya,
                               __m128* yb) {
    const __m256d r =
        _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), log_pd(uniform_pd(xa, q))));
    __m256d s, c;
    sincos_2pi_pd(uniform_pd(xb, q), &s, &c);
    const __m256d vm = _mm256_set1_pd(mean), vs = _mm256_set1_pd(std);
    // mean + std * z as the reference writes it: a product, then a sum (no fused rounding).
    *ya = _mm256_cvtpd_ps(_mm256_add_pd(vm, _mm256_mul_pd(vs, _mm256_mul_pd(r, c))));
    *yb = _mm256_cvtpd_ps(_mm256_add_pd(vm, _mm256_mul_pd(vs, _mm256_mul_pd(r, s))));
}

inline __m256i join(__m128 lo, __m128 hi) {
    return _mm256_castps_si256(_mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1));
}

// Same driver as random_avx512.cpp: groups of 8 blocks from the first block touched, fixed
// OpenMP chunks, partial first/last groups through a small buffer.
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
            const int64_t start = static_cast<int64_t>(4 * block - d.offset);
            __m256i v[4];
            make(block, v);
            if (start >= 0 && start + kGroup <= d.n) {
                for (int j = 0; j < 4; ++j)
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + start + 8 * j), v[j]);
            } else {
                alignas(32) uint32_t tmp[kGroup];
                for (int j = 0; j < 4; ++j)
                    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8 * j), v[j]);
                const int64_t lo = start < 0 ? -start : 0;
                const int64_t hi = start + kGroup > d.n ? d.n - start : kGroup;
                std::memcpy(y + start + lo, tmp + lo, static_cast<size_t>(hi - lo) * 4);
            }
        }
    }
}

}  // namespace

void fill_bits_avx2(uint32_t* y, RandomDims d) {
    fill_groups(y, d, [&](uint64_t block, __m256i* v) {
        __m256i x[4];
        philox8(block, d.seed, x);
        to_element_order(x, v);
    });
}

void fill_uniform_avx2(float* y, RandomDims d, double lo, double hi) {
    const __m256d vlo = _mm256_set1_pd(lo), vscale = _mm256_set1_pd(hi - lo);
    fill_groups(y, d, [&](uint64_t block, __m256i* v) {
        __m256i x[4], f[4];
        philox8(block, d.seed, x);
        for (int w = 0; w < 4; ++w) {
            // lo + (hi - lo) u in double, rounded once to float: bit-identical to the reference.
            const __m128 a =
                _mm256_cvtpd_ps(_mm256_add_pd(vlo, _mm256_mul_pd(vscale, uniform_pd(x[w], 0))));
            const __m128 b =
                _mm256_cvtpd_ps(_mm256_add_pd(vlo, _mm256_mul_pd(vscale, uniform_pd(x[w], 1))));
            f[w] = join(a, b);
        }
        to_element_order(f, v);
    });
}

void fill_normal_avx2(float* y, RandomDims d, double mean, double std) {
    fill_groups(y, d, [&](uint64_t block, __m256i* v) {
        __m256i x[4], z[4];
        philox8(block, d.seed, x);
        __m128 za[2], zb[2], zc[2], zd[2];
        for (int q = 0; q < 2; ++q) {
            box_muller_quarter(x[0], x[1], q, mean, std, &za[q], &zb[q]);
            box_muller_quarter(x[2], x[3], q, mean, std, &zc[q], &zd[q]);
        }
        z[0] = join(za[0], za[1]);
        z[1] = join(zb[0], zb[1]);
        z[2] = join(zc[0], zc[1]);
        z[3] = join(zd[0], zd[1]);
        to_element_order(z, v);
    });
}

}  // namespace obl::kernels
