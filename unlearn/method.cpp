// The method interface's non-template parts: request checks, config-field text <-> value, the
// config hash (unlearn/method.h).
#include "unlearn/method.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "nn/io/hash.h"

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

// Whole numbers below 1e15 print as integers ("180", not "1.8e+02"); others as shortest().
std::string format_field(float v) {
    if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 1e15f)
        return format_field(static_cast<int64_t>(v));
    return std::isfinite(v) ? shortest(v, 9) : std::to_string(v);
}
std::string format_field(double v) {
    if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 1e15)
        return format_field(static_cast<int64_t>(v));
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

bool parse_field(const std::string& text, std::string* out) {
    *out = text;
    return true;
}

std::string format_field(const std::vector<int>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
}

bool parse_field(const std::string& text, std::vector<int>* out) {
    std::string t;
    for (char c : text)
        if (c != ' ' && c != '[' && c != ']') t += c;
    std::vector<int> v;
    size_t start = 0;
    while (start < t.size()) {
        size_t comma = t.find(',', start);
        if (comma == std::string::npos) comma = t.size();
        if (comma + 1 == t.size()) return false;  // trailing comma
        int x = 0;
        if (!parse_field(t.substr(start, comma - start), &x)) return false;
        v.push_back(x);
        start = comma + 1;
    }
    *out = std::move(v);
    return true;
}

void throw_bad_value(const std::string& method, const std::string& key, const std::string& value,
                     const char* type, const FieldRange& range) {
    const bool is_bool = std::string(type) == "bool";
    const bool is_list = std::string(type) == "int list";
    OBL_THROW("method '", method, "': bad value '", value, "' for '", key, "' (expected ",
              is_bool   ? std::string("true/false")
              : is_list ? std::string("comma-separated integers")
                        : std::string("a finite ") + type,
              is_bool || range.describe() == "any" ? std::string() : ", " + range.describe(), ")");
}

}  // namespace detail

std::string config_hash(const std::string& method, const std::vector<FieldInfo>& resolved) {
    // Each piece followed by '\n', a separator no name or value contains.
    uint64_t h = fnv1a(method + "\n");
    for (const FieldInfo& f : resolved) h = fnv1a(f.name + "=" + f.value + "\n", h);
    return hex16(h);
}

}  // namespace obl
