// Out-of-line throwers for OBL_CHECK / OBL_ASSERT (kept out of headers so call sites stay small).
#include "kernels/common/check.h"

#include <cstring>

namespace obl::detail {

namespace {
// Paths are printed relative to the source tree: "nn/ops/binary.cpp", not an absolute path.
const char* short_path(const char* file) {
    for (const char* dir : {"/kernels/", "/nn/", "/models/", "/data/", "/unlearn/", "/experiments/",
                            "/tests/", "/bench/"}) {
        if (const char* p = std::strstr(file, dir)) return p + 1;
    }
    return file;
}
}  // namespace

void throw_check(const char* file, int line, const char* cond, const std::string& msg) {
    std::ostringstream os;
    if (!msg.empty()) os << msg << " ";
    os << "(check `" << cond << "` failed at " << short_path(file) << ":" << line << ")";
    throw Error(os.str());
}

void throw_internal(const char* file, int line, const char* cond) {
    std::ostringstream os;
    os << "internal error: `" << cond << "` at " << short_path(file) << ":" << line;
    throw Error(os.str());
}

}  // namespace obl::detail
