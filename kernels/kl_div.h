// KL divergence KL(p || q) with PyTorch's kl_div(input = log q, target = p, reduction =
// "batchmean"): the SCRUB distillation loss.
//
// Shape letters: N = size(0) of the inputs (the batchmean divisor), K = numel / N (every other
// dim flattened). log_q, p: (N, K); loss is a single element.
// Forward:   loss = (1/N) sum_{n,k} p (log p - log_q),   with 0 log 0 = 0 (a term with p = 0 is 0,
//            whatever log_q is; PyTorch's xlogy convention)
// Backward:  dlog_q = -p dloss / N                       (no gradient to p)
//
// Implementations:
//   kl_div_*_cpu<T>  reference: per-row sums in double, the mean over rows in a fixed order
//                    (ordered_chunk_sum, kernels/reduce.h): deterministic for any thread count.
//   kl_div_*_cuda    forward: one warp per row (K <= 1024) or one 256-thread block per row, row
//                    sums into the context workspace, then one block adds them in a fixed order;
//                    backward: one thread per element.
// Reference: torch.nn.functional.kl_div (aten/src/ATen/native/Loss.cpp); SCRUB (Kurmanji et al.,
// "Towards Unbounded Machine Unlearning", NeurIPS 2023) uses it between teacher and student.
#pragma once

#include <cstdint>

#include "kernels/common/stream.h"

namespace obl::kernels {

struct KlDivDims {
    int64_t n = 0;  // N = size(0), the batchmean divisor
    int64_t k = 0;  // K = elements per row
};

template <class T>
void kl_div_forward_cpu(T* loss, const T* log_q, const T* p, KlDivDims d);
template <class T>
void kl_div_backward_cpu(T* dlog_q, const T* dloss, const T* p, KlDivDims d);

void kl_div_forward_cuda(float* loss, const float* log_q, const float* p, KlDivDims d, Stream s);
void kl_div_backward_cuda(float* dlog_q, const float* dloss, const float* p, KlDivDims d, Stream s);

}  // namespace obl::kernels
