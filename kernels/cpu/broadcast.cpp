// CPU reference for broadcast_to / sum_to (kernels/broadcast.h) and the shared canonicalisation
// make_broadcast_dims() (also used by the CUDA launchers).
//
// Forward: one task per row of the big shape (all canonical dims but the last); the row is a
// contiguous copy when the last dim is kept, a fill with one x value when it is expanded.
// Backward: every output sums its preimage in increasing big-index order, in double:
//   last dim kept     tasks = (outer output, chunk of kChunk contiguous outputs); for each
//                     expanded coordinate tuple, add a contiguous row slice into kChunk doubles.
//   last dim expanded tasks = outputs; each sums contiguous runs of the last dim.
// Tasks own disjoint outputs, so OpenMP over tasks is deterministic.
#include "kernels/broadcast.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

constexpr int64_t kChunk = 256;  // doubles accumulated per task: 2 KiB, stays in L1

std::string shape_str(const int64_t* dims, int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

// Offset in B of the element whose coordinates along the dims with expanded[i] == want are the
// row-major decomposition of `flat` (the other coordinates are 0).
int64_t offset_along(const BroadcastDims& d, bool want, int64_t flat) {
    int64_t off = 0;
    for (int i = d.ndim - 1; i >= 0; --i) {
        if (d.expanded[i] != want) continue;
        off += (flat % d.extent[i]) * d.big_stride[i];
        flat /= d.extent[i];
    }
    return off;
}

}  // namespace

BroadcastDims make_broadcast_dims(const int64_t* small, int small_ndim, const int64_t* big,
                                  int big_ndim) {
    OBL_CHECK(small_ndim <= big_ndim && big_ndim <= kMaxBroadcastDims,
              "broadcast: cannot broadcast ", shape_str(small, small_ndim), " to ",
              shape_str(big, big_ndim), ": the source has more dims than the target");
    BroadcastDims d;
    const int lead = big_ndim - small_ndim;  // missing leading dims of S count as 1
    for (int i = 0; i < big_ndim; ++i) {
        const int64_t s = i < lead ? 1 : small[i - lead];
        const int64_t b = big[i];
        OBL_CHECK(s == b || s == 1, "broadcast: cannot broadcast ", shape_str(small, small_ndim),
                  " to ", shape_str(big, big_ndim), ": dim ", i, " of the target is ", b,
                  " but the source has ", s, " there (must be 1 or equal)");
        d.small_numel *= s;
        d.big_numel *= b;
        if (b == 1) continue;  // size 1 in both: no effect on any index
        const bool expanded = s == 1;
        if (d.ndim > 0 && d.expanded[d.ndim - 1] == expanded) {
            d.extent[d.ndim - 1] *= b;  // merge with the previous dim of the same kind
        } else {
            d.extent[d.ndim] = b;
            d.expanded[d.ndim] = expanded;
            ++d.ndim;
        }
    }
    int64_t big_stride = 1, small_stride = 1;
    for (int i = d.ndim - 1; i >= 0; --i) {
        d.big_stride[i] = big_stride;
        d.small_stride[i] = d.expanded[i] ? 0 : small_stride;
        big_stride *= d.extent[i];
        if (!d.expanded[i]) small_stride *= d.extent[i];
    }
    return d;
}

template <class T>
void broadcast_forward_cpu(T* y, const T* x, const BroadcastDims& d) {
    if (d.big_numel == 0) return;
    if (d.ndim == 0) {
        y[0] = x[0];
        return;
    }
    const int last = d.ndim - 1;
    const int64_t inner = d.extent[last];
    const int64_t rows = d.big_numel / inner;
#pragma omp parallel for if (parallel_worth_it(d.big_numel)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        int64_t rest = r, x_off = 0;  // x offset of the row start, over dims [0, last)
        for (int i = last - 1; i >= 0; --i) {
            x_off += (rest % d.extent[i]) * d.small_stride[i];
            rest /= d.extent[i];
        }
        T* out = y + r * inner;
        if (d.expanded[last]) {
            const T v = x[x_off];
            for (int64_t j = 0; j < inner; ++j) out[j] = v;
        } else {
            const T* in = x + x_off;
            for (int64_t j = 0; j < inner; ++j) out[j] = in[j];
        }
    }
}

template <class T>
void broadcast_backward_cpu(T* dx, const T* dy, const BroadcastDims& d) {
    if (d.small_numel == 0) return;
    // Elements of B that map to one output (0 when B has a 0 dim: the outputs are then 0).
    const int64_t per_output = d.big_numel / d.small_numel;
    if (d.ndim == 0 || !d.expanded[d.ndim - 1]) {
        const int64_t inner = d.ndim == 0 ? 1 : d.extent[d.ndim - 1];  // contiguous outputs
        const int64_t outer = d.small_numel / inner;
        const int64_t chunks = (inner + kChunk - 1) / kChunk;
#pragma omp parallel for if (parallel_worth_it(d.big_numel)) schedule(static)
        for (int64_t t = 0; t < outer * chunks; ++t) {
            const int64_t o = t / chunks, j0 = (t % chunks) * kChunk;
            const int64_t len = std::min(kChunk, inner - j0);
            const int64_t base = offset_along(d, false, o * inner) + j0;
            double acc[kChunk] = {};
            for (int64_t r = 0; r < per_output; ++r) {
                const T* row = dy + base + offset_along(d, true, r);
                for (int64_t j = 0; j < len; ++j) acc[j] += static_cast<double>(row[j]);
            }
            T* out = dx + o * inner + j0;
            for (int64_t j = 0; j < len; ++j) out[j] = static_cast<T>(acc[j]);
        }
    } else {
        const int64_t run = d.extent[d.ndim - 1];  // contiguous elements summed together
        const int64_t runs = run == 0 ? 0 : per_output / run;
#pragma omp parallel for if (parallel_worth_it(d.big_numel)) schedule(static)
        for (int64_t o = 0; o < d.small_numel; ++o) {
            const int64_t base = offset_along(d, false, o);
            double acc = 0.0;
            for (int64_t r = 0; r < runs; ++r) {
                const T* p = dy + base + offset_along(d, true, r * run);
                for (int64_t k = 0; k < run; ++k) acc += static_cast<double>(p[k]);
            }
            dx[o] = static_cast<T>(acc);
        }
    }
}

template void broadcast_forward_cpu<float>(float*, const float*, const BroadcastDims&);
template void broadcast_forward_cpu<double>(double*, const double*, const BroadcastDims&);
template void broadcast_backward_cpu<float>(float*, const float*, const BroadcastDims&);
template void broadcast_backward_cpu<double>(double*, const double*, const BroadcastDims&);

}  // namespace obl::kernels
