// Small helpers shared by the `oblivio` subcommands (experiments/cmd_*.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace obl::cli {

// Index of the first option: argv[0] is the command name (main passes argv + 1);
// argv = {program, command, ...} is accepted too.
int first_option(int argc, char** argv, const char* command);

// Prints "error: <msg>" on one line (newlines flattened) and returns 2, the usage/bad-data status.
int fail(const std::string& msg);

// Parses a whole decimal integer within [lo, hi]; false on anything else.
bool parse_int(const std::string& s, int64_t lo, int64_t hi, int64_t& out);

}  // namespace obl::cli
