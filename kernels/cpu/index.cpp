// CPU reference for index_select, gather and scatter_add (kernels/index.h). Gathers run in
// parallel over outputs; scatters loop over the index serially within each independent output
// row, so repeated indices are summed in index order (deterministic).
#include "kernels/index.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

// Row-major strides of a shape.
void strides_of(const int64_t* shape, int rank, int64_t* strides) {
    int64_t s = 1;
    for (int k = rank - 1; k >= 0; --k) {
        strides[k] = s;
        s *= shape[k];
    }
}

int64_t prod(const int64_t* shape, int begin, int end) {
    int64_t n = 1;
    for (int k = begin; k < end; ++k) n *= shape[k];
    return n;
}

// Offset, under `strides`, of the position whose coordinates in dims [begin, end) are those of
// `linear` decoded in `shape` (row-major over those dims only).
int64_t offset_of(int64_t linear, const int64_t* shape, const int64_t* strides, int begin,
                  int end) {
    int64_t off = 0;
    for (int k = end - 1; k >= begin; --k) {
        off += (linear % shape[k]) * strides[k];
        linear /= shape[k];
    }
    return off;
}

// out[p[dim := index[p]]] += src[p] for every position p of the index shape E, where src has
// shape `src_shape` (E_d <= src_d) and out has shape d.x_shape. Parallel over the positions of
// the dims before `dim` (distinct ones hit distinct outputs), serial over dim and the dims after.
template <class T>
void scatter_into(T* out, const T* src, const int64_t* index, const GatherDims& d,
                  const int64_t* src_shape) {
    const int r = d.rank, dim = d.dim;
    int64_t xs[GatherDims::kMaxRank], ss[GatherDims::kMaxRank];
    strides_of(d.x_shape, r, xs);
    strides_of(src_shape, r, ss);
    const int64_t outer = prod(d.index_shape, 0, dim);
    const int64_t len = d.index_shape[dim];
    const int64_t inner = prod(d.index_shape, dim + 1, r);
    const int64_t size = d.x_shape[dim];
    // Offsets of the inner positions in out and in src, computed once per call.
    std::vector<int64_t> out_inner(static_cast<size_t>(inner)), src_inner(out_inner.size());
    for (int64_t i = 0; i < inner; ++i) {
        out_inner[i] = offset_of(i, d.index_shape, xs, dim + 1, r);
        src_inner[i] = offset_of(i, d.index_shape, ss, dim + 1, r);
    }
#pragma omp parallel for if (parallel_worth_it(outer * len * inner)) schedule(static)
    for (int64_t o = 0; o < outer; ++o) {
        const int64_t out_o = offset_of(o, d.index_shape, xs, 0, dim);
        const int64_t src_o = offset_of(o, d.index_shape, ss, 0, dim);
        for (int64_t j = 0; j < len; ++j) {
            const int64_t* idx = index + (o * len + j) * inner;
            const T* s = src + src_o + j * ss[dim];
            for (int64_t i = 0; i < inner; ++i) {
                const int64_t v = idx[i];
                if (v < 0 || v >= size) continue;  // validated by the caller; never out of bounds
                out[out_o + v * xs[dim] + out_inner[i]] += s[src_inner[i]];
            }
        }
    }
}

}  // namespace

// ---- index_select -----------------------------------------------------------------------------

template <class T>
void index_select_forward_cpu(T* y, const T* x, const int64_t* index, IndexSelectDims d) {
    const int64_t rows = d.outer * d.index_size;  // (o, j) pairs
#pragma omp parallel for if (parallel_worth_it(rows * d.inner)) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / d.index_size, v = index[r % d.index_size];
        T* dst = y + r * d.inner;
        if (v < 0 || v >= d.x_size) {
            std::fill(dst, dst + d.inner, T(0));
            continue;
        }
        const T* src = x + (o * d.x_size + v) * d.inner;
        std::copy(src, src + d.inner, dst);
    }
}

template <class T>
void index_select_backward_cpu(T* dx, const T* dy, const int64_t* index, IndexSelectDims d) {
    // Tasks are (o, block of kCols columns): independent outputs, so they run in parallel, while
    // each task walks the index serially (deterministic sums of repeated indices).
    constexpr int64_t kCols = 256;
    const int64_t blocks = (d.inner + kCols - 1) / kCols;
    const int64_t tasks = d.outer * blocks;
    const int64_t work = d.outer * (d.x_size + d.index_size) * d.inner;
#pragma omp parallel for if (parallel_worth_it(work)) schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t o = t / blocks;
        const int64_t c0 = (t % blocks) * kCols, c1 = std::min(c0 + kCols, d.inner);
        T* dxo = dx + o * d.x_size * d.inner;
        for (int64_t s = 0; s < d.x_size; ++s)
            std::fill(dxo + s * d.inner + c0, dxo + s * d.inner + c1, T(0));
        for (int64_t j = 0; j < d.index_size; ++j) {
            const int64_t v = index[j];
            if (v < 0 || v >= d.x_size) continue;
            const T* src = dy + (o * d.index_size + j) * d.inner;
            T* dst = dxo + v * d.inner;
            for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
        }
    }
}

// ---- gather -----------------------------------------------------------------------------------

template <class T>
void gather_forward_cpu(T* y, const T* x, const int64_t* index, GatherDims d) {
    // Same (outer, dim, inner) walk as scatter_into, reading instead of adding.
    const int r = d.rank, dim = d.dim;
    int64_t xs[GatherDims::kMaxRank];
    strides_of(d.x_shape, r, xs);
    const int64_t outer = prod(d.index_shape, 0, dim);
    const int64_t len = d.index_shape[dim];
    const int64_t inner = prod(d.index_shape, dim + 1, r);
    const int64_t size = d.x_shape[dim];
    std::vector<int64_t> x_inner(static_cast<size_t>(inner));
    for (int64_t i = 0; i < inner; ++i) x_inner[i] = offset_of(i, d.index_shape, xs, dim + 1, r);
#pragma omp parallel for if (parallel_worth_it(outer * len * inner)) schedule(static)
    for (int64_t o = 0; o < outer; ++o) {
        const T* xo = x + offset_of(o, d.index_shape, xs, 0, dim);
        for (int64_t j = 0; j < len; ++j) {
            const int64_t p0 = (o * len + j) * inner;
            for (int64_t i = 0; i < inner; ++i) {
                const int64_t v = index[p0 + i];
                y[p0 + i] = (v < 0 || v >= size) ? T(0) : xo[v * xs[dim] + x_inner[i]];
            }
        }
    }
}

template <class T>
void gather_backward_cpu(T* dx, const T* dy, const int64_t* index, GatherDims d) {
    const int64_t n = prod(d.x_shape, 0, d.rank);
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) dx[i] = T(0);
    scatter_into(dx, dy, index, d, d.index_shape);  // dy has the index's shape
}

// ---- scatter_add ------------------------------------------------------------------------------

template <class T>
void scatter_add_forward_cpu(T* y, const T* base, const int64_t* index, const T* src,
                             GatherDims d) {
    const int64_t n = prod(d.x_shape, 0, d.rank);
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = base[i];
    scatter_into(y, src, index, d, d.src_shape);
}

template <class T>
void scatter_add_backward_cpu(T* dsrc, const T* dy, const int64_t* index, GatherDims d) {
    int64_t xs[GatherDims::kMaxRank], es[GatherDims::kMaxRank];
    strides_of(d.x_shape, d.rank, xs);
    strides_of(d.index_shape, d.rank, es);
    const int64_t n = prod(d.src_shape, 0, d.rank), size = d.x_shape[d.dim];
#pragma omp parallel for if (parallel_worth_it(n)) schedule(static)
    for (int64_t q = 0; q < n; ++q) {
        // Decode q in src's shape; it has a gradient only inside the index's box.
        int64_t rem = q, p = 0, off = 0;
        bool inside = true;
        for (int k = d.rank - 1; k >= 0; --k) {
            const int64_t c = rem % d.src_shape[k];
            rem /= d.src_shape[k];
            inside = inside && c < d.index_shape[k];
            p += c * es[k];
            if (k != d.dim) off += c * xs[k];
        }
        T g = T(0);
        if (inside) {
            const int64_t v = index[p];
            if (v >= 0 && v < size) g = dy[off + v * xs[d.dim]];
        }
        dsrc[q] = g;
    }
}

int64_t first_bad_index_cpu(const int64_t* index, int64_t n, int64_t size) {
    for (int64_t i = 0; i < n; ++i)
        if (index[i] < 0 || index[i] >= size) return i;
    return -1;
}

#define OBL_INSTANTIATE(T)                                                                        \
    template void index_select_forward_cpu<T>(T*, const T*, const int64_t*, IndexSelectDims);     \
    template void index_select_backward_cpu<T>(T*, const T*, const int64_t*, IndexSelectDims);    \
    template void gather_forward_cpu<T>(T*, const T*, const int64_t*, GatherDims);                \
    template void gather_backward_cpu<T>(T*, const T*, const int64_t*, GatherDims);               \
    template void scatter_add_forward_cpu<T>(T*, const T*, const int64_t*, const T*, GatherDims); \
    template void scatter_add_backward_cpu<T>(T*, const T*, const int64_t*, GatherDims);
OBL_INSTANTIATE(float)
OBL_INSTANTIATE(double)
#undef OBL_INSTANTIATE

}  // namespace obl::kernels
