// The method interface's non-template parts: request checks, config-field text <-> value, the
// config hash (unlearn/method.h).
#include "unlearn/method.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace obl {

void check_unlearn_data(const UnlearnData& data) {
    OBL_CHECK(data.forget && data.retain, "unlearning needs both a forget and a retain set");
    OBL_CHECK(data.num_classes >= 2, "unlearning needs at least 2 classes, got ", data.num_classes);
    OBL_CHECK(!data.forget_classes.empty(), "no class to forget was given");
    std::vector<int> seen;
    for (int c : data.forget_classes) {
        OBL_CHECK(c >= 0 && c < data.num_classes, "forget class ", c, " is out of range [0, ",
                  data.num_classes, ")");
        OBL_CHECK(std::find(seen.begin(), seen.end(), c) == seen.end(), "forget class ", c,
                  " is listed twice");
        seen.push_back(c);
    }
    OBL_CHECK(static_cast<int>(seen.size()) < data.num_classes, "all ", data.num_classes,
              " classes would be forgotten: at least one class must be retained");
}

std::vector<int> retain_classes(const UnlearnData& data) {
    std::vector<int> keep;
    for (int c = 0; c < data.num_classes; ++c) {
        if (std::find(data.forget_classes.begin(), data.forget_classes.end(), c) ==
            data.forget_classes.end())
            keep.push_back(c);
    }
    return keep;
}

std::string FieldRange::describe() const {
    const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
    if (has_lo && has_hi)
        return std::string("in ") + (lo_open ? "(" : "[") + detail::format_field(lo) + ", " +
               detail::format_field(hi) + "]";
    if (has_lo) return (lo_open ? "> " : ">= ") + detail::format_field(lo);
    if (has_hi) return "<= " + detail::format_field(hi);
    return "any";
}

std::pair<std::string, std::string> parse_key_value(const std::string& text) {
    const size_t eq = text.find('=');
    OBL_CHECK(eq != std::string::npos && eq > 0, "expected key=value, got '", text, "'");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

namespace detail {

std::string format_field(bool v) { return v ? "true" : "false"; }
std::string format_field(int64_t v) { return std::to_string(v); }

namespace {

// The shortest %.{p}g that parses back to exactly `v` (p <= max_digits, which always does).
template <class T>
std::string shortest(T v, int max_digits) {
    char buf[64];
    for (int p = 1; p <= max_digits; ++p) {
        std::snprintf(buf, sizeof(buf), "%.*g", p, static_cast<double>(v));
        T back{};
        if (parse_field(buf, &back) && back == v) break;
    }
    return buf;
}

bool whole(const char* begin, const char* end) { return end != begin && *end == '\0'; }

}  // namespace

std::string format_field(float v) { return std::isfinite(v) ? shortest(v, 9) : std::to_string(v); }
std::string format_field(double v) {
    return std::isfinite(v) ? shortest(v, 17) : std::to_string(v);
}

bool parse_field(const std::string& text, bool* out) {
    std::string t = text;
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
        *out = true;
        return true;
    }
    if (t == "false" || t == "0" || t == "no" || t == "off") {
        *out = false;
        return true;
    }
    return false;
}

bool parse_field(const std::string& text, int64_t* out) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (!whole(text.c_str(), end) || errno == ERANGE) return false;
    *out = static_cast<int64_t>(v);
    return true;
}

bool parse_field(const std::string& text, int* out) {
    int64_t v = 0;
    if (!parse_field(text, &v) || v < std::numeric_limits<int>::min() ||
        v > std::numeric_limits<int>::max())
        return false;
    *out = static_cast<int>(v);
    return true;
}

bool parse_field(const std::string& text, double* out) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (!whole(text.c_str(), end) || !std::isfinite(v)) return false;
    *out = v;
    return true;
}

bool parse_field(const std::string& text, float* out) {
    double v = 0;
    if (!parse_field(text, &v) || std::fabs(v) > std::numeric_limits<float>::max()) return false;
    *out = static_cast<float>(v);
    return true;
}

void throw_bad_value(const std::string& method, const std::string& key, const std::string& value,
                     const char* type, const FieldRange& range) {
    const bool is_bool = std::string(type) == "bool";
    OBL_THROW("method '", method, "': bad value '", value, "' for '", key, "' (expected ",
              is_bool ? "true/false" : std::string("a finite ") + type,
              is_bool || range.describe() == "any" ? std::string() : ", " + range.describe(), ")");
}

}  // namespace detail

std::string config_hash(const std::string& method, const std::vector<FieldInfo>& resolved) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
    auto feed = [&h](const std::string& s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 0x100000001b3ull;
        }
        h ^= 0x0a;  // a separator no name or value contains
        h *= 0x100000001b3ull;
    };
    feed(method);
    for (const FieldInfo& f : resolved) feed(f.name + "=" + f.value);
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace obl
