// CUDA binary elementwise ops on equal shapes (formulas in kernels/binary.h), float only.
//
// Thread mapping: one element per thread per step of a grid-stride loop (coalesced). The op is a
// template parameter chosen by a host-side switch. The backward computes da and db in ONE pass,
// so dy, a and b are read once; a null da or db skips its store (the test is uniform across the
// grid, so it never diverges a warp).
// Bytes moved: forward 12n (a, b in; y out); backward 4n per tensor read (dy always; a and/or b
// when the formula uses them) plus 4n per gradient written.
// Full-precision powf/logf and IEEE division (no fast math), matching the CPU reference to a few
// ulp.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/binary.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;          // 8 warps: enough in flight to hide DRAM latency
constexpr int64_t kMaxGrid = 65535;  // grid-stride covers the rest

int grid_for(int64_t n) {
    return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), kMaxGrid));
}

template <BinaryOp kOp>
__device__ __forceinline__ float forward_value(float a, float b) {
    switch (kOp) {
        case BinaryOp::Add:
            return a + b;
        case BinaryOp::Sub:
            return a - b;
        case BinaryOp::Mul:
            return a * b;
        case BinaryOp::Div:
            return a / b;
        case BinaryOp::Pow:
            return powf(a, b);
    }
    return a;
}

template <BinaryOp kOp>
__device__ __forceinline__ float grad_a(float g, float a, float b) {
    switch (kOp) {
        case BinaryOp::Add:
            return g;
        case BinaryOp::Sub:
            return g;
        case BinaryOp::Mul:
            return g * b;
        case BinaryOp::Div:
            return g / b;
        case BinaryOp::Pow:
            return b == 0.f ? 0.f : g * b * powf(a, b - 1.f);  // masked as PyTorch
    }
    return g;
}

template <BinaryOp kOp>
__device__ __forceinline__ float grad_b(float g, float a, float b) {
    switch (kOp) {
        case BinaryOp::Add:
            return g;
        case BinaryOp::Sub:
            return -g;
        case BinaryOp::Mul:
            return g * a;
        case BinaryOp::Div:
            return -g * a / (b * b);
        case BinaryOp::Pow:  // masked where a = 0 and b >= 0, as PyTorch does
            return a == 0.f && b >= 0.f ? 0.f : g * powf(a, b) * logf(a);
    }
    return g;
}

template <BinaryOp kOp>
__global__ void binary_forward_kernel(float* y, const float* a, const float* b, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        y[i] = forward_value<kOp>(a[i], b[i]);
}

// Add and Sub never read a or b: skip those loads (they may be passed as nullptr).
template <BinaryOp kOp>
__global__ void binary_backward_kernel(float* da, float* db, const float* dy, const float* a,
                                       const float* b, int64_t n) {
    constexpr bool kReads = kOp != BinaryOp::Add && kOp != BinaryOp::Sub;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const float g = dy[i];
        const float av = kReads ? a[i] : 0.f, bv = kReads ? b[i] : 0.f;
        if (da) da[i] = grad_a<kOp>(g, av, bv);
        if (db) db[i] = grad_b<kOp>(g, av, bv);
    }
}

template <class F>
void with_op(BinaryOp op, F&& f) {
    using B = BinaryOp;
    switch (op) {
        case B::Add:
            f(std::integral_constant<B, B::Add>{});
            break;
        case B::Sub:
            f(std::integral_constant<B, B::Sub>{});
            break;
        case B::Mul:
            f(std::integral_constant<B, B::Mul>{});
            break;
        case B::Div:
            f(std::integral_constant<B, B::Div>{});
            break;
        case B::Pow:
            f(std::integral_constant<B, B::Pow>{});
            break;
        default:
            OBL_THROW("binary: unknown op ", static_cast<int>(op));
    }
}

}  // namespace

void binary_forward_cuda(float* y, const float* a, const float* b, int64_t n, BinaryOp op,
                         Stream s) {
    OBL_CHECK(n >= 0, "binary_forward_cuda: negative size ", n);
    if (n == 0) return;
    with_op(op, [&](auto k) {
        binary_forward_kernel<decltype(k)::value>
            <<<grid_for(n), kBlock, 0, s->stream>>>(y, a, b, n);
    });
    OBL_LAUNCH_CHECK(s->stream);
}

void binary_backward_cuda(float* da, float* db, const float* dy, const float* a, const float* b,
                          int64_t n, BinaryOp op, Stream s) {
    OBL_CHECK(n >= 0, "binary_backward_cuda: negative size ", n);
    if (n == 0 || (!da && !db)) return;
    with_op(op, [&](auto k) {
        binary_backward_kernel<decltype(k)::value>
            <<<grid_for(n), kBlock, 0, s->stream>>>(da, db, dy, a, b, n);
    });
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
