// CPU reference for the unary elementwise ops (formulas in kernels/unary.h). Each op is one
// plain loop over the n elements, written as the formula; the switch on the op sits outside the
// loop so the simple ops (neg, relu, abs, clamp, scalar ops) vectorise. Memory-bound, so the
// reference is also the production CPU path (OpenMP only when n is large).
#include "kernels/unary.h"

#include <cmath>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;    // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)

// y[i] = f(x[i])
template <class T, class F>
void map1(T* y, const T* x, int64_t n, F f) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// out[i] = f(a[i], b[i])
template <class T, class F>
void map2(T* out, const T* a, const T* b, int64_t n, F f) {
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

}  // namespace

const char* unary_op_name(UnaryOp op) {
    switch (op) {
        case UnaryOp::Neg:
            return "neg";
        case UnaryOp::Exp:
            return "exp";
        case UnaryOp::Log:
            return "log";
        case UnaryOp::Sqrt:
            return "sqrt";
        case UnaryOp::Abs:
            return "abs";
        case UnaryOp::Relu:
            return "relu";
        case UnaryOp::Gelu:
            return "gelu";
        case UnaryOp::Sigmoid:
            return "sigmoid";
        case UnaryOp::Tanh:
            return "tanh";
        case UnaryOp::Pow:
            return "pow";
        case UnaryOp::Clamp:
            return "clamp";
        case UnaryOp::AddScalar:
            return "add_scalar";
        case UnaryOp::MulScalar:
            return "mul_scalar";
    }
    return "?";
}

template <class T>
void unary_forward_cpu(T* y, const T* x, int64_t n, UnaryParams p) {
    const T p0 = static_cast<T>(p.p0), p1 = static_cast<T>(p.p1);
    switch (p.op) {
        case UnaryOp::Neg:
            map1(y, x, n, [](T v) { return -v; });
            break;
        case UnaryOp::Exp:
            map1(y, x, n, [](T v) { return std::exp(v); });
            break;
        case UnaryOp::Log:
            map1(y, x, n, [](T v) { return std::log(v); });
            break;
        case UnaryOp::Sqrt:
            map1(y, x, n, [](T v) { return std::sqrt(v); });
            break;
        case UnaryOp::Abs:
            map1(y, x, n, [](T v) { return std::abs(v); });
            break;
        case UnaryOp::Relu:
            map1(y, x, n, [](T v) { return v < T(0) ? T(0) : v; });
            break;
        case UnaryOp::Gelu:
            map1(y, x, n,
                 [](T v) { return T(0.5) * v * (T(1) + std::erf(v * static_cast<T>(kInvSqrt2))); });
            break;
        case UnaryOp::Sigmoid:
            // e^-x overflows for very negative x: use e^x / (1 + e^x) there.
            map1(y, x, n, [](T v) {
                if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
                const T e = std::exp(v);
                return e / (T(1) + e);
            });
            break;
        case UnaryOp::Tanh:
            map1(y, x, n, [](T v) { return std::tanh(v); });
            break;
        case UnaryOp::Pow:
            map1(y, x, n, [p0](T v) { return std::pow(v, p0); });
            break;
        case UnaryOp::Clamp:
            // Comparisons (not fmin/fmax) so a NaN input stays NaN, as in PyTorch.
            map1(y, x, n, [p0, p1](T v) { return v < p0 ? p0 : (v > p1 ? p1 : v); });
            break;
        case UnaryOp::AddScalar:
            map1(y, x, n, [p0](T v) { return v + p0; });
            break;
        case UnaryOp::MulScalar:
            map1(y, x, n, [p0](T v) { return v * p0; });
            break;
        default:
            OBL_THROW("unary_forward_cpu: unknown op ", static_cast<int>(p.op));
    }
}

template <class T>
void unary_backward_cpu(T* dx, const T* dy, const T* x, const T* y, int64_t n, UnaryParams p) {
    OBL_CHECK(!unary_backward_reads_x(p.op) || x, "unary_backward_cpu(", unary_op_name(p.op),
              "): needs the forward input x");
    OBL_CHECK(!unary_backward_reads_y(p.op) || y, "unary_backward_cpu(", unary_op_name(p.op),
              "): needs the forward output y");
    const T p0 = static_cast<T>(p.p0), p1 = static_cast<T>(p.p1);
    switch (p.op) {
        case UnaryOp::Neg:
            map1(dx, dy, n, [](T g) { return -g; });
            break;
        case UnaryOp::Exp:
            map2(dx, dy, y, n, [](T g, T v) { return g * v; });
            break;
        case UnaryOp::Log:
            map2(dx, dy, x, n, [](T g, T v) { return g / v; });
            break;
        case UnaryOp::Sqrt:
            map2(dx, dy, y, n, [](T g, T v) { return g / (T(2) * v); });
            break;
        case UnaryOp::Abs:
            map2(dx, dy, x, n, [](T g, T v) { return v > T(0) ? g : (v < T(0) ? -g : T(0)); });
            break;
        case UnaryOp::Relu:
            map2(dx, dy, x, n, [](T g, T v) { return v > T(0) ? g : T(0); });
            break;
        case UnaryOp::Gelu:
            // d/dx [x Phi(x)] = Phi(x) + x phi(x)
            map2(dx, dy, x, n, [](T g, T v) {
                const T cdf = T(0.5) * (T(1) + std::erf(v * static_cast<T>(kInvSqrt2)));
                const T pdf = static_cast<T>(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v);
                return g * (cdf + v * pdf);
            });
            break;
        case UnaryOp::Sigmoid:
            map2(dx, dy, y, n, [](T g, T v) { return g * v * (T(1) - v); });
            break;
        case UnaryOp::Tanh:
            map2(dx, dy, y, n, [](T g, T v) { return g * (T(1) - v * v); });
            break;
        case UnaryOp::Pow:
            // 0 when p = 0 (not 0 * x^-1, NaN at x = 0), as PyTorch's pow_backward
            map2(dx, dy, x, n,
                 [p0](T g, T v) { return p0 == T(0) ? T(0) : g * p0 * std::pow(v, p0 - T(1)); });
            break;
        case UnaryOp::Clamp:
            map2(dx, dy, x, n, [p0, p1](T g, T v) { return v >= p0 && v <= p1 ? g : T(0); });
            break;
        case UnaryOp::AddScalar:
            map1(dx, dy, n, [](T g) { return g; });
            break;
        case UnaryOp::MulScalar:
            map1(dx, dy, n, [p0](T g) { return g * p0; });
            break;
        default:
            OBL_THROW("unary_backward_cpu: unknown op ", static_cast<int>(p.op));
    }
}

template void unary_forward_cpu<float>(float*, const float*, int64_t, UnaryParams);
template void unary_forward_cpu<double>(double*, const double*, int64_t, UnaryParams);
template void unary_backward_cpu<float>(float*, const float*, const float*, const float*, int64_t,
                                        UnaryParams);
template void unary_backward_cpu<double>(double*, const double*, const double*, const double*,
                                         int64_t, UnaryParams);

}  // namespace obl::kernels
