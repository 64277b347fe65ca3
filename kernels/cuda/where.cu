// CUDA where (kernels/where.h), float only.
//
// Thread mapping: one element per thread per step of a grid-stride loop (coalesced).
// Bytes moved: forward 9n when cond is all true or all false (cond 1 byte, the selected input
// 4 bytes, y 4 bytes); a mixed mask touches both inputs' cache lines, up to 13n. Backward 5n in
// plus 4n per gradient written. The backward writes da and db in one pass (cond and dy read
// once); a null pointer skips its store (uniform across the grid).
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/where.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;          // 8 warps: enough in flight to hide DRAM latency
constexpr int64_t kMaxGrid = 65535;  // grid-stride covers the rest

int grid_for(int64_t n) {
    return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), kMaxGrid));
}

__global__ void where_forward_kernel(float* y, const uint8_t* cond, const float* a, const float* b,
                                     int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        y[i] = cond[i] ? a[i] : b[i];
}

__global__ void where_backward_kernel(float* da, float* db, const float* dy, const uint8_t* cond,
                                      int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const bool c = cond[i] != 0;
        const float g = dy[i];
        if (da) da[i] = c ? g : 0.f;
        if (db) db[i] = c ? 0.f : g;
    }
}

}  // namespace

void where_forward_cuda(float* y, const uint8_t* cond, const float* a, const float* b, int64_t n,
                        Stream s) {
    OBL_CHECK(n >= 0, "where_forward_cuda: negative size ", n);
    if (n == 0) return;
    where_forward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, cond, a, b, n);
    OBL_LAUNCH_CHECK(s->stream);
}

void where_backward_cuda(float* da, float* db, const float* dy, const uint8_t* cond, int64_t n,
                         Stream s) {
    OBL_CHECK(n >= 0, "where_backward_cuda: negative size ", n);
    if (n == 0 || (!da && !db)) return;
    where_backward_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(da, db, dy, cond, n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
