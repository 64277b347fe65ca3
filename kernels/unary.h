// Unary elementwise kernels: y = f(x) and its backward dx = dy * f'(x), for every op in the
// UnaryOp table below (PyTorch's definitions, aten/src/ATen/native/UnaryOps.cpp and
// tools/autograd/derivatives.yaml).
//
// Shape letters: n the number of elements (any shape, contiguous, flattened).
//
//   op          forward y                        backward dx                  reads
//   Neg         -x                               -dy                          -
//   Exp         e^x                              dy * y                       y
//   Log         ln x                             dy / x                       x
//   Sqrt        sqrt(x)                          dy / (2 y)                   y
//   Abs         |x|                              dy * sign(x)   (0 at x = 0)  x
//   Relu        max(x, 0)                        dy * [x > 0]                 x
//   Gelu        x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2                  x
//                                                dy * (Phi(x) + x phi(x)),
//                                                phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   Sigmoid     1 / (1 + e^-x)                   dy * y (1 - y)               y
//   Tanh        tanh x                           dy * (1 - y^2)               y
//   Pow         x^p                (p = p0)      dy * p x^(p-1)  (0 if p = 0) x
//   Clamp       min(max(x, lo), hi)              dy * [lo <= x <= hi]         x
//                                  (lo = p0, hi = p1)
//   AddScalar   x + c              (c = p0)      dy                           -
//   MulScalar   x * c              (c = p0)      dy * c                       -
//
// Gelu is the exact (erf) form, PyTorch's default approximate='none'. Sigmoid uses the
// overflow-free split (e^x / (1 + e^x) for x < 0). The CPU reference computes in the element
// type T with the <cmath> functions; the CUDA kernels use the matching CUDA math library
// functions (expf, erff, ...; no intrinsics, no fast math), so the two agree to a few ulp.
//
// Implementations:
//   unary_{forward,backward}_cpu<T>   reference, T = float or double; OpenMP over elements when
//                                     large (memory-bound: no separate fast CPU path).
//   unary_{forward,backward}_cuda     float only; grid-stride, one op per launch.
// Backward kernels WRITE dx (=), never accumulate.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

enum class UnaryOp : int {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Relu,
    Gelu,
    Sigmoid,
    Tanh,
    Pow,
    Clamp,
    AddScalar,
    MulScalar,
};

// One op and its (up to two) scalar parameters: Pow p0 = exponent; Clamp p0 = lo, p1 = hi;
// AddScalar / MulScalar p0 = c. Unused parameters are ignored.
struct UnaryParams {
    UnaryOp op = UnaryOp::Neg;
    double p0 = 0.0, p1 = 0.0;
};

const char* unary_op_name(UnaryOp op);  // "neg", "exp", ... (benchmarks, messages)

// Which saved tensors the backward of `op` reads (the "reads" column above). The op wrapper
// keeps only those alive; the backward kernels accept nullptr for the ones not read.
constexpr bool unary_backward_reads_x(UnaryOp op) {
    return op == UnaryOp::Log || op == UnaryOp::Abs || op == UnaryOp::Relu || op == UnaryOp::Gelu ||
           op == UnaryOp::Pow || op == UnaryOp::Clamp;
}
constexpr bool unary_backward_reads_y(UnaryOp op) {
    return op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Sigmoid ||
           op == UnaryOp::Tanh;
}

// y[i] = f(x[i]) for i < n. y may alias x.
template <class T>
void unary_forward_cpu(T* y, const T* x, int64_t n, UnaryParams p);
// dx[i] = dy[i] * f'(x[i]); x and y are the forward input and output (see "reads" above).
template <class T>
void unary_backward_cpu(T* dx, const T* dy, const T* x, const T* y, int64_t n, UnaryParams p);

void unary_forward_cuda(float* y, const float* x, int64_t n, UnaryParams p, Stream s);
void unary_backward_cuda(float* dx, const float* dy, const float* x, const float* y, int64_t n,
                         UnaryParams p, Stream s);

}  // namespace obl::kernels
