// CUDA index_select, gather and scatter_add (kernels/index.h). Gathers: one thread per output
// element. Scatters: one thread per source element, atomicAdd into a buffer that is zeroed (or
// copied from base) on the same stream first; with repeated indices the order of the additions,
// and so the last bits of the sums, may vary between runs. Indices are not validated here (that
// would need a host sync); out-of-range indices read 0 and their scatters are dropped.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/index.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // memory-bound: enough warps per SM to hide latency
constexpr int kMaxRank = GatherDims::kMaxRank;

int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

// What the gather/scatter kernels need per launch, precomputed on the host: the index shape E
// (the iteration space), x's strides and src's strides.
struct GatherPlan {
    int rank, dim;
    int64_t size;  // x's size along dim
    int64_t index_shape[kMaxRank];
    int64_t x_strides[kMaxRank];
    int64_t src_strides[kMaxRank];
};

GatherPlan make_plan(const GatherDims& d, const int64_t* src_shape) {
    GatherPlan p{};
    p.rank = d.rank;
    p.dim = d.dim;
    p.size = d.x_shape[d.dim];
    int64_t sx = 1, ss = 1;
    for (int k = d.rank - 1; k >= 0; --k) {
        p.index_shape[k] = d.index_shape[k];
        p.x_strides[k] = sx;
        p.src_strides[k] = ss;
        sx *= d.x_shape[k];
        ss *= src_shape[k];
    }
    return p;
}

int64_t numel(const int64_t* shape, int rank) {
    int64_t n = 1;
    for (int k = 0; k < rank; ++k) n *= shape[k];
    return n;
}

// x offset (without the dim term) and src offset of index position p.
__device__ inline void offsets_of(const GatherPlan& g, int64_t p, int64_t* x_off,
                                  int64_t* src_off) {
    int64_t xo = 0, so = 0;
    for (int k = g.rank - 1; k >= 0; --k) {
        const int64_t c = p % g.index_shape[k];
        p /= g.index_shape[k];
        if (k != g.dim) xo += c * g.x_strides[k];
        so += c * g.src_strides[k];
    }
    *x_off = xo;
    *src_off = so;
}

// ---- index_select ----

// Thread i owns y[i] = (o, j, c) and reads x[o, index[j], c]. Reads O*J*I floats (plus J
// indices, cached), writes O*J*I.
__global__ void index_select_forward_kernel(float* y, const float* x, const int64_t* index,
                                            IndexSelectDims d, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / d.inner, c = i % d.inner;
        const int64_t o = row / d.index_size, v = index[row % d.index_size];
        y[i] = (v >= 0 && v < d.x_size) ? x[(o * d.x_size + v) * d.inner + c] : 0.f;
    }
}

// Thread i owns dy[i] = (o, j, c) and atomically adds it to dx[o, index[j], c] (dx zeroed
// first). Reads O*J*I floats, O*J*I atomic read-modify-writes.
__global__ void index_select_backward_kernel(float* dx, const float* dy, const int64_t* index,
                                             IndexSelectDims d, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / d.inner, c = i % d.inner;
        const int64_t o = row / d.index_size, v = index[row % d.index_size];
        if (v >= 0 && v < d.x_size) atomicAdd(&dx[(o * d.x_size + v) * d.inner + c], dy[i]);
    }
}

// ---- gather / scatter_add ----

// Thread p owns y[p] (index position p) and reads x[p[dim := index[p]]]. Reads |E| indices and
// |E| floats (gathered), writes |E| floats.
__global__ void gather_forward_kernel(float* y, const float* x, const int64_t* index, GatherPlan g,
                                      int64_t n) {
    for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < n;
         p += int64_t(gridDim.x) * blockDim.x) {
        int64_t x_off, src_off;
        offsets_of(g, p, &x_off, &src_off);
        const int64_t v = index[p];
        y[p] = (v >= 0 && v < g.size) ? x[x_off + v * g.x_strides[g.dim]] : 0.f;
    }
}

// Thread p adds src[p] (src laid out by src_strides) into out[p[dim := index[p]]]. Used by the
// gather backward (src = dy, out = zeroed dx) and the scatter_add forward (out = copy of base).
// Reads |E| indices and |E| floats, |E| atomic read-modify-writes.
__global__ void scatter_add_kernel(float* out, const float* src, const int64_t* index, GatherPlan g,
                                   int64_t n) {
    for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < n;
         p += int64_t(gridDim.x) * blockDim.x) {
        int64_t x_off, src_off;
        offsets_of(g, p, &x_off, &src_off);
        const int64_t v = index[p];
        if (v >= 0 && v < g.size) atomicAdd(&out[x_off + v * g.x_strides[g.dim]], src[src_off]);
    }
}

// Thread q owns dsrc[q] (q in src's shape): dy[q[dim := index[q]]] inside the index's box, 0
// outside. Writes |src| floats, reads up to |E| indices and |E| floats.
__global__ void scatter_add_backward_kernel(float* dsrc, const float* dy, const int64_t* index,
                                            GatherPlan g, int64_t n) {
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < n;
         q += int64_t(gridDim.x) * blockDim.x) {
        // Decode q from the most significant dim with src's strides (all > 0 when n > 0); p is
        // the same position in the index, off its x offset without the dim term.
        int64_t rem = q, p = 0, off = 0;
        bool inside = true;
        for (int k = 0; k < g.rank; ++k) {
            const int64_t c = rem / g.src_strides[k];
            rem %= g.src_strides[k];
            inside = inside && c < g.index_shape[k];
            if (k != g.dim) off += c * g.x_strides[k];
            p = p * g.index_shape[k] + c;
        }
        float v = 0.f;
        if (inside) {
            const int64_t idx = index[p];
            if (idx >= 0 && idx < g.size) v = dy[off + idx * g.x_strides[g.dim]];
        }
        dsrc[q] = v;
    }
}

}  // namespace

void index_select_forward_cuda(float* y, const float* x, const int64_t* index, IndexSelectDims d,
                               Stream s) {
    const int64_t n = d.outer * d.index_size * d.inner;
    if (n == 0) return;
    index_select_forward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, x, index, d, n);
    OBL_LAUNCH_CHECK(s->stream);
}

void index_select_backward_cuda(float* dx, const float* dy, const int64_t* index, IndexSelectDims d,
                                Stream s) {
    const int64_t dx_n = d.outer * d.x_size * d.inner;
    if (dx_n == 0) return;
    OBL_CUDA_CHECK(cudaMemsetAsync(dx, 0, static_cast<size_t>(dx_n) * sizeof(float), s->stream));
    const int64_t n = d.outer * d.index_size * d.inner;
    if (n == 0) return;
    index_select_backward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, index, d, n);
    OBL_LAUNCH_CHECK(s->stream);
}

void gather_forward_cuda(float* y, const float* x, const int64_t* index, GatherDims d, Stream s) {
    OBL_CHECK(d.rank >= 1 && d.rank <= kMaxRank && d.dim >= 0 && d.dim < d.rank,
              "gather kernel: bad rank ", d.rank, " / dim ", d.dim);
    const int64_t n = numel(d.index_shape, d.rank);
    if (n == 0) return;
    gather_forward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, x, index,
                                                                 make_plan(d, d.index_shape), n);
    OBL_LAUNCH_CHECK(s->stream);
}

void gather_backward_cuda(float* dx, const float* dy, const int64_t* index, GatherDims d,
                          Stream s) {
    OBL_CHECK(d.rank >= 1 && d.rank <= kMaxRank && d.dim >= 0 && d.dim < d.rank,
              "gather kernel: bad rank ", d.rank, " / dim ", d.dim);
    const int64_t dx_n = numel(d.x_shape, d.rank);
    if (dx_n == 0) return;
    OBL_CUDA_CHECK(cudaMemsetAsync(dx, 0, static_cast<size_t>(dx_n) * sizeof(float), s->stream));
    const int64_t n = numel(d.index_shape, d.rank);
    if (n == 0) return;
    scatter_add_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, index,
                                                              make_plan(d, d.index_shape), n);
    OBL_LAUNCH_CHECK(s->stream);
}

void scatter_add_forward_cuda(float* y, const float* base, const int64_t* index, const float* src,
                              GatherDims d, Stream s) {
    OBL_CHECK(d.rank >= 1 && d.rank <= kMaxRank && d.dim >= 0 && d.dim < d.rank,
              "scatter_add kernel: bad rank ", d.rank, " / dim ", d.dim);
    const int64_t y_n = numel(d.x_shape, d.rank);
    if (y_n == 0) return;
    OBL_CUDA_CHECK(cudaMemcpyAsync(y, base, static_cast<size_t>(y_n) * sizeof(float),
                                   cudaMemcpyDeviceToDevice, s->stream));
    const int64_t n = numel(d.index_shape, d.rank);
    if (n == 0) return;
    scatter_add_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, src, index,
                                                              make_plan(d, d.src_shape), n);
    OBL_LAUNCH_CHECK(s->stream);
}

void scatter_add_backward_cuda(float* dsrc, const float* dy, const int64_t* index, GatherDims d,
                               Stream s) {
    OBL_CHECK(d.rank >= 1 && d.rank <= kMaxRank && d.dim >= 0 && d.dim < d.rank,
              "scatter_add kernel: bad rank ", d.rank, " / dim ", d.dim);
    const int64_t n = numel(d.src_shape, d.rank);
    if (n == 0) return;
    scatter_add_backward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(
        dsrc, dy, index, make_plan(d, d.src_shape), n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
