// Memory utilities used by the tensor core (not differentiable ops, so not in the op table):
// fill, dtype cast and in-place accumulate, on the CPU and on CUDA.
//
//   fill:       y[i] = value                         (n elements)
//   cast:       y[i] = (To) x[i]                     (n elements, any pair of our dtypes)
//   accumulate: y[i] += x[i]                         (n elements; the autograd engine's sum)
// Dtype codes follow nn/dtype.h: 0 f32, 1 f64, 2 i32, 3 i64, 4 u8.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

void fill_cpu(void* y, int dtype, int64_t n, double value);
void cast_cpu(void* y, int y_dtype, const void* x, int x_dtype, int64_t n);
void accumulate_cpu(void* y, const void* x, int dtype, int64_t n);

void fill_cuda(void* y, int dtype, int64_t n, double value, Stream s);
void cast_cuda(void* y, int y_dtype, const void* x, int x_dtype, int64_t n, Stream s);
void accumulate_cuda(void* y, const void* x, int dtype, int64_t n, Stream s);

}  // namespace obl::kernels
