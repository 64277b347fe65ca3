// Random fills from Philox4x32-10 (kernels/common/philox.h): raw words, uniform, normal, integers.
//
// Shape letters: n elements, written to y[0 .. n). Element i of the output is GLOBAL element
// e = i + offset of the stream: it uses word e % 4 of the Philox block with counter e / 4 under
// key `seed`. Nothing depends on threads or launch geometry, so
//     fill(y, {n, seed, offset}) == tail of fill(y', {offset + n, seed, 0}) from index offset,
// bit for bit, on every implementation.
//
//   bits:    y[i] = x_e                                 (x_e = the Philox word of element e)
//   uniform: y[i] = lo + (hi - lo) * u_e,               u_e = (2 * (x_e >> 9) + 1) * 2^-24 in (0,1)
//   normal:  y[i] = mean + std * z_e,                   z_e = Box-Muller of the element's word
//   pair:
//              e % 4 = 0: r cos t,  1: r sin t  with r = sqrt(-2 ln u_{4b}),   t = 2 pi u_{4b+1}
//              e % 4 = 2: r cos t,  3: r sin t  with r = sqrt(-2 ln u_{4b+2}), t = 2 pi u_{4b+3}
//   randint: y[i] = floor(x_e * high / 2^32)            in [0, high), high <= 2^32 (multiply-shift:
//              each value has probability within 1 / 2^32 of 1 / high; no rejection loop, so
//              element e still uses exactly one word)
// There is no backward: random fills are not differentiable.
//
// Implementations:
//   *_cpu<T>       reference, T = float or double: one element at a time, straight from the
//                  formulas (the uniform/normal transforms are evaluated in double, with libm),
//                  OpenMP over elements. Double outputs carry the same u (exact) and z (unrounded).
//   *_fast_cpu     float: AVX-512 (16 blocks per step) or AVX2 (8 blocks), chosen at run time by
//                  cpu_isa(); scalar CPUs fall back to the reference. Philox is vectorised with
//                  32x32->64-bit multiplies; Box-Muller uses our own vectorised double-precision
//                  log and sin/cos polynomials (no libm call per element). Bits and uniforms are
//                  bit-identical to the reference; normals agree within 1 float ulp (< 1e-6 for
//                  |y| < 8) and are bit-identical between the AVX-512 and AVX2 paths.
//                  OpenMP over fixed chunks of blocks; results never depend on the thread count.
//   *_cuda         float: one thread per Philox block, grid-stride; Box-Muller in double.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct RandomDims {
    int64_t n = 0;        // elements to write
    uint64_t seed = 0;    // Philox key
    uint64_t offset = 0;  // global index of y[0] in the stream
};

// ---- CPU reference ----------------------------------------------------------------------------
void fill_bits_cpu(uint32_t* y, RandomDims d);
template <class T>
void fill_uniform_cpu(T* y, RandomDims d, double lo, double hi);
template <class T>
void fill_normal_cpu(T* y, RandomDims d, double mean, double std);
void fill_randint_cpu(int64_t* y, RandomDims d, int64_t high);

// ---- CPU fast path (float; dispatches on cpu_isa()) -------------------------------------------
void fill_bits_fast_cpu(uint32_t* y, RandomDims d);
void fill_uniform_fast_cpu(float* y, RandomDims d, double lo, double hi);
void fill_normal_fast_cpu(float* y, RandomDims d, double mean, double std);

// One ISA each (kernels/cpu/fast/random_avx512.cpp, random_avx2.cpp). Call only when cpu_isa()
// reports that ISA; tests and benchmarks use them to check both paths on one machine.
void fill_bits_avx512(uint32_t* y, RandomDims d);
void fill_uniform_avx512(float* y, RandomDims d, double lo, double hi);
void fill_normal_avx512(float* y, RandomDims d, double mean, double std);
void fill_bits_avx2(uint32_t* y, RandomDims d);
void fill_uniform_avx2(float* y, RandomDims d, double lo, double hi);
void fill_normal_avx2(float* y, RandomDims d, double mean, double std);

// ---- CUDA -------------------------------------------------------------------------------------
void fill_bits_cuda(uint32_t* y, RandomDims d, Stream s);
void fill_uniform_cuda(float* y, RandomDims d, double lo, double hi, Stream s);
void fill_normal_cuda(float* y, RandomDims d, double mean, double std, Stream s);
void fill_randint_cuda(int64_t* y, RandomDims d, int64_t high, Stream s);

}  // namespace obl::kernels
