// Small helpers shared by the `oblivio` subcommands (experiments/cmd_*.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace obl::cli {

// Index of the first option: argv[0] is the command name (main passes argv + 1);
// argv = {program, command, ...} is accepted too.
int first_option(int argc, char** argv, const char* command);

// Walks a command's options in order:
//     for (ArgCursor args(argc, argv, "forget"); args.next();) {
//         const std::string arg = args.current();
//         if (arg == "--model") { if (!args.value(model)) return fail("--model needs ..."); }
//         ...
//     }
class ArgCursor {
   public:
    ArgCursor(int argc, char** argv, const char* command)
        : argc_(argc), argv_(argv), i_(first_option(argc, argv, command) - 1) {}
    bool next() { return ++i_ < argc_; }               // false after the last argument
    std::string current() const { return argv_[i_]; }  // the argument next() moved to
    // Consumes the option's value into `out`; false when the option is the last argument.
    bool value(std::string& out) {
        if (i_ + 1 >= argc_) return false;
        out = argv_[++i_];
        return true;
    }

   private:
    int argc_;
    char** argv_;
    int i_;
};

// Prints "error: <msg>" on one line (newlines flattened) and returns 2, the usage/bad-data status.
int fail(const std::string& msg);

// Parses a whole decimal integer within [lo, hi]; false on anything else.
bool parse_int(const std::string& s, int64_t lo, int64_t hi, int64_t& out);

// True when paths a and b name the same file (an existing one, or the same normalised path):
// an output must never overwrite one of the command's inputs.
inline bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    if (std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec) &&
        std::filesystem::equivalent(a, b, ec))
        return true;
    const std::filesystem::path ca = std::filesystem::weakly_canonical(a, ec);
    if (ec) return false;
    const std::filesystem::path cb = std::filesystem::weakly_canonical(b, ec);
    return !ec && ca == cb;
}

// Why the output file `out` cannot be written ("" when it can be tried): its directory must
// exist and `out` must not be a directory. Commands check this before any long work.
inline std::string output_path_problem(const std::string& flag, const std::string& out) {
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::path(out).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
        return std::filesystem::exists(parent, ec)
                   ? flag + ": " + parent.string() + " is not a directory"
                   : flag + ": directory " + parent.string() + " does not exist";
    if (std::filesystem::is_directory(out, ec))
        return flag + ": " + out + " is a directory (give a file name)";
    return "";
}

}  // namespace obl::cli
