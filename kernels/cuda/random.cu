// CUDA Philox4x32-10 fills (kernels/random.h). The stream contract is kernels/common/philox.h,
// the same __host__ __device__ code the CPU reference calls, so the GPU draws the CPU's numbers:
// bits, uniforms and integers bit for bit; normals to one float ulp (the Box-Muller transform runs
// in double here too, through the device libm, so only libm's last-bit differences can show).
#include <algorithm>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/common/philox.h"
#include "kernels/random.h"

namespace obl::kernels {

namespace {

// 256 threads: plenty of warps to hide the store latency of a write-only stream; the grid is
// capped so large fills grid-stride instead of launching millions of blocks.
constexpr int kBlock = 256;
constexpr int64_t kMaxGrid = 65535;

// Which values a fill writes; one kernel template serves all four.
enum class Kind { Bits, Uniform, Normal, Randint };

struct Transform {
    double a = 0, b = 0;  // uniform: lo, hi - lo; normal: mean, std
    uint64_t high = 0;    // randint: values in [0, high)
};

// a + b * x rounded as the CPU reference rounds it: a product, then a sum. The explicit _rn
// intrinsics stop nvcc from contracting them into one FMA, whose single rounding could flip the
// last bit of the float result.
__device__ inline double affine(const Transform& t, double x) {
    return __dadd_rn(t.a, __dmul_rn(t.b, x));
}

// The four values of one Philox block, in element order 4b .. 4b + 3.
template <Kind K, class T>
__device__ void block_values(const Philox4& w, const Transform& t, T v[4]) {
    if constexpr (K == Kind::Normal) {
        double z[4];
        philox_box_muller(w.w[0], w.w[1], &z[0], &z[1]);  // r cos t, r sin t of pair (0, 1)
        philox_box_muller(w.w[2], w.w[3], &z[2], &z[3]);  // and of pair (2, 3)
        for (int k = 0; k < 4; ++k) v[k] = static_cast<T>(affine(t, z[k]));
    } else {
        for (int k = 0; k < 4; ++k) {
            if constexpr (K == Kind::Bits) {
                v[k] = w.w[k];
            } else if constexpr (K == Kind::Uniform) {
                v[k] = static_cast<T>(affine(t, static_cast<double>(philox_uniform(w.w[k]))));
            } else {
                v[k] = static_cast<T>((static_cast<uint64_t>(w.w[k]) * t.high) >> 32);
            }
        }
    }
}

// One thread per Philox block (4 consecutive global elements 4b .. 4b + 3), grid-stride over the
// blocks touched by [offset, offset + n). The counter is the block index b, never the thread
// index. Writes n * sizeof(T) bytes and reads nothing.
template <Kind K, class T>
__global__ void fill_kernel(T* y, int64_t n, uint64_t seed, uint64_t offset, uint64_t first_block,
                            uint64_t num_blocks, Transform t) {
    for (uint64_t j = blockIdx.x * uint64_t(blockDim.x) + threadIdx.x; j < num_blocks;
         j += uint64_t(gridDim.x) * blockDim.x) {
        const uint64_t b = first_block + j;
        T v[4];
        block_values<K, T>(philox_block(b, seed), t, v);
        for (int k = 0; k < 4; ++k) {
            const uint64_t e = 4 * b + k;  // global element
            if (e >= offset && e < offset + static_cast<uint64_t>(n)) y[e - offset] = v[k];
        }
    }
}

template <Kind K, class T>
void launch(T* y, RandomDims d, Transform t, Stream s) {
    OBL_CHECK(d.n >= 0, "random fill: negative element count ", d.n);
    if (d.n == 0) return;
    const uint64_t first_block = d.offset / 4;
    const uint64_t end_block = (d.offset + static_cast<uint64_t>(d.n) + 3) / 4;
    const uint64_t num_blocks = end_block - first_block;
    const int grid = static_cast<int>(
        std::min<int64_t>(ceil_div(static_cast<int64_t>(num_blocks), kBlock), kMaxGrid));
    fill_kernel<K, T>
        <<<grid, kBlock, 0, s->stream>>>(y, d.n, d.seed, d.offset, first_block, num_blocks, t);
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace

void fill_bits_cuda(uint32_t* y, RandomDims d, Stream s) {
    launch<Kind::Bits>(y, d, Transform{}, s);
}

void fill_uniform_cuda(float* y, RandomDims d, double lo, double hi, Stream s) {
    Transform t;
    t.a = lo;
    t.b = hi - lo;
    launch<Kind::Uniform>(y, d, t, s);
}

void fill_normal_cuda(float* y, RandomDims d, double mean, double std, Stream s) {
    Transform t;
    t.a = mean;
    t.b = std;
    launch<Kind::Normal>(y, d, t, s);
}

void fill_randint_cuda(int64_t* y, RandomDims d, int64_t high, Stream s) {
    OBL_CHECK(high >= 1 && high <= (int64_t(1) << 32), "randint: high must be in [1, 2^32], got ",
              high);
    Transform t;
    t.high = static_cast<uint64_t>(high);
    launch<Kind::Randint>(y, d, t, s);
}

}  // namespace obl::kernels
