// CPU feature detection through the compiler's cpuid builtins.
#include "kernels/common/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace obl {

namespace {
CpuIsa detect() {
    CpuIsa best = CpuIsa::Scalar;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = CpuIsa::Avx2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        best = CpuIsa::Avx512;
#endif
    if (const char* env = std::getenv("OBL_CPU_ISA")) {
        CpuIsa want = best;
        if (std::strcmp(env, "scalar") == 0) want = CpuIsa::Scalar;
        if (std::strcmp(env, "avx2") == 0) want = CpuIsa::Avx2;
        if (std::strcmp(env, "avx512") == 0) want = CpuIsa::Avx512;
        if (want < best) best = want;
    }
    return best;
}
}  // namespace

CpuIsa cpu_isa() {
    static const CpuIsa isa = detect();
    return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
    switch (isa) {
        case CpuIsa::Avx512: return "avx512";
        case CpuIsa::Avx2: return "avx2";
        default: return "scalar";
    }
}

}  // namespace obl
