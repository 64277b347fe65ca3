// Op-table rows for the softmax family.
#include "tests/kernels/op_case.h"

namespace obl::test {

std::vector<OpCase> softmax_cases() { return {}; }

}  // namespace obl::test
