// CUDA unary elementwise ops (formulas in kernels/unary.h), float only.
//
// Thread mapping: one element per thread per step of a grid-stride loop; consecutive threads touch
// consecutive elements, so every load and store is coalesced. The op is a template parameter,
// chosen by a host-side switch, so each instantiation is a straight-line loop with no per-element
// branch on the op. Bytes moved: forward 8n (read x, write y); backward 8n (dy -> dx) for ops that
// read nothing saved, 12n for those that read x or y.
//
// Math uses the full-precision CUDA library functions (expf, erff, tanhf, powf; IEEE division and
// sqrt by nvcc's defaults, no fast math) so results stay within a few ulp of the CPU reference.
// Scalar (not float4) accesses: tensors may be views at any element offset, and a streaming
// kernel at this occupancy is limited by DRAM, not by instruction count.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/unary.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;          // 8 warps: enough in flight to hide DRAM latency
constexpr int64_t kMaxGrid = 65535;  // grid-stride covers the rest; plenty of blocks per SM

int grid_for(int64_t n) {
    return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), kMaxGrid));
}

constexpr float kInvSqrt2 = 0.70710678118654752440f;    // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1 / sqrt(2 pi)

// y = f(x); the switch folds away because kOp is a compile-time constant.
template <UnaryOp kOp>
__device__ __forceinline__ float forward_value(float v, float p0, float p1) {
    switch (kOp) {
        case UnaryOp::Neg:
            return -v;
        case UnaryOp::Exp:
            return expf(v);
        case UnaryOp::Log:
            return logf(v);
        case UnaryOp::Sqrt:
            return sqrtf(v);
        case UnaryOp::Abs:
            return fabsf(v);
        case UnaryOp::Relu:
            return v < 0.f ? 0.f : v;
        case UnaryOp::Gelu:
            return 0.5f * v * (1.f + erff(v * kInvSqrt2));
        case UnaryOp::Sigmoid: {
            if (v >= 0.f) return 1.f / (1.f + expf(-v));
            const float e = expf(v);  // e^-x would overflow for very negative x
            return e / (1.f + e);
        }
        case UnaryOp::Tanh:
            return tanhf(v);
        case UnaryOp::Pow:
            return powf(v, p0);
        case UnaryOp::Clamp:
            return v < p0 ? p0 : (v > p1 ? p1 : v);  // NaN stays NaN
        case UnaryOp::AddScalar:
            return v + p0;
        case UnaryOp::MulScalar:
            return v * p0;
    }
    return v;
}

// dx = dy * f'(x); `s` is the saved x or y, whichever unary_backward_reads_{x,y} names.
template <UnaryOp kOp>
__device__ __forceinline__ float backward_value(float g, float s, float p0, float p1) {
    switch (kOp) {
        case UnaryOp::Neg:
            return -g;
        case UnaryOp::Exp:
            return g * s;
        case UnaryOp::Log:
            return g / s;
        case UnaryOp::Sqrt:
            return g / (2.f * s);
        case UnaryOp::Abs:
            return s > 0.f ? g : (s < 0.f ? -g : 0.f);
        case UnaryOp::Relu:
            return s > 0.f ? g : 0.f;
        case UnaryOp::Gelu: {
            const float cdf = 0.5f * (1.f + erff(s * kInvSqrt2));
            const float pdf = kInvSqrt2Pi * expf(-0.5f * s * s);
            return g * (cdf + s * pdf);
        }
        case UnaryOp::Sigmoid:
            return g * s * (1.f - s);
        case UnaryOp::Tanh:
            return g * (1.f - s * s);
        case UnaryOp::Pow:
            return p0 == 0.f ? 0.f : g * p0 * powf(s, p0 - 1.f);  // as on the CPU
        case UnaryOp::Clamp:
            return s >= p0 && s <= p1 ? g : 0.f;
        case UnaryOp::AddScalar:
            return g;
        case UnaryOp::MulScalar:
            return g * p0;
    }
    return g;
}

template <UnaryOp kOp>
__global__ void unary_forward_kernel(float* y, const float* x, int64_t n, float p0, float p1) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        y[i] = forward_value<kOp>(x[i], p0, p1);
}

// `s` may be nullptr when the op reads neither x nor y (then it is never dereferenced).
template <UnaryOp kOp>
__global__ void unary_backward_kernel(float* dx, const float* dy, const float* s, int64_t n,
                                      float p0, float p1) {
    constexpr bool kReads = unary_backward_reads_x(kOp) || unary_backward_reads_y(kOp);
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        dx[i] = backward_value<kOp>(dy[i], kReads ? s[i] : 0.f, p0, p1);
}

// Calls f(std::integral_constant<UnaryOp, op>{}) for the run-time op.
template <class F>
void with_op(UnaryOp op, F&& f) {
    using U = UnaryOp;
    switch (op) {
        case U::Neg:
            f(std::integral_constant<U, U::Neg>{});
            break;
        case U::Exp:
            f(std::integral_constant<U, U::Exp>{});
            break;
        case U::Log:
            f(std::integral_constant<U, U::Log>{});
            break;
        case U::Sqrt:
            f(std::integral_constant<U, U::Sqrt>{});
            break;
        case U::Abs:
            f(std::integral_constant<U, U::Abs>{});
            break;
        case U::Relu:
            f(std::integral_constant<U, U::Relu>{});
            break;
        case U::Gelu:
            f(std::integral_constant<U, U::Gelu>{});
            break;
        case U::Sigmoid:
            f(std::integral_constant<U, U::Sigmoid>{});
            break;
        case U::Tanh:
            f(std::integral_constant<U, U::Tanh>{});
            break;
        case U::Pow:
            f(std::integral_constant<U, U::Pow>{});
            break;
        case U::Clamp:
            f(std::integral_constant<U, U::Clamp>{});
            break;
        case U::AddScalar:
            f(std::integral_constant<U, U::AddScalar>{});
            break;
        case U::MulScalar:
            f(std::integral_constant<U, U::MulScalar>{});
            break;
        default:
            OBL_THROW("unary: unknown op ", static_cast<int>(op));
    }
}

}  // namespace

void unary_forward_cuda(float* y, const float* x, int64_t n, UnaryParams p, Stream s) {
    OBL_CHECK(n >= 0, "unary_forward_cuda: negative size ", n);
    if (n == 0) return;
    with_op(p.op, [&](auto op) {
        unary_forward_kernel<decltype(op)::value><<<grid_for(n), kBlock, 0, s->stream>>>(
            y, x, n, static_cast<float>(p.p0), static_cast<float>(p.p1));
    });
    OBL_LAUNCH_CHECK(s->stream);
}

void unary_backward_cuda(float* dx, const float* dy, const float* x, const float* y, int64_t n,
                         UnaryParams p, Stream s) {
    OBL_CHECK(n >= 0, "unary_backward_cuda: negative size ", n);
    OBL_CHECK(!unary_backward_reads_x(p.op) || x, "unary_backward_cuda(", unary_op_name(p.op),
              "): needs the forward input x");
    OBL_CHECK(!unary_backward_reads_y(p.op) || y, "unary_backward_cuda(", unary_op_name(p.op),
              "): needs the forward output y");
    if (n == 0) return;
    const float* saved = unary_backward_reads_x(p.op) ? x : y;
    with_op(p.op, [&](auto op) {
        unary_backward_kernel<decltype(op)::value><<<grid_for(n), kBlock, 0, s->stream>>>(
            dx, dy, saved, n, static_cast<float>(p.p0), static_cast<float>(p.p1));
    });
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
