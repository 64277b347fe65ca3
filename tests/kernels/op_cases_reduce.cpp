// Op-table rows for the reduce family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> reduce_cases() { return {}; }

}  // namespace obl::test
