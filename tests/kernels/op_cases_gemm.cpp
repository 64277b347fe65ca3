// Op-table rows for the gemm family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> gemm_cases() { return {}; }

}  // namespace obl::test
