// CPU reference for the binary elementwise ops on equal shapes (formulas in kernels/binary.h):
// one plain loop per op and gradient, the switch outside the loop so the loops vectorise.
// Memory-bound, so the reference is also the production CPU path (OpenMP only when n is large).
#include "kernels/binary.h"

#include <cmath>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

// out[i] = f(u[i])
template <class T, class F>
void map1(T* out, const T* u, int64_t n, F f) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = f(u[i]);
}

// out[i] = f(u[i], v[i])
template <class T, class F>
void map2(T* out, const T* u, const T* v, int64_t n, F f) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = f(u[i], v[i]);
}

// out[i] = f(g[i], a[i], b[i])
template <class T, class F>
void map3(T* out, const T* g, const T* a, const T* b, int64_t n, F f) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = f(g[i], a[i], b[i]);
}

template <class T>
T pow_grad_exponent(T g, T a, T b) {  // dy * a^b ln a, masked where a = 0 and b >= 0
    return a == T(0) && b >= T(0) ? T(0) : g * std::pow(a, b) * std::log(a);
}

}  // namespace

const char* binary_op_name(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add:
            return "add";
        case BinaryOp::Sub:
            return "sub";
        case BinaryOp::Mul:
            return "mul";
        case BinaryOp::Div:
            return "div";
        case BinaryOp::Pow:
            return "pow";
    }
    return "?";
}

template <class T>
void binary_forward_cpu(T* y, const T* a, const T* b, int64_t n, BinaryOp op) {
    switch (op) {
        case BinaryOp::Add:
            map2(y, a, b, n, [](T u, T v) { return u + v; });
            break;
        case BinaryOp::Sub:
            map2(y, a, b, n, [](T u, T v) { return u - v; });
            break;
        case BinaryOp::Mul:
            map2(y, a, b, n, [](T u, T v) { return u * v; });
            break;
        case BinaryOp::Div:
            map2(y, a, b, n, [](T u, T v) { return u / v; });
            break;
        case BinaryOp::Pow:
            map2(y, a, b, n, [](T u, T v) { return std::pow(u, v); });
            break;
        default:
            OBL_THROW("binary_forward_cpu: unknown op ", static_cast<int>(op));
    }
}

template <class T>
void binary_backward_cpu(T* da, T* db, const T* dy, const T* a, const T* b, int64_t n,
                         BinaryOp op) {
    switch (op) {
        case BinaryOp::Add:
            if (da) map1(da, dy, n, [](T g) { return g; });
            if (db) map1(db, dy, n, [](T g) { return g; });
            break;
        case BinaryOp::Sub:
            if (da) map1(da, dy, n, [](T g) { return g; });
            if (db) map1(db, dy, n, [](T g) { return -g; });
            break;
        case BinaryOp::Mul:
            if (da) map2(da, dy, b, n, [](T g, T v) { return g * v; });
            if (db) map2(db, dy, a, n, [](T g, T u) { return g * u; });
            break;
        case BinaryOp::Div:
            if (da) map2(da, dy, b, n, [](T g, T v) { return g / v; });
            if (db) map3(db, dy, a, b, n, [](T g, T u, T v) { return -g * u / (v * v); });
            break;
        case BinaryOp::Pow:
            if (da)
                map3(da, dy, a, b, n, [](T g, T u, T v) {
                    return v == T(0) ? T(0) : g * v * std::pow(u, v - T(1));
                });
            if (db) map3(db, dy, a, b, n, pow_grad_exponent<T>);
            break;
        default:
            OBL_THROW("binary_backward_cpu: unknown op ", static_cast<int>(op));
    }
}

template void binary_forward_cpu<float>(float*, const float*, const float*, int64_t, BinaryOp);
template void binary_forward_cpu<double>(double*, const double*, const double*, int64_t, BinaryOp);
template void binary_backward_cpu<float>(float*, float*, const float*, const float*, const float*,
                                         int64_t, BinaryOp);
template void binary_backward_cpu<double>(double*, double*, const double*, const double*,
                                          const double*, int64_t, BinaryOp);

}  // namespace obl::kernels
