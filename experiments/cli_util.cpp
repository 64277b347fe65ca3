#include "experiments/cli_util.h"

#include <cstdio>
#include <cstdlib>

namespace obl::cli {

int first_option(int argc, char** argv, const char* command) {
    return argc > 1 && std::string(argv[1]) == command ? 2 : 1;
}

int fail(const std::string& msg) {
    std::string line = msg;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "error: %s\n", line.c_str());
    return 2;
}

bool parse_int(const std::string& s, int64_t lo, int64_t hi, int64_t& out) {
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi) return false;
    out = v;
    return true;
}

}  // namespace obl::cli
