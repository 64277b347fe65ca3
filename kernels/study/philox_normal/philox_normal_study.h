// Kernel study of the Philox normal generator (docs/kernels.md): y[i] = z_e, e = offset + i, the
// standard normal of global stream element e under key `seed`, as kernels/random.h and
// kernels/common/philox.h define it (Philox4x32-10, then Box-Muller on pairs of uniforms). f32,
// mean 0, std 1.
//
// Each version adds ONE idea to the one before it (its file opens with that idea):
//   v1_per_element   one Philox call per element (philox_normal): 4x the Philox work, 2x the
//                    log/sqrt work, since 4 elements share a block and 2 share a pair
//   v2_per_block     one Philox call per block of 4 elements, one Box-Muller per pair
//   v3_simd_philox   Philox for 16 blocks at once in AVX-512 lanes; Box-Muller still via libm
//   v4_production    kernels/random.h's fill_normal_fast_cpu, CALLED (never copied): adds
//                    vectorised double-precision log and sin/cos polynomials (no libm) and OpenMP
// v1-v3 run on the calling thread and are bit-identical to fill_normal_cpu<float> (same double
// libm formula); v4 agrees within 1 float ulp (its own polynomials). v3 needs AVX-512.
#pragma once

#include "kernels/random.h"

namespace obl::kernels::study {

using NormalFn = void (*)(float* y, RandomDims d);

void philox_normal_v1(float* y, RandomDims d);
void philox_normal_v2(float* y, RandomDims d);
void philox_normal_v3(float* y, RandomDims d);
void philox_normal_v4(float* y, RandomDims d);

struct NormalVersion {
    const char* name;  // the file name under kernels/study/philox_normal/, without .cpp
    NormalFn fn;
    bool needs_avx512;
};

inline constexpr NormalVersion kNormalVersions[] = {
    {"v1_per_element", &philox_normal_v1, false},
    {"v2_per_block", &philox_normal_v2, false},
    {"v3_simd_philox", &philox_normal_v3, true},
    {"v4_production", &philox_normal_v4, false},
};

}  // namespace obl::kernels::study
