// Fast CPU fused linear-head step (f32; formulas and contract in kernels/head_step.h):
//   1. logits = gemm_fast_cpu(z, W^T)                       packed SIMD GEMM, (N, K)
//   2. one pass per row: + b, softmax, weighted CE, G       SIMD cross-entropy row kernel
//   3. dW = gemm_fast_cpu(G^T, z)                           (K, D)
//   4. db = column sums of G, row order, in double          (K)
// Step 2 calls the softmax family's AVX-512/AVX2 cross-entropy row kernel (softmax_isa.h) once
// per run of rows with equal weight w, with inv_n = w: it writes G_n = w (p_n - onehot(t_n)) and
// returns the run's sum of CE_n; the weighted sums are added with ordered_chunk_sum (fixed 64-row
// chunks in order, runs never cross a chunk), so the loss does not depend on the thread count.
// Without AVX2 the reference runs instead.
// Why this is faster than the autodiff path: the autodiff step runs linear (GEMM + bias
// broadcast), log-softmax, gather, weight multiply, sum, then their backward kernels, each a
// separate pass over (N, K) plus allocations; here (N, K) is touched three times and nothing is
// allocated.
#include "kernels/head_step.h"

#include <cstdint>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/cpu/fast/softmax_isa.h"
#include "kernels/cross_entropy.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"

namespace obl::kernels {

void head_step_fast_cpu(float* loss, float* grad_weight, float* grad_bias, float* logits,
                        float* grad_logits, const float* z, const float* weight, const float* bias,
                        const int64_t* targets, const float* sample_weights, HeadStepDims d) {
    OBL_CHECK(d.n >= 1 && d.d >= 1 && d.k >= 1, "head_step: needs N, D, K >= 1, got N = ", d.n,
              ", D = ", d.d, ", K = ", d.k);
    const SoftmaxRowKernels* rk = softmax_rows_for_cpu();
    if (!rk) {
        head_step_cpu<float>(loss, grad_weight, grad_bias, logits, grad_logits, z, weight, bias,
                             targets, sample_weights, d);
        return;
    }
    check_targets_cpu(targets, CrossEntropyDims{d.n, d.k});

    // 1. l = z W^T.
    gemm_fast_cpu(logits, z, weight, GemmDims{1, d.n, d.k, d.d, false, true});

    // 2. Bias, softmax, weighted CE and G. The row kernel takes one weight per call, so each
    //    64-row chunk is cut into runs of equal weight (one run for a plain mean, two for NG+'s
    //    retain + forget batch): calling it once per row would cost more than the work (~0.2 us
    //    per call against ~15 ns per 10-class row).
    const float mean_w = 1.f / static_cast<float>(d.n);
    const double total = ordered_chunk_sum(d.n, d.k, [&](int64_t begin, int64_t end) {
        if (bias) {
            for (int64_t n = begin; n < end; ++n) {
                float* l = logits + n * d.k;
                for (int64_t k = 0; k < d.k; ++k) l[k] += bias[k];
            }
        }
        double acc = 0;
        for (int64_t run = begin; run < end;) {
            const float w = sample_weights ? sample_weights[run] : mean_w;
            int64_t stop = run + 1;
            while (stop < end && (sample_weights ? sample_weights[stop] : mean_w) == w) ++stop;
            const double ce = rk->cross_entropy(grad_logits + run * d.k, logits + run * d.k,
                                                targets + run, stop - run, d.k, 0.f, w);
            acc += static_cast<double>(w) * ce;
            run = stop;
        }
        return acc;
    });
    loss[0] = static_cast<float>(total);

    // 3. dW = G^T z.
    gemm_fast_cpu(grad_weight, grad_logits, z, GemmDims{1, d.k, d.d, d.n, true, false});

    // 4. db: rows in order, K running sums (a single thread: N K adds are cheap next to 3.).
    if (bias && grad_bias) {
        std::vector<double> acc(static_cast<size_t>(d.k), 0.0);
        for (int64_t n = 0; n < d.n; ++n) {
            const float* g = grad_logits + n * d.k;
            for (int64_t k = 0; k < d.k; ++k) acc[static_cast<size_t>(k)] += g[k];
        }
        for (int64_t k = 0; k < d.k; ++k) grad_bias[k] = static_cast<float>(acc[k]);
    }
}

}  // namespace obl::kernels
