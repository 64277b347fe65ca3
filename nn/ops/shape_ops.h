// Data movement (kernels/concat.h, index.h, pad.h, permute.h, interpolate.h, dropout.h).
// All outputs are fresh contiguous tensors.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/tensor.h"

namespace obl {

Tensor concat(const std::vector<Tensor>& xs, int dim);
Tensor stack(const std::vector<Tensor>& xs, int dim);
// Elements start, start + step, ... < end along dim (0 <= start <= end <= size, step >= 1).
Tensor slice(const Tensor& x, int dim, int64_t start, int64_t end, int64_t step = 1);
// index: i64 1-D; out = x indexed along dim. Backward scatters (adds) into the input gradient.
Tensor index_select(const Tensor& x, int dim, const Tensor& index);
// PyTorch gather/scatter_add: index has x's rank (i64); out[i][j] = x[i][index[i][j]] for dim 1.
Tensor gather(const Tensor& x, int dim, const Tensor& index);
// out = base with src added at index along dim (gradient to base and src).
Tensor scatter_add(const Tensor& base, int dim, const Tensor& index, const Tensor& src);
// Constant padding; pads = {last_lo, last_hi, second_last_lo, second_last_hi, ...} as in
// torch.nn.functional.pad (non-negative).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0.0);
Tensor permute(const Tensor& x, const std::vector<int>& dims);  // copies
Tensor transpose(const Tensor& x, int dim0, int dim1);          // copies

enum class InterpMode { Bilinear, Bicubic };
// Resize (N, C, H, W) to (N, C, out_h, out_w); align_corners = false follows PyTorch's
// F.interpolate (bicubic with A = -0.75 and border clamping).
Tensor interpolate(const Tensor& x, int64_t out_h, int64_t out_w, InterpMode mode,
                   bool align_corners = false);

// Inverted dropout: keep with probability 1 - p, scale kept values by 1/(1-p). The mask comes
// from Philox with counter (seed, element index), so CPU and CUDA drop the same elements.
// Identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed);

}  // namespace obl
