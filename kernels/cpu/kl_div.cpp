// CPU reference KL divergence, batchmean (formulas in kernels/kl_div.h).
// Row sums in double; the mean over rows in a fixed order (ordered_chunk_sum).
#include "kernels/kl_div.h"

#include <cmath>
#include <cstdint>

#include "kernels/common/parallel.h"
#include "kernels/reduce.h"

namespace obl::kernels {

// The (N, K) tensor is flat here: chunk [begin, end) of rows is elements [begin K, end K).
template <class T>
void kl_div_forward_cpu(T* loss, const T* log_q, const T* p, KlDivDims d) {
    const double total = ordered_chunk_sum(d.n, d.k, [&](int64_t begin, int64_t end) {
        double s = 0;
        for (int64_t i = begin * d.k; i < end * d.k; ++i) {
            const double pi = p[i];
            if (pi != 0) s += pi * (std::log(pi) - log_q[i]);  // 0 log 0 = 0
        }
        return s;
    });
    loss[0] = static_cast<T>(total / static_cast<double>(d.n));
}

// dlog_q = -p dloss / N for every element (including p = 0, where it is 0).
template <class T>
void kl_div_backward_cpu(T* dlog_q, const T* dloss, const T* p, KlDivDims d) {
    const double scale = -static_cast<double>(dloss[0]) / static_cast<double>(d.n);
    const int64_t total = d.n * d.k;
#pragma omp parallel for if (parallel_worth_it(total)) schedule(static)
    for (int64_t i = 0; i < total; ++i) dlog_q[i] = static_cast<T>(p[i] * scale);
}

template void kl_div_forward_cpu<float>(float*, const float*, const float*, KlDivDims);
template void kl_div_forward_cpu<double>(double*, const double*, const double*, KlDivDims);
template void kl_div_backward_cpu<float>(float*, const float*, const float*, KlDivDims);
template void kl_div_backward_cpu<double>(double*, const double*, const double*, KlDivDims);

}  // namespace obl::kernels
