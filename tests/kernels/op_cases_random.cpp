// Op-table rows for the random family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> random_cases() { return {}; }

}  // namespace obl::test
