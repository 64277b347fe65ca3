// Private interface between the fast GEMM driver (kernels/cpu/fast/gemm.cpp) and its ISA-specific
// register-tiled micro-kernels (gemm_avx512.cpp, gemm_avx2.cpp). Not part of the public API.
//
// A micro-kernel computes one MR x NR tile of C with the whole tile held in registers:
//     C[i][j] = alpha * sum_{k < kc} A(i, k) * B(k, j) + beta * C[i][j]     i < m, j < n
// where A(i, k) = a[i * a_rs + k * a_ks] and B(k, j) = b[k * b_ks + j]. beta == 0 means C is
// write-only (NaN in C is ignored). The driver (GotoBLAS / BLIS scheme, see gemm.cpp) hands it
// either packed panels (A as MR-tall k-major strips, B as NR-wide k-major strips, both
// zero-padded) or, for skinny shapes where packing would cost more than it saves, the operand in
// place. Each C element is always the same sequence of FMAs over k in increasing order, whatever
// the tile or thread that computes it, so results never depend on the thread count.
#pragma once

#include <cstdint>

#include "kernels/gemm.h"

namespace obl::kernels::gemm_detail {

struct Tile {
    int64_t kc = 0;
    const float* a = nullptr;  // A(i, k) = a[i * a_rs + k * a_ks]
    int64_t a_rs = 0, a_ks = 0;
    const float* b = nullptr;  // B(k, j) = b[k * b_ks + j]; only j < n is ever read
    int64_t b_ks = 0;
    float* c = nullptr;  // C[i][j] = c[i * ldc + j]
    int64_t ldc = 0;
    int m = 0, n = 0;  // valid rows (<= MR) and columns (<= NR) of this tile
    float alpha = 1.f, beta = 0.f;
};

using MicroKernel = void (*)(const Tile& t);

// Transposing pack of `count` (<= w) rows of a row-major source into one k-major strip of width w:
//     dst[k * w + i] = src[i * ld + k]  for i < count,   0 for count <= i < w,   k < kc.
// Used for A stored (M, K) (rows of A become the strip's columns) and for B stored (N, K).
using PackTransposed = void (*)(float* dst, int w, const float* src, int64_t ld, int count,
                                int64_t kc);

struct MicroKernelInfo {
    int mr = 0, nr = 0;
    MicroKernel fn = nullptr;
};

// The kernels of one ISA. `packed` wants A packed (a_rs == 1, a_ks == mr, all mr rows readable:
// the panel is zero-padded); `strided` takes any a_rs / a_ks and never reads rows >= m, for A used
// in place. The `_half` versions have nr / 2 columns, for the last strip of C when at most nr / 2
// columns remain (N = 100 = 3 x 32 + 4 would otherwise waste 28 of the last 32 lanes). `narrow`
// is a strided kernel with a taller, narrower tile for C with very few columns (a linear head
// with N = 10 classes), where A is used in place.
struct KernelSet {
    const char* isa = "";
    int mr = 0, nr = 0;
    MicroKernel packed = nullptr, packed_half = nullptr;
    MicroKernel strided = nullptr, strided_half = nullptr;
    MicroKernelInfo narrow;
    PackTransposed pack_transposed = nullptr;
};

KernelSet avx512_kernel_set();  // gemm_avx512.cpp: call only when cpu_isa() >= Avx512
KernelSet avx2_kernel_set();    // gemm_avx2.cpp: call only when cpu_isa() >= Avx2
KernelSet scalar_kernel_set();  // gemm.cpp: portable C++
void pack_transposed_scalar(float* dst, int w, const float* src, int64_t ld, int count, int64_t kc);

// gemm_fast_cpu with an explicit kernel set, so that tests can run every ISA the CPU supports.
void gemm_with_kernels(const KernelSet& ks, float* c, const float* a, const float* b, GemmDims d,
                       float alpha, float beta);

}  // namespace obl::kernels::gemm_detail
