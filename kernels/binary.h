// Binary elementwise kernels on equal shapes: y = f(a, b) and its backward
// da = dy * df/da, db = dy * df/db (PyTorch's tools/autograd/derivatives.yaml). No broadcasting
// here: callers broadcast explicitly (kernels/broadcast.h), DESIGN.md §M.10.
//
// Shape letters: n the number of elements of a, b, y (same shape, contiguous, flattened).
//
//   op     forward y     backward da          backward db
//   Add    a + b         dy                   dy
//   Sub    a - b         dy                   -dy
//   Mul    a * b         dy * b               dy * a
//   Div    a / b         dy / b               -dy * a / b^2
//   Pow    a^b           dy * b a^(b-1)       dy * a^b ln a
//                         (0 where b = 0)      (0 where a = 0 and b >= 0)
// Pow is meant for a > 0; the two masks are PyTorch's (pow_backward_self, pow_backward_exponent).
//
// The backward recomputes what it needs from a and b (no saved y): one extra pow for Pow,
// nothing for the others, and one tensor less kept alive between forward and backward.
//
// Implementations:
//   binary_{forward,backward}_cpu<T>   reference, T = float or double, OpenMP when large.
//   binary_{forward,backward}_cuda     float only, grid-stride.
// Backward kernels WRITE da and db (=); either may be nullptr when that gradient is not needed.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

enum class BinaryOp : int { Add, Sub, Mul, Div, Pow };

const char* binary_op_name(BinaryOp op);  // "add", "sub", ...

// y[i] = f(a[i], b[i]) for i < n. y may alias a or b.
template <class T>
void binary_forward_cpu(T* y, const T* a, const T* b, int64_t n, BinaryOp op);
// da[i], db[i] from dy[i], a[i], b[i]; da or db may be nullptr (not computed).
template <class T>
void binary_backward_cpu(T* da, T* db, const T* dy, const T* a, const T* b, int64_t n, BinaryOp op);

void binary_forward_cuda(float* y, const float* a, const float* b, int64_t n, BinaryOp op,
                         Stream s);
void binary_backward_cuda(float* da, float* db, const float* dy, const float* a, const float* b,
                          int64_t n, BinaryOp op, Stream s);

}  // namespace obl::kernels
