// The one process-wide CUDA context (DESIGN.md §C): stream, cuBLAS and cuDNN handles, device
// properties and a scratch workspace, created lazily on first use through cuda_context().
// No CUDA headers here, so CPU-only code can include it.
#pragma once

#include <cstddef>
#include <string>

#include "kernels/common/stream.h"

namespace obl {

class CudaContext {
   public:
    Stream stream() const;      // pass to every *_cuda kernel
    void synchronize() const;   // waits for all queued work (tests, transfers, timing)
    std::string device_name() const;
    int sm_count() const;

    CudaContext(const CudaContext&) = delete;
    CudaContext& operator=(const CudaContext&) = delete;
    ~CudaContext();

   private:
    CudaContext();
    friend CudaContext& cuda_context();
    struct Impl;
    Impl* impl_;
};

// Throws obl::Error when the build has no CUDA or no GPU is present.
CudaContext& cuda_context();

}  // namespace obl
