// Reductions over one dim (kernels/reduce.h). The reduced dim is removed unless keepdim.
// Viewed as (outer, R, inner) around `dim`; the CPU reference accumulates in double.
#pragma once

#include "nn/tensor.h"

namespace obl {

Tensor sum(const Tensor& x, int dim, bool keepdim = false);
Tensor mean(const Tensor& x, int dim, bool keepdim = false);
Tensor max(const Tensor& x, int dim, bool keepdim = false);     // gradient to the first argmax
Tensor min(const Tensor& x, int dim, bool keepdim = false);     // gradient to the first argmin
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);  // i64, first index of the max
// Variance with Bessel's correction when unbiased (PyTorch's default), else the population one.
Tensor var(const Tensor& x, int dim, bool unbiased = true, bool keepdim = false);

Tensor sum_all(const Tensor& x);   // scalar (shape [])
Tensor mean_all(const Tensor& x);  // scalar (shape [])

}  // namespace obl
