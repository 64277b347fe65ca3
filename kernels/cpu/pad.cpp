// CPU reference for constant padding (kernels/pad.h): one output row (the last dim) at a time.
#include "kernels/pad.h"

#include <algorithm>
#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

template <class T>
void pad_forward_cpu(T* y, const T* x, PadDims d) {
    const int r = d.rank;
    int64_t xs[PadDims::kMaxRank] = {}, y_shape[PadDims::kMaxRank] = {};
    for (int k = 0; k < r; ++k) y_shape[k] = d.lo[k] + d.x_shape[k] + d.hi[k];
    int64_t sx = 1;
    for (int k = r - 1; k >= 0; --k) {
        xs[k] = sx;
        sx *= d.x_shape[k];
    }
    const int64_t len = y_shape[r - 1];  // output row length
    int64_t rows = len == 0 ? 0 : 1;
    for (int k = 0; k < r - 1; ++k) rows *= y_shape[k];
    const T value = static_cast<T>(d.value);
#pragma omp parallel for if (parallel_worth_it(rows * len)) schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
        T* out = y + row * len;
        // Input row of this output row, or -1 when the row lies in the padding of an outer dim.
        int64_t rem = row, off = 0;
        bool inside = true;
        for (int k = r - 2; k >= 0; --k) {
            const int64_t c = rem % y_shape[k] - d.lo[k];
            rem /= y_shape[k];
            inside = inside && c >= 0 && c < d.x_shape[k];
            off += c * xs[k];
        }
        if (!inside) {
            std::fill(out, out + len, value);
            continue;
        }
        const int64_t lo = d.lo[r - 1], n = d.x_shape[r - 1];
        std::fill(out, out + lo, value);
        std::copy(x + off, x + off + n, out + lo);
        std::fill(out + lo + n, out + len, value);
    }
}

template <class T>
void pad_backward_cpu(T* dx, const T* dy, PadDims d) {
    const int r = d.rank;
    int64_t ys[PadDims::kMaxRank] = {}, y_shape[PadDims::kMaxRank] = {};
    for (int k = 0; k < r; ++k) y_shape[k] = d.lo[k] + d.x_shape[k] + d.hi[k];
    int64_t sy = 1;
    for (int k = r - 1; k >= 0; --k) {
        ys[k] = sy;
        sy *= y_shape[k];
    }
    const int64_t len = d.x_shape[r - 1];  // dx row length
    int64_t rows = 1;
    for (int k = 0; k < r - 1; ++k) rows *= d.x_shape[k];
    if (len == 0) rows = 0;
#pragma omp parallel for if (parallel_worth_it(rows * len)) schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
        int64_t rem = row, off = d.lo[r - 1];
        for (int k = r - 2; k >= 0; --k) {
            off += (rem % d.x_shape[k] + d.lo[k]) * ys[k];
            rem /= d.x_shape[k];
        }
        std::copy(dy + off, dy + off + len, dx + row * len);
    }
}

template void pad_forward_cpu<float>(float*, const float*, PadDims);
template void pad_forward_cpu<double>(double*, const double*, PadDims);
template void pad_backward_cpu<float>(float*, const float*, PadDims);
template void pad_backward_cpu<double>(double*, const double*, PadDims);

}  // namespace obl::kernels
