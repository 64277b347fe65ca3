// Op-table rows for the elementwise family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> elementwise_cases() { return {}; }

}  // namespace obl::test
