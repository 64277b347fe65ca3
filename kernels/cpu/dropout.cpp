// CPU reference for inverted dropout (kernels/dropout.h): y_i = (u_i >= p) ? x_i / (1 - p) : 0,
// u_i the Philox uniform of element i (word i % 4 of block i / 4, key seed). The mask is
// regenerated, never stored, so forward and backward are the same loop.
#include "kernels/dropout.h"

#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/common/philox.h"

namespace obl::kernels {

namespace {

// One Philox call (~60 integer ops) per 4 elements: threads pay off from ~2k elements.
constexpr int64_t kWorkPerElement = 16;

// Loops over Philox blocks so each block's four words serve its four elements 4b .. 4b + 3.
template <class T>
void apply_mask(T* y, const T* x, DropoutDims d) {
    OBL_CHECK(d.p >= 0 && d.p <= 1, "dropout: p must be in [0, 1], got ", d.p);
    // p = 1 drops everything; the scale is then irrelevant (and would be infinite).
    const double scale = d.p < 1 ? 1.0 / (1.0 - d.p) : 0.0;
    const int64_t blocks = (d.n + 3) / 4;
#pragma omp parallel for if (parallel_worth_it(d.n * kWorkPerElement)) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const Philox4 w = philox_block(static_cast<uint64_t>(b), d.seed);
        for (int k = 0; k < 4 && 4 * b + k < d.n; ++k) {
            const int64_t i = 4 * b + k;
            const double u = philox_uniform(w.w[k]);  // element i's uniform, word i % 4
            y[i] = u >= d.p ? static_cast<T>(x[i] * scale) : T(0);
        }
    }
}

}  // namespace

template <class T>
void dropout_forward_cpu(T* y, const T* x, DropoutDims d) {
    apply_mask(y, x, d);
}

template <class T>
void dropout_backward_cpu(T* dx, const T* dy, DropoutDims d) {
    apply_mask(dx, dy, d);
}

template void dropout_forward_cpu<float>(float*, const float*, DropoutDims);
template void dropout_forward_cpu<double>(double*, const double*, DropoutDims);
template void dropout_backward_cpu<float>(float*, const float*, DropoutDims);
template void dropout_backward_cpu<double>(double*, const double*, DropoutDims);

}  // namespace obl::kernels
