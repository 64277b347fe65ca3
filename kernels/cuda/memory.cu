// CUDA fill / cast / accumulate: one thread per element, grid-stride; memory-bound
// (fill writes n elements; cast and accumulate read n and write n).
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/common/memory.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;  // enough warps to hide latency on a streaming kernel

int grid_for(int64_t n) { return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 65535)); }

template <class T>
__global__ void fill_kernel(T* y, int64_t n, T v) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        y[i] = v;
}

template <class To, class From>
__global__ void cast_kernel(To* y, const From* x, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        y[i] = static_cast<To>(x[i]);
}

template <class T>
__global__ void accumulate_kernel(T* y, const T* x, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        y[i] = static_cast<T>(y[i] + x[i]);
}

template <class F>
void with_type(int dtype, F&& f) {
    switch (dtype) {
        case 0: f(float{}); break;
        case 1: f(double{}); break;
        case 2: f(int32_t{}); break;
        case 3: f(int64_t{}); break;
        case 4: f(uint8_t{}); break;
        default: OBL_THROW("unknown dtype code ", dtype);
    }
}

}  // namespace

void fill_cuda(void* y, int dtype, int64_t n, double value, Stream s) {
    if (n == 0) return;
    with_type(dtype, [&](auto t) {
        using T = decltype(t);
        fill_kernel<T><<<grid_for(n), kBlock, 0, s->stream>>>(static_cast<T*>(y), n,
                                                              static_cast<T>(value));
    });
    OBL_LAUNCH_CHECK(s->stream);
}

void cast_cuda(void* y, int y_dtype, const void* x, int x_dtype, int64_t n, Stream s) {
    if (n == 0) return;
    with_type(y_dtype, [&](auto to) {
        using To = decltype(to);
        with_type(x_dtype, [&](auto from) {
            using From = decltype(from);
            cast_kernel<To, From><<<grid_for(n), kBlock, 0, s->stream>>>(
                static_cast<To*>(y), static_cast<const From*>(x), n);
        });
    });
    OBL_LAUNCH_CHECK(s->stream);
}

void accumulate_cuda(void* y, const void* x, int dtype, int64_t n, Stream s) {
    if (n == 0) return;
    with_type(dtype, [&](auto t) {
        using T = decltype(t);
        accumulate_kernel<T><<<grid_for(n), kBlock, 0, s->stream>>>(static_cast<T*>(y),
                                                                    static_cast<const T*>(x), n);
    });
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
