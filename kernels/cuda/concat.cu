// CUDA concat (kernels/concat.h): one launch per input, one thread per element of that input.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/concat.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // a streaming copy: enough warps per SM to hide memory latency

// Grid-stride loops cap the grid; 65535 blocks of 256 threads keep an H200 busy.
int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

// Thread i owns element i of x_k = (o, s, c) and writes y[o, P_k + s, c]. Reads are coalesced;
// writes are coalesced within each run of I elements. Moves O*S_k*I floats in and out.
__global__ void concat_forward_kernel(float* y, const float* x, ConcatDims d, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / d.inner, c = i % d.inner;
        const int64_t o = row / d.x_size, s = row % d.x_size;
        y[(o * d.y_size + d.offset + s) * d.inner + c] = x[i];
    }
}

// The transpose of the above: thread i writes dx_k[i] from dy[o, P_k + s, c].
__global__ void concat_backward_kernel(float* dx, const float* dy, ConcatDims d, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / d.inner, c = i % d.inner;
        const int64_t o = row / d.x_size, s = row % d.x_size;
        dx[i] = dy[(o * d.y_size + d.offset + s) * d.inner + c];
    }
}

void check(const ConcatDims& d) {
    OBL_CHECK(d.outer >= 0 && d.inner >= 0 && d.x_size >= 0 && d.offset >= 0 &&
                  d.offset + d.x_size <= d.y_size,
              "concat kernel: slab [", d.offset, ", ", d.offset + d.x_size,
              ") does not fit an output of size ", d.y_size);
}

}  // namespace

void concat_forward_cuda(float* y, const float* x, ConcatDims d, Stream s) {
    check(d);
    const int64_t n = d.outer * d.x_size * d.inner;
    if (n == 0) return;
    concat_forward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, x, d, n);
    OBL_LAUNCH_CHECK(s->stream);
}

void concat_backward_cuda(float* dx, const float* dy, ConcatDims d, Stream s) {
    check(d);
    const int64_t n = d.outer * d.x_size * d.inner;
    if (n == 0) return;
    concat_backward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(dx, dy, d, n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
