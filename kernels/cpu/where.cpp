// CPU reference for where (kernels/where.h): y = cond ? a : b and its masked backward.
// Plain select loops (vectorised as blends); OpenMP only when n is large.
#include "kernels/where.h"

#include <cstdint>

#include "kernels/common/parallel.h"

namespace obl::kernels {

template <class T>
void where_forward_cpu(T* y, const uint8_t* cond, const T* a, const T* b, int64_t n) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = cond[i] ? a[i] : b[i];
}

template <class T>
void where_backward_cpu(T* da, T* db, const T* dy, const uint8_t* cond, int64_t n) {
    if (da) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
        for (int64_t i = 0; i < n; ++i) da[i] = cond[i] ? dy[i] : T(0);
    }
    if (db) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
        for (int64_t i = 0; i < n; ++i) db[i] = cond[i] ? T(0) : dy[i];
    }
}

template void where_forward_cpu<float>(float*, const uint8_t*, const float*, const float*, int64_t);
template void where_forward_cpu<double>(double*, const uint8_t*, const double*, const double*,
                                        int64_t);
template void where_backward_cpu<float>(float*, float*, const float*, const uint8_t*, int64_t);
template void where_backward_cpu<double>(double*, double*, const double*, const uint8_t*, int64_t);

}  // namespace obl::kernels
