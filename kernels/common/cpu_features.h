// Run-time ISA choice for the fast CPU kernels (DESIGN.md §N).
//
// cpu_isa() returns the best ISA this CPU supports among the ones we have kernels for; the
// environment variable OBL_CPU_ISA=avx512|avx2|scalar lowers it (for tests and studies; it can
// never raise it above what the CPU supports).
#pragma once

namespace obl {

enum class CpuIsa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

CpuIsa cpu_isa();
const char* cpu_isa_name(CpuIsa isa);

}  // namespace obl
