// obl::Error and the checking macros used by every library (DESIGN.md §H).
//
//   OBL_CHECK(cond, args...)  user-facing precondition: throws obl::Error whose message is the
//                             streamed args, then the failed condition and file:line.
//   OBL_ASSERT(cond)          internal invariant; stays on in Release; "internal error: ...".
//   OBL_THROW(args...)        unconditional obl::Error with the streamed args.
// Library code never exits or aborts: only experiments/main.cpp catches and prints.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace obl {

class Error : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
};

namespace detail {

template <class... Args>
std::string cat(const Args&... args) {
    std::ostringstream os;
    (os << ... << args);
    return os.str();
}

[[noreturn]] void throw_check(const char* file, int line, const char* cond, const std::string& msg);
[[noreturn]] void throw_internal(const char* file, int line, const char* cond);

}  // namespace detail
}  // namespace obl

#define OBL_CHECK(cond, ...)                                                                  \
    do {                                                                                      \
        if (!(cond))                                                                          \
            ::obl::detail::throw_check(__FILE__, __LINE__, #cond,                             \
                                       ::obl::detail::cat(__VA_ARGS__));                      \
    } while (0)

#define OBL_ASSERT(cond)                                                       \
    do {                                                                       \
        if (!(cond)) ::obl::detail::throw_internal(__FILE__, __LINE__, #cond); \
    } while (0)

#define OBL_THROW(...) throw ::obl::Error(::obl::detail::cat(__VA_ARGS__))
