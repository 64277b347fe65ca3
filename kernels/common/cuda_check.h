// Checked CUDA, cuBLAS and cuDNN calls (CUDA translation units only). Every call and every kernel
// launch is checked; errors throw obl::CudaError naming the call and the library's error string.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#if OBL_WITH_CUDNN
#include <cudnn.h>
#endif

#include "kernels/common/check.h"

namespace obl {

class CudaError : public Error {
   public:
    using Error::Error;
};

namespace detail {
[[noreturn]] void throw_cuda(const char* call, const char* what, const char* file, int line);
const char* cublas_status_name(cublasStatus_t s);
}  // namespace detail

}  // namespace obl

#define OBL_CUDA_CHECK(call)                                                                    \
    do {                                                                                        \
        cudaError_t obl_err_ = (call);                                                          \
        if (obl_err_ != cudaSuccess)                                                            \
            ::obl::detail::throw_cuda(#call, cudaGetErrorString(obl_err_), __FILE__, __LINE__); \
    } while (0)

#define OBL_CUBLAS_CHECK(call)                                                               \
    do {                                                                                     \
        cublasStatus_t obl_st_ = (call);                                                     \
        if (obl_st_ != CUBLAS_STATUS_SUCCESS)                                                \
            ::obl::detail::throw_cuda(#call, ::obl::detail::cublas_status_name(obl_st_),     \
                                      __FILE__, __LINE__);                                   \
    } while (0)

#if OBL_WITH_CUDNN
#define OBL_CUDNN_CHECK(call)                                                                    \
    do {                                                                                         \
        cudnnStatus_t obl_st_ = (call);                                                          \
        if (obl_st_ != CUDNN_STATUS_SUCCESS)                                                     \
            ::obl::detail::throw_cuda(#call, cudnnGetErrorString(obl_st_), __FILE__, __LINE__); \
    } while (0)
#endif

// After every launch: catch launch-configuration errors; with OBL_SYNC_CHECK also wait, so an
// asynchronous fault is reported at the kernel that caused it.
#if defined(OBL_SYNC_CHECK) && OBL_SYNC_CHECK
#define OBL_LAUNCH_CHECK(stream)                   \
    do {                                           \
        OBL_CUDA_CHECK(cudaGetLastError());        \
        OBL_CUDA_CHECK(cudaStreamSynchronize(stream)); \
    } while (0)
#else
#define OBL_LAUNCH_CHECK(stream) OBL_CUDA_CHECK(cudaGetLastError())
#endif
