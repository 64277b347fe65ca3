// The Stream handle every *_cuda kernel entry point takes, and OBL_CUDA_ONLY.
//
// Stream is an opaque pointer to CudaHandles (kernels/common/cuda_handles.h): the CUDA stream plus
// the cuBLAS/cuDNN handles and the scratch workspace owned by nn's CudaContext. Opaque here so that
// CPU-only builds compile every kernel header without CUDA headers. (DESIGN.md §C describes Stream
// as a plain void*; carrying the library handles with it keeps kernels/ free of any dependency on
// nn/, which owns the context.)
#pragma once

#include "kernels/common/check.h"

namespace obl {

struct CudaHandles;
using Stream = const CudaHandles*;

}  // namespace obl

#ifndef OBL_WITH_CUDA
#define OBL_WITH_CUDA 0
#endif

// OBL_CUDA_ONLY(call): the call in CUDA builds; a clear obl::Error in CPU-only builds.
#if OBL_WITH_CUDA
#define OBL_CUDA_ONLY(...) __VA_ARGS__
#else
#define OBL_CUDA_ONLY(...) \
    throw ::obl::Error("built without CUDA: reconfigure with -DOBL_CUDA=ON on a machine with nvcc")
#endif
