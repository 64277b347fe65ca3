// CUDA slice (kernels/slice.h): one thread per output element in both directions.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/slice.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // a streaming copy: enough warps per SM to hide memory latency

int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

// Thread i owns y[i] = (o, j, c) and reads x[o, start + j*step, c]: coalesced writes, reads
// coalesced within each run of I elements. Reads and writes O*J*I floats.
__global__ void slice_forward_kernel(float* y, const float* x, SliceDims d, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / d.inner, c = i % d.inner;
        const int64_t o = row / d.y_size, j = row % d.y_size;
        y[i] = x[(o * d.x_size + d.start + j * d.step) * d.inner + c];
    }
}

// Thread i owns dx[i] = (o, s, c): the selected rows copy dy, the others are zero. Writes
// O*S*I floats, reads O*J*I.
__global__ void slice_backward_kernel(float* dx, const float* dy, SliceDims d, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / d.inner, c = i % d.inner;
        const int64_t o = row / d.x_size, k = row % d.x_size - d.start;
        const int64_t j = k / d.step;
        dx[i] = (k >= 0 && k % d.step == 0 && j < d.y_size) ? dy[(o * d.y_size + j) * d.inner + c]
                                                            : 0.f;
    }
}

void check(const SliceDims& d) {
    OBL_CHECK(d.step >= 1 && d.start >= 0 &&
                  (d.y_size == 0 || d.start + (d.y_size - 1) * d.step < d.x_size),
              "slice kernel: ", d.y_size, " rows from ", d.start, " step ", d.step,
              " do not fit a dim of size ", d.x_size);
}

}  // namespace

void slice_forward_cuda(float* y, const float* x, SliceDims d, Stream s) {
    check(d);
    const int64_t n = d.outer * d.y_size * d.inner;
    if (n == 0) return;
    slice_forward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, x, d, n);
    OBL_LAUNCH_CHECK(s->stream);
}

void slice_backward_cuda(float* dx, const float* dy, SliceDims d, Stream s) {
    check(d);
    const int64_t n = d.outer * d.x_size * d.inner;
    if (n == 0) return;
    slice_backward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, d, n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
