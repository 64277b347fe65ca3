// CPU reference for concat (kernels/concat.h): one contiguous run of I elements per (o, s).
#include "kernels/concat.h"

#include <algorithm>
#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

template <class T>
void concat_forward_cpu(T* y, const T* x, ConcatDims d) {
    const int64_t rows = d.outer * d.x_size;  // (o, s) pairs of this input
#pragma omp parallel for if (parallel_worth_it(rows * d.inner)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / d.x_size, s = r % d.x_size;
        const T* src = x + r * d.inner;
        std::copy(src, src + d.inner, y + (o * d.y_size + d.offset + s) * d.inner);
    }
}

template <class T>
void concat_backward_cpu(T* dx, const T* dy, ConcatDims d) {
    const int64_t rows = d.outer * d.x_size;
#pragma omp parallel for if (parallel_worth_it(rows * d.inner)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / d.x_size, s = r % d.x_size;
        const T* src = dy + (o * d.y_size + d.offset + s) * d.inner;
        std::copy(src, src + d.inner, dx + r * d.inner);
    }
}

template void concat_forward_cpu<float>(float*, const float*, ConcatDims);
template void concat_forward_cpu<double>(double*, const double*, ConcatDims);
template void concat_backward_cpu<float>(float*, const float*, ConcatDims);
template void concat_backward_cpu<double>(double*, const double*, ConcatDims);

}  // namespace obl::kernels
