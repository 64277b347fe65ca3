// Elementwise ops (kernels/unary.h, kernels/binary.h, kernels/where.h, kernels/broadcast.h).
// f32 and f64 (f64 on the CPU only). Binary ops need equal shapes: broadcast explicitly.
#pragma once

#include "nn/tensor.h"

namespace obl {

// ---- unary: y = f(x) ----
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);                       // d/dx = sign(x), 0 at 0
Tensor relu(const Tensor& x);                      // d/dx = 1 for x > 0 else 0
Tensor gelu(const Tensor& x);                      // exact: x * Phi(x) with erf (PyTorch default)
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);     // x^p; d/dx = p x^(p-1)
Tensor clamp(const Tensor& x, double lo, double hi);  // d/dx = 1 inside [lo, hi], else 0
Tensor add_scalar(const Tensor& x, double c);      // x + c
Tensor mul_scalar(const Tensor& x, double c);      // x * c

// ---- binary, equal shapes: y = f(a, b) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);      // a^b for a > 0

// y = cond ? a : b; cond is u8 (nonzero = true) of the same shape; gradients flow to a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Explicit broadcasting, NumPy rules (size-1 or missing leading dims expand).
// broadcast_to's backward is sum_to; sum_to's backward is broadcast_to.
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace obl
