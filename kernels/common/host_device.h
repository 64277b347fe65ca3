// OBL_HD marks small inline helpers shared by CPU and CUDA code (Philox, interpolation taps):
// __host__ __device__ under nvcc, nothing for the host compiler.
#pragma once

#if defined(__CUDACC__)
#define OBL_HD __host__ __device__
#else
#define OBL_HD
#endif
