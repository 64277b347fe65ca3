// CPU fill / cast / accumulate (plain loops; memory-bound, parallel when large).
#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/memory.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

template <class F>
void with_type(int dtype, F&& f) {
    switch (dtype) {
        case 0: f(float{}); break;
        case 1: f(double{}); break;
        case 2: f(int32_t{}); break;
        case 3: f(int64_t{}); break;
        case 4: f(uint8_t{}); break;
        default: OBL_THROW("unknown dtype code ", dtype);
    }
}

}  // namespace

void fill_cpu(void* y, int dtype, int64_t n, double value) {
    with_type(dtype, [&](auto t) {
        using T = decltype(t);
        T* out = static_cast<T*>(y);
        const T v = static_cast<T>(value);
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
        for (int64_t i = 0; i < n; ++i) out[i] = v;
    });
}

void cast_cpu(void* y, int y_dtype, const void* x, int x_dtype, int64_t n) {
    with_type(y_dtype, [&](auto to) {
        using To = decltype(to);
        with_type(x_dtype, [&](auto from) {
            using From = decltype(from);
            To* out = static_cast<To*>(y);
            const From* in = static_cast<const From*>(x);
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
            for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(in[i]);
        });
    });
}

void accumulate_cpu(void* y, const void* x, int dtype, int64_t n) {
    with_type(dtype, [&](auto t) {
        using T = decltype(t);
        T* out = static_cast<T*>(y);
        const T* in = static_cast<const T*>(x);
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(out[i] + in[i]);
    });
}

}  // namespace obl::kernels
