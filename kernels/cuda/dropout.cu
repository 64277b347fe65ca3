// CUDA inverted dropout (kernels/dropout.h): y_i = (u_i >= p) ? x_i / (1 - p) : 0 with the same
// Philox uniform u_i as the CPU reference (kernels/common/philox.h), so both drop the same
// elements; the product is taken in double like the reference, so the values match bit for bit.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/common/philox.h"
#include "kernels/dropout.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;          // a streaming kernel: enough warps to hide memory latency
constexpr int64_t kMaxGrid = 65535;  // larger inputs grid-stride

// One thread per Philox block: elements 4b .. 4b + 3 share one Philox call. Grid-stride over the
// n / 4 blocks. Reads n floats, writes n floats (8n bytes moved).
__global__ void dropout_kernel(float* y, const float* x, int64_t n, double p, double scale,
                               uint64_t seed) {
    const int64_t num_blocks = (n + 3) / 4;
    for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < num_blocks;
         b += int64_t(gridDim.x) * blockDim.x) {
        const Philox4 w = philox_block(static_cast<uint64_t>(b), seed);
        for (int k = 0; k < 4; ++k) {
            const int64_t i = 4 * b + k;
            if (i >= n) break;
            const double u = philox_uniform(w.w[k]);
            y[i] = u >= p ? static_cast<float>(static_cast<double>(x[i]) * scale) : 0.f;
        }
    }
}

void launch(float* y, const float* x, DropoutDims d, Stream s) {
    OBL_CHECK(d.p >= 0 && d.p <= 1, "dropout: p must be in [0, 1], got ", d.p);
    OBL_CHECK(d.n >= 0, "dropout: negative element count ", d.n);
    if (d.n == 0) return;
    const double scale = d.p < 1 ? 1.0 / (1.0 - d.p) : 0.0;
    const int grid =
        static_cast<int>(std::min<int64_t>(ceil_div(ceil_div(d.n, 4), kBlock), kMaxGrid));
    dropout_kernel<<<grid, kBlock, 0, s->stream>>>(y, x, d.n, d.p, scale, d.seed);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace

void dropout_forward_cuda(float* y, const float* x, DropoutDims d, Stream s) { launch(y, x, d, s); }

void dropout_backward_cuda(float* dx, const float* dy, DropoutDims d, Stream s) {
    launch(dx, dy, d, s);
}

}  // namespace obl::kernels
