// CUDA constant padding (kernels/pad.h): one thread per output element in both directions.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/pad.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // a streaming copy: enough warps per SM to hide memory latency
constexpr int kMaxRank = PadDims::kMaxRank;

int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

// Shapes and strides precomputed on the host.
struct PadPlan {
    int rank;
    int64_t x_shape[kMaxRank], y_shape[kMaxRank], lo[kMaxRank];
    int64_t x_strides[kMaxRank], y_strides[kMaxRank];
};

PadPlan make_plan(const PadDims& d) {
    OBL_CHECK(d.rank >= 1 && d.rank <= kMaxRank, "pad kernel: rank ", d.rank, " outside 1..",
              kMaxRank);
    PadPlan p{};
    p.rank = d.rank;
    int64_t sx = 1, sy = 1;
    for (int k = d.rank - 1; k >= 0; --k) {
        OBL_CHECK(d.lo[k] >= 0 && d.hi[k] >= 0, "pad kernel: negative pad in dim ", k);
        p.x_shape[k] = d.x_shape[k];
        p.y_shape[k] = d.lo[k] + d.x_shape[k] + d.hi[k];
        p.lo[k] = d.lo[k];
        p.x_strides[k] = sx;
        p.y_strides[k] = sy;
        sx *= p.x_shape[k];
        sy *= p.y_shape[k];
    }
    return p;
}

int64_t numel(const int64_t* shape, int rank) {
    int64_t n = 1;
    for (int k = 0; k < rank; ++k) n *= shape[k];
    return n;
}

// Thread i owns y[i]: decodes its coordinates; inside the copy of x it reads x[c - lo], else it
// writes the fill value. Writes prod Y floats (coalesced), reads prod X.
__global__ void pad_forward_kernel(float* y, const float* x, PadPlan p, float value, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        int64_t rem = i, off = 0;
        bool inside = true;
        for (int k = p.rank - 1; k >= 0; --k) {
            const int64_t c = rem % p.y_shape[k] - p.lo[k];
            rem /= p.y_shape[k];
            inside = inside && c >= 0 && c < p.x_shape[k];
            off += c * p.x_strides[k];
        }
        y[i] = inside ? x[off] : value;
    }
}

// Thread i owns dx[i] and reads dy[c + lo]. Reads and writes prod X floats.
__global__ void pad_backward_kernel(float* dx, const float* dy, PadPlan p, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        int64_t rem = i, off = 0;
        for (int k = p.rank - 1; k >= 0; --k) {
            off += (rem % p.x_shape[k] + p.lo[k]) * p.y_strides[k];
            rem /= p.x_shape[k];
        }
        dx[i] = dy[off];
    }
}

}  // namespace

void pad_forward_cuda(float* y, const float* x, PadDims d, Stream s) {
    const PadPlan p = make_plan(d);
    const int64_t n = numel(p.y_shape, p.rank);
    if (n == 0) return;
    pad_forward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, x, p, static_cast<float>(d.value),
                                                              n);
    OBL_LAUNCH_CHECK(s->stream);
}

void pad_backward_cuda(float* dx, const float* dy, PadDims d, Stream s) {
    const PadPlan p = make_plan(d);
    const int64_t n = numel(p.x_shape, p.rank);
    if (n == 0) return;
    pad_backward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, p, n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
