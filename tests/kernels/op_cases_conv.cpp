// Op-table rows for the conv family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> conv_cases() { return {}; }

}  // namespace obl::test
