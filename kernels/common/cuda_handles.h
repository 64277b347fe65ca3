// What a Stream points at (CUDA builds only): the stream, library handles and scratch workspace.
// Created and owned by nn/cuda_context.cpp; kernels only read it.
#pragma once

#include <cstddef>
#include <functional>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#if OBL_WITH_CUDNN
#include <cudnn.h>
#endif

#include "kernels/common/stream.h"

namespace obl {

struct CudaHandles {
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
#if OBL_WITH_CUDNN
    cudnnHandle_t cudnn = nullptr;
#endif
    // Returns a device buffer of at least `bytes`, valid until the next call (stream-ordered).
    std::function<void*(size_t bytes)> workspace;
};

}  // namespace obl
