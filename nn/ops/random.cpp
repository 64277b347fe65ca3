// Random tensors (nn/ops/random.h) from the Philox fills of kernels/random.h. Not differentiable:
// the outputs are fresh leaves. f32 outputs; the CPU uses the fast path unless a
// ReferenceCpuGuard is alive.
#include "nn/ops/random.h"

#include <cmath>

#include "kernels/random.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"

namespace obl {

namespace {

kernels::RandomDims dims_for(const Shape& shape, uint64_t seed, uint64_t offset) {
    kernels::RandomDims d;
    d.n = shape.numel();
    d.seed = seed;
    d.offset = offset;
    return d;
}

}  // namespace

Tensor rand_uniform(const Shape& shape, double lo, double hi, uint64_t seed, uint64_t offset,
                    Device device) {
    OBL_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
              "rand_uniform: need finite lo <= hi, got lo = ", lo, ", hi = ", hi);
    Tensor y = Tensor::empty(shape, DType::F32, device);
    const kernels::RandomDims d = dims_for(shape, seed, offset);
    switch (device.type) {
        case DeviceType::CPU:
            if (use_fast_cpu()) {
                kernels::fill_uniform_fast_cpu(y.f32(), d, lo, hi);
            } else {
                kernels::fill_uniform_cpu<float>(y.f32(), d, lo, hi);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::fill_uniform_cuda(y.f32(), d, lo, hi, cuda_context().stream()));
            break;
    }
    return y;
}

Tensor randn(const Shape& shape, double mean, double std, uint64_t seed, uint64_t offset,
             Device device) {
    OBL_CHECK(std::isfinite(mean) && std::isfinite(std) && std >= 0,
              "randn: need finite mean and std >= 0, got mean = ", mean, ", std = ", std);
    Tensor y = Tensor::empty(shape, DType::F32, device);
    const kernels::RandomDims d = dims_for(shape, seed, offset);
    switch (device.type) {
        case DeviceType::CPU:
            if (use_fast_cpu()) {
                kernels::fill_normal_fast_cpu(y.f32(), d, mean, std);
            } else {
                kernels::fill_normal_cpu<float>(y.f32(), d, mean, std);
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(
                kernels::fill_normal_cuda(y.f32(), d, mean, std, cuda_context().stream()));
            break;
    }
    return y;
}

Tensor randint(const Shape& shape, int64_t n, uint64_t seed, uint64_t offset, Device device) {
    OBL_CHECK(n >= 1 && n <= (int64_t(1) << 32), "randint: n must be in [1, 2^32], got ", n);
    Tensor y = Tensor::empty(shape, DType::I64, device);
    const kernels::RandomDims d = dims_for(shape, seed, offset);
    switch (device.type) {
        case DeviceType::CPU:
            kernels::fill_randint_cpu(y.i64(), d, n);
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::fill_randint_cuda(y.i64(), d, n, cuda_context().stream()));
            break;
    }
    return y;
}

}  // namespace obl
