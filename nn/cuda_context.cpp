// CudaContext: lazily created stream + cuBLAS/cuDNN handles + workspace.
#include "nn/cuda_context.h"

#include "nn/device.h"

#if OBL_WITH_CUDA
#include <cstdio>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "nn/allocator.h"
#endif

namespace obl {

#if OBL_WITH_CUDA

struct CudaContext::Impl {
    CudaHandles handles;
    cudaDeviceProp props{};
    void* workspace = nullptr;
    size_t workspace_bytes = 0;
};

CudaContext::CudaContext() : impl_(new Impl) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        (void)cudaGetLastError();
        delete impl_;
        OBL_THROW("no CUDA device available (this build has CUDA, but no GPU was found)");
    }
    OBL_CUDA_CHECK(cudaSetDevice(0));
    OBL_CUDA_CHECK(cudaGetDeviceProperties(&impl_->props, 0));
    OBL_CUDA_CHECK(cudaStreamCreateWithFlags(&impl_->handles.stream, cudaStreamNonBlocking));
    OBL_CUBLAS_CHECK(cublasCreate(&impl_->handles.cublas));
    OBL_CUBLAS_CHECK(cublasSetStream(impl_->handles.cublas, impl_->handles.stream));
    // Plain FP32: no TF32 tensor-core shortcut (DESIGN.md §M.8).
    OBL_CUBLAS_CHECK(cublasSetMathMode(impl_->handles.cublas, CUBLAS_PEDANTIC_MATH));
#if OBL_WITH_CUDNN
    OBL_CUDNN_CHECK(cudnnCreate(&impl_->handles.cudnn));
    OBL_CUDNN_CHECK(cudnnSetStream(impl_->handles.cudnn, impl_->handles.stream));
#endif
    Impl* impl = impl_;
    impl_->handles.workspace = [impl](size_t bytes) -> void* {
        if (bytes > impl->workspace_bytes) {
            if (impl->workspace) cuda_allocator().deallocate(impl->workspace, impl->workspace_bytes);
            impl->workspace = cuda_allocator().allocate(bytes);
            impl->workspace_bytes = bytes;
        }
        return impl->workspace;
    };
}

CudaContext::~CudaContext() {
    // Destructors only log (DESIGN.md §H).
    if (impl_->workspace) cuda_allocator().deallocate(impl_->workspace, impl_->workspace_bytes);
#if OBL_WITH_CUDNN
    if (impl_->handles.cudnn) cudnnDestroy(impl_->handles.cudnn);
#endif
    if (impl_->handles.cublas) cublasDestroy(impl_->handles.cublas);
    if (impl_->handles.stream) {
        cudaError_t e = cudaStreamDestroy(impl_->handles.stream);
        if (e != cudaSuccess) std::fprintf(stderr, "oblivio: %s\n", cudaGetErrorString(e));
    }
    delete impl_;
}

Stream CudaContext::stream() const { return &impl_->handles; }
void CudaContext::synchronize() const { OBL_CUDA_CHECK(cudaStreamSynchronize(impl_->handles.stream)); }
std::string CudaContext::device_name() const { return impl_->props.name; }
int CudaContext::sm_count() const { return impl_->props.multiProcessorCount; }

CudaContext& cuda_context() {
    // Leaked on purpose: tensors freed during static destruction may still need the stream.
    static CudaContext* ctx = new CudaContext();
    return *ctx;
}

bool cuda_available() {
    static const bool ok = [] {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess) {
            (void)cudaGetLastError();
            return false;
        }
        return count > 0;
    }();
    return ok;
}

#else  // CPU-only build

CudaContext::CudaContext() : impl_(nullptr) {}
CudaContext::~CudaContext() = default;
Stream CudaContext::stream() const { return nullptr; }
void CudaContext::synchronize() const {}
std::string CudaContext::device_name() const { return "none"; }
int CudaContext::sm_count() const { return 0; }

CudaContext& cuda_context() { OBL_THROW("built without CUDA: no CUDA context"); }

bool cuda_available() { return false; }

#endif

}  // namespace obl
