// Checked file helpers for the dataset readers (std::filesystem + iostreams).
#include "data/file_util.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kernels/common/check.h"

namespace obl::data_detail {

namespace fs = std::filesystem;

std::string join_path(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    return a.back() == '/' ? a + b : a + "/" + b;
}

bool file_exists(const std::string& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

bool directory_exists(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec);
}

uint64_t file_size(const std::string& path) {
    std::error_code ec;
    OBL_CHECK(fs::is_regular_file(path, ec), "cannot read ", path, ": no such file");
    const uintmax_t n = fs::file_size(path, ec);
    OBL_CHECK(!ec, "cannot read the size of ", path, ": ", ec.message());
    return static_cast<uint64_t>(n);
}

std::vector<uint8_t> read_file(const std::string& path) {
    const uint64_t n = file_size(path);
    std::ifstream in(path, std::ios::binary);
    OBL_CHECK(in.good(), "cannot open ", path, ": ", std::strerror(errno));
    std::vector<uint8_t> bytes(static_cast<size_t>(n));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
    OBL_CHECK(static_cast<uint64_t>(in.gcount()) == n, "short read from ", path, ": got ",
              in.gcount(), " of ", n, " bytes");
    return bytes;
}

std::vector<std::string> read_lines(const std::string& path, const char* what) {
    OBL_CHECK(file_exists(path), "cannot read ", what, " from ", path, ": no such file");
    std::ifstream in(path);
    OBL_CHECK(in.good(), "cannot open ", path, ": ", std::strerror(errno));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
    return lines;
}

std::vector<std::string> list_directory(const std::string& path) {
    std::error_code ec;
    OBL_CHECK(fs::is_directory(path, ec), "cannot list ", path, ": not a directory");
    std::vector<std::string> names;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    OBL_CHECK(!ec, "cannot list ", path, ": ", ec.message());
    std::sort(names.begin(), names.end());
    return names;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

}  // namespace obl::data_detail
