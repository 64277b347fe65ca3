// Small checked file helpers shared by the readers: every failure is an obl::Error that names
// the file and says what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace obl::data_detail {

// path1 / path2 (one '/' between them).
std::string join_path(const std::string& a, const std::string& b);
bool file_exists(const std::string& path);  // a regular file (or a link to one)
bool directory_exists(const std::string& path);
// Size in bytes; throws naming the file when it cannot be read.
uint64_t file_size(const std::string& path);
// The whole file; throws naming the file on open/read errors or a short read.
std::vector<uint8_t> read_file(const std::string& path);
// Lines without their '\n' / "\r\n"; trailing empty lines dropped. `what` names the file's role in
// errors ("class names").
std::vector<std::string> read_lines(const std::string& path, const char* what);
// Entries of a directory (names only, no "." / ".."), sorted; throws when it is not readable.
std::vector<std::string> list_directory(const std::string& path);
std::string lower(std::string s);
std::string trim(const std::string& s);

}  // namespace obl::data_detail
