// Run-time choice of the fast Philox fills (kernels/random.h): AVX-512 when the CPU has it, else
// AVX2, else the scalar reference. All three give the same stream (see the ISA files).
#include "kernels/random.h"

#include "kernels/common/cpu_features.h"

namespace obl::kernels {

void fill_bits_fast_cpu(uint32_t* y, RandomDims d) {
    switch (cpu_isa()) {
        case CpuIsa::Avx512:
            fill_bits_avx512(y, d);
            return;
        case CpuIsa::Avx2:
            fill_bits_avx2(y, d);
            return;
        default:
            fill_bits_cpu(y, d);
            return;
    }
}

void fill_uniform_fast_cpu(float* y, RandomDims d, double lo, double hi) {
    switch (cpu_isa()) {
        case CpuIsa::Avx512:
            fill_uniform_avx512(y, d, lo, hi);
            return;
        case CpuIsa::Avx2:
            fill_uniform_avx2(y, d, lo, hi);
            return;
        default:
            fill_uniform_cpu<float>(y, d, lo, hi);
            return;
    }
}

void fill_normal_fast_cpu(float* y, RandomDims d, double mean, double std) {
    switch (cpu_isa()) {
        case CpuIsa::Avx512:
            fill_normal_avx512(y, d, mean, std);
            return;
        case CpuIsa::Avx2:
            fill_normal_avx2(y, d, mean, std);
            return;
        default:
            fill_normal_cpu<float>(y, d, mean, std);
            return;
    }
}

}  // namespace obl::kernels
