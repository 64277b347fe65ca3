// Philox4x32-10: the counter-based random generator every random kernel uses, on CPU and GPU.
//
// Reference: J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers: as
// easy as 1, 2, 3", SC'11; the Random123 library (philox.h), whose tests/kat_vectors lines
// "philox4x32 10 ..." are our known-answer tests (tests/nn/test_random.cpp).
//
// One call maps a 128-bit counter (c0, c1, c2, c3) and a 64-bit key (k0, k1) to four 32-bit words.
// Ten rounds, each
//     (hi0, lo0) = M0 * c0          (32x32 -> 64-bit product, M0 = 0xD2511F53)
//     (hi1, lo1) = M1 * c2          (M1 = 0xCD9E8D57)
//     c = (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0)
// with the key bumped by the Weyl constants (k0 += 0x9E3779B9, k1 += 0xBB67AE85) between rounds.
//
// How oblivio uses it (the stream contract, identical in every kernel):
//   key     = seed: k0 = low 32 bits, k1 = high 32 bits.
//   counter = the BLOCK index as a 64-bit number in (c0, c1); c2 = c3 = 0.
//   element e (global index = tensor index i + offset) takes word e % 4 of block e / 4.
// The counter never involves threads, blocks or chunk sizes, so any launch geometry, any thread
// count and the CPU all produce the same stream, and drawing [offset, offset + n) gives exactly the
// tail of a longer draw from 0.
//
// Word -> uniform float (philox_uniform): u = (2 * (x >> 9) + 1) * 2^-24.
//   The top 23 bits of x pick one of 2^23 odd multiples of 2^-24, so u lies strictly inside
//   (0, 1): min 2^-24, max 1 - 2^-24. Every value needs at most 24 significant bits, so it is
//   exactly representable in float (and double) and the conversion involves no rounding at all.
//   (The tempting ((x >> 8) + 0.5) * 2^-24 needs 25 bits near 1 and would round to 1.0f.)
//
// Words -> normals (philox_box_muller): the basic Box-Muller transform, on pairs of uniforms of the
// same block: words (0, 1) give elements 4b and 4b+1, words (2, 3) give 4b+2 and 4b+3:
//     r = sqrt(-2 ln u_a),  t = 2 pi u_b
//     z_a = r cos t   (even element),   z_b = r sin t   (odd element)
// so one Philox call yields 4 normals for 4 consecutive elements. u_a >= 2^-24 bounds |z| by
// sqrt(2 * 24 ln 2) = 5.77. The reference evaluates this in double with libm (CUDA: the device
// libm, also in double); the fast CPU paths use their own vectorised log/sin/cos, accurate to
// ~1e-12, so their float results agree with the reference to 1 float ulp (<= 4.8e-7 for |z| < 8).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common/host_device.h"


namespace obl {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kPhiloxRounds = 10;

// Four 32-bit words: a counter going in, random words coming out.
struct Philox4 {
    uint32_t w[4];
};

// The Random123 Philox4x32-10 bijection (counter, key) -> words.
OBL_HD inline Philox4 philox4x32_10(Philox4 c, uint32_t k0, uint32_t k1) {
    for (int r = 0; r < kPhiloxRounds; ++r) {
        const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c.w[0];
        const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c.w[2];
        const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
        const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
        c = Philox4{{hi1 ^ c.w[1] ^ k0, lo1, hi0 ^ c.w[3] ^ k1, lo0}};
        k0 += kPhiloxW0;  // the bump after the last round is unused, as in Random123
        k1 += kPhiloxW1;
    }
    return c;
}

// The four words of block `block` under key `seed` (the stream contract above).
OBL_HD inline Philox4 philox_block(uint64_t block, uint64_t seed) {
    const Philox4 ctr{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u}};
    return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// The word of global element e: word e % 4 of block e / 4.
OBL_HD inline uint32_t philox_word(uint64_t e, uint64_t seed) {
    return philox_block(e >> 2, seed).w[e & 3];
}

// Word -> uniform in (0, 1), exact: (2 * (x >> 9) + 1) * 2^-24.
OBL_HD inline float philox_uniform(uint32_t x) {
    return static_cast<float>(2u * (x >> 9) + 1u) * 5.9604644775390625e-08f;  // 2^-24
}

// Box-Muller on two words of one block, in double: z_a = r cos t, z_b = r sin t.
OBL_HD inline void philox_box_muller(uint32_t xa, uint32_t xb, double* za, double* zb) {
    const double two_pi = 6.283185307179586476925286766559;
    const double r = ::sqrt(-2.0 * ::log(static_cast<double>(philox_uniform(xa))));
    const double t = two_pi * static_cast<double>(philox_uniform(xb));
    *za = r * ::cos(t);
    *zb = r * ::sin(t);
}

// The standard normal of global element e (reference path; recomputes its block).
OBL_HD inline double philox_normal(uint64_t e, uint64_t seed) {
    const Philox4 b = philox_block(e >> 2, seed);
    const int pair = static_cast<int>(e & 2);  // words (0, 1) or (2, 3)
    double za, zb;
    philox_box_muller(b.w[pair], b.w[pair + 1], &za, &zb);
    return (e & 1) ? zb : za;
}

}  // namespace obl
