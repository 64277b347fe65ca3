// Op-table rows for the shape family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> shape_cases() { return {}; }

}  // namespace obl::test
