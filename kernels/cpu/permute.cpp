// CPU reference for permute (kernels/permute.h), plus the dims helpers shared with the CUDA
// launcher: each output row (the last output dim) is a strided read from x.
#include "kernels/permute.h"

#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

PermuteDims permute_simplify(const PermuteDims& d) {
    const int r = d.rank;
    // 1. Drop size-1 input dims; `renum` maps a kept input dim to its new number.
    int renum[PermuteDims::kMaxRank];
    int64_t shape[PermuteDims::kMaxRank];
    int kept = 0;
    for (int i = 0; i < r; ++i) {
        renum[i] = d.x_shape[i] == 1 ? -1 : kept;
        if (d.x_shape[i] != 1) shape[kept++] = d.x_shape[i];
    }
    int perm[PermuteDims::kMaxRank];
    int n = 0;
    for (int k = 0; k < r; ++k)
        if (renum[d.perm[k]] >= 0) perm[n++] = renum[d.perm[k]];
    OBL_ASSERT(n == kept);
    // 2. Merge runs of output dims whose input dims are consecutive (perm[k+1] == perm[k] + 1):
    //    run_start[i] marks an input dim that begins a run.
    bool run_start[PermuteDims::kMaxRank];
    for (int i = 0; i < n; ++i) run_start[i] = true;
    for (int k = 0; k + 1 < n; ++k)
        if (perm[k + 1] == perm[k] + 1) run_start[perm[k + 1]] = false;
    int merged[PermuteDims::kMaxRank];  // input dim -> merged input dim
    PermuteDims out;
    for (int i = 0; i < n; ++i) {
        if (run_start[i]) out.x_shape[out.rank++] = 1;
        merged[i] = out.rank - 1;
        out.x_shape[out.rank - 1] *= shape[i];
    }
    int m = 0;
    for (int k = 0; k < n; ++k)
        if (run_start[perm[k]]) out.perm[m++] = merged[perm[k]];
    OBL_ASSERT(m == out.rank);
    if (out.rank == 0) {  // every dim had size 1 (or a scalar): one element
        out.rank = 1;
        out.x_shape[0] = 1;
        out.perm[0] = 0;
    }
    return out;
}

PermuteDims permute_inverse(const PermuteDims& d) {
    PermuteDims inv;
    inv.rank = d.rank;
    for (int k = 0; k < d.rank; ++k) {
        inv.x_shape[k] = d.x_shape[d.perm[k]];  // Y_k
        inv.perm[d.perm[k]] = k;
    }
    return inv;
}

template <class T>
void permute_forward_cpu(T* y, const T* x, PermuteDims d) {
    d = permute_simplify(d);
    const int r = d.rank;
    int64_t xs[PermuteDims::kMaxRank], y_shape[PermuteDims::kMaxRank];
    int64_t s = 1;
    for (int i = r - 1; i >= 0; --i) {
        xs[i] = s;
        s *= d.x_shape[i];
    }
    for (int k = 0; k < r; ++k) y_shape[k] = d.x_shape[d.perm[k]];
    const int64_t len = y_shape[r - 1];           // output row length
    const int64_t stride = xs[d.perm[r - 1]];     // x stride along an output row
    const int64_t rows = len == 0 ? 0 : s / len;  // s = numel
#pragma omp parallel for if (parallel_worth_it(s)) schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
        int64_t rem = row, off = 0;
        for (int k = r - 2; k >= 0; --k) {
            off += (rem % y_shape[k]) * xs[d.perm[k]];
            rem /= y_shape[k];
        }
        T* out = y + row * len;
        for (int64_t t = 0; t < len; ++t) out[t] = x[off + t * stride];
    }
}

template <class T>
void permute_backward_cpu(T* dx, const T* dy, PermuteDims d) {
    permute_forward_cpu(dx, dy, permute_inverse(d));
}

template void permute_forward_cpu<float>(float*, const float*, PermuteDims);
template void permute_forward_cpu<double>(double*, const double*, PermuteDims);
template void permute_backward_cpu<float>(float*, const float*, PermuteDims);
template void permute_backward_cpu<double>(double*, const double*, PermuteDims);

}  // namespace obl::kernels
