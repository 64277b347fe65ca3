// The method table (DESIGN.md §G): every unlearning method, written out by hand in methods.cpp
// (no static self-registration: the linker drops such objects from static libraries).
#pragma once

#include <string>
#include <vector>

#include "unlearn/method.h"

namespace obl {

// Every method, in the order of methods.cpp.
const std::vector<MethodInfo>& methods();
// The method called `name`; throws obl::Error listing every method otherwise.
const MethodInfo& find_method(const std::string& name);

}  // namespace obl
