// CPU reference for slice (kernels/slice.h): row copies; the backward is a gather over dx.
#include "kernels/slice.h"

#include <algorithm>
#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

template <class T>
void slice_forward_cpu(T* y, const T* x, SliceDims d) {
    const int64_t rows = d.outer * d.y_size;  // (o, j) pairs
#pragma omp parallel for if (parallel_worth_it(rows * d.inner)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / d.y_size, j = r % d.y_size;
        const T* src = x + (o * d.x_size + d.start + j * d.step) * d.inner;
        std::copy(src, src + d.inner, y + r * d.inner);
    }
}

template <class T>
void slice_backward_cpu(T* dx, const T* dy, SliceDims d) {
    const int64_t rows = d.outer * d.x_size;  // (o, s) pairs: every row of dx is written
#pragma omp parallel for if (parallel_worth_it(rows * d.inner)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / d.x_size, s = r % d.x_size;
        T* dst = dx + r * d.inner;
        const int64_t k = s - d.start;  // position relative to the first selected row
        const int64_t j = k / d.step;
        if (k >= 0 && k % d.step == 0 && j < d.y_size) {
            const T* src = dy + (o * d.y_size + j) * d.inner;
            std::copy(src, src + d.inner, dst);
        } else {
            std::fill(dst, dst + d.inner, T(0));
        }
    }
}

template void slice_forward_cpu<float>(float*, const float*, SliceDims);
template void slice_forward_cpu<double>(double*, const double*, SliceDims);
template void slice_backward_cpu<float>(float*, const float*, SliceDims);
template void slice_backward_cpu<double>(double*, const double*, SliceDims);

}  // namespace obl::kernels
