// CUDA permute (kernels/permute.h): after permute_simplify, one thread per output element.
// A shared-memory tiled transpose would make the reads coalesced too; this plain version is the
// production kernel until a study shows the tile is worth it.
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/permute.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // memory-bound: enough warps per SM to hide latency
constexpr int kMaxRank = PermuteDims::kMaxRank;

int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

// The output shape and, per output dim, the stride of the matching input dim.
struct PermutePlan {
    int rank;
    int64_t y_shape[kMaxRank];
    int64_t x_strides[kMaxRank];  // x stride of input dim perm[k], indexed by output dim k
};

PermutePlan make_plan(const PermuteDims& d0, int64_t* numel) {
    OBL_CHECK(d0.rank >= 0 && d0.rank <= kMaxRank, "permute kernel: rank ", d0.rank, " outside 0..",
              kMaxRank);
    const PermuteDims d = permute_simplify(d0);
    int64_t xs[kMaxRank];
    int64_t s = 1;
    for (int i = d.rank - 1; i >= 0; --i) {
        xs[i] = s;
        s *= d.x_shape[i];
    }
    PermutePlan p{};
    p.rank = d.rank;
    for (int k = 0; k < d.rank; ++k) {
        p.y_shape[k] = d.x_shape[d.perm[k]];
        p.x_strides[k] = xs[d.perm[k]];
    }
    *numel = s;
    return p;
}

// Thread i owns y[i]: decodes its output coordinates and reads x at the permuted offset.
// Writes are coalesced; reads are gathered (coalesced when the last dim is unmoved).
// Reads and writes numel floats.
__global__ void permute_kernel(float* y, const float* x, PermutePlan p, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        int64_t rem = i, off = 0;
        for (int k = p.rank - 1; k >= 0; --k) {
            off += (rem % p.y_shape[k]) * p.x_strides[k];
            rem /= p.y_shape[k];
        }
        y[i] = x[off];
    }
}

void launch(float* y, const float* x, const PermuteDims& d, Stream s) {
    int64_t n = 0;
    const PermutePlan p = make_plan(d, &n);
    if (n == 0) return;
    permute_kernel<<<grid_for(n), kBlock, 0, s->stream>>>(y, x, p, n);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace

void permute_forward_cuda(float* y, const float* x, PermuteDims d, Stream s) { launch(y, x, d, s); }

void permute_backward_cuda(float* dx, const float* dy, PermuteDims d, Stream s) {
    launch(dx, dy, permute_inverse(d), s);
}

}  // namespace obl::kernels
