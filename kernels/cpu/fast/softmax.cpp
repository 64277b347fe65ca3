// Fast CPU softmax / log-softmax (f32): run-time ISA choice and threading around the SIMD row
// kernels (softmax_simd.h, compiled in softmax_avx512.cpp / softmax_avx2.cpp). Formulas in
// kernels/softmax.h. Rows go to threads in fixed blocks only when parallel_worth_it(N K); a row's
// result never depends on which thread computes it. Without AVX2 this is the reference.
#include "kernels/softmax.h"

#include <algorithm>
#include <cstdint>

#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/cpu/fast/softmax_isa.h"

namespace obl::kernels {

const SoftmaxRowKernels* softmax_rows_for_cpu() {
    switch (cpu_isa()) {
        case CpuIsa::Avx512:
            return &softmax_rows_avx512();
        case CpuIsa::Avx2:
            return &softmax_rows_avx2();
        default:
            return nullptr;
    }
}

namespace {

// Rows per task: enough work per task (>= ~4k elements) that OpenMP's per-iteration cost is noise.
int64_t rows_per_block(int64_t k) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(k, 1)); }

// Calls fn(first_row, rows) over [0, n) in fixed blocks, in parallel when worth it.
template <class Fn>
void for_row_blocks(SoftmaxDims d, Fn&& fn) {
    const int64_t block = rows_per_block(d.k);
    const int64_t blocks = (d.n + block - 1) / block;
#pragma omp parallel for if (parallel_worth_it(d.n * d.k)) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) fn(b * block, std::min(block, d.n - b * block));
}

}  // namespace

// Each public entry point: pick the ISA table (nullptr: the reference), then hand row blocks to
// the table's row kernel. The row pointers are offset here; the kernels only see whole rows.
void softmax_forward_fast_cpu(float* y, const float* x, SoftmaxDims d) {
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) return softmax_forward_cpu<float>(y, x, d);
    for_row_blocks(
        d, [&](int64_t r, int64_t rows) { rk->softmax(y + r * d.k, x + r * d.k, rows, d.k); });
}

void log_softmax_forward_fast_cpu(float* y, const float* x, SoftmaxDims d) {
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) return log_softmax_forward_cpu<float>(y, x, d);
    for_row_blocks(
        d, [&](int64_t r, int64_t rows) { rk->log_softmax(y + r * d.k, x + r * d.k, rows, d.k); });
}

void softmax_backward_fast_cpu(float* dx, const float* dy, const float* y, SoftmaxDims d) {
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) return softmax_backward_cpu<float>(dx, dy, y, d);
    for_row_blocks(d, [&](int64_t r, int64_t rows) {
        const int64_t o = r * d.k;
        rk->softmax_backward(dx + o, dy + o, y + o, rows, d.k);
    });
}

void log_softmax_backward_fast_cpu(float* dx, const float* dy, const float* y, SoftmaxDims d) {
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) return log_softmax_backward_cpu<float>(dx, dy, y, d);
    for_row_blocks(d, [&](int64_t r, int64_t rows) {
        const int64_t o = r * d.k;
        rk->log_softmax_backward(dx + o, dy + o, y + o, rows, d.k);
    });
}

}  // namespace obl::kernels
