// Strict JSON parser (recursive descent with a depth limit).
#include "nn/io/json.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "kernels/common/check.h"

namespace obl::json {

namespace {

class Parser {
   public:
    Parser(const char* d, size_t n, const std::string& what, int max_depth)
        : d_(d), n_(n), what_(what), max_depth_(max_depth) {}

    Value parse_document() {
        skip_ws();
        Value v = parse_value(0);
        skip_ws();
        if (pos_ != n_) fail("unexpected data after the JSON value");
        return v;
    }

   private:
    [[noreturn]] void fail(const std::string& msg) const {
        OBL_THROW(what_, ": invalid JSON at byte ", pos_, ": ", msg);
    }
    bool at_end() const { return pos_ >= n_; }
    char peek() const { return at_end() ? '\0' : d_[pos_]; }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    void skip_ws() {
        while (!at_end() && (d_[pos_] == ' ' || d_[pos_] == '\t' || d_[pos_] == '\n' || d_[pos_] == '\r'))
            ++pos_;
    }
    void literal(const char* word) {
        for (const char* p = word; *p; ++p) {
            if (peek() != *p) fail(std::string("invalid literal, expected '") + word + "'");
            ++pos_;
        }
    }

    Value parse_value(int depth) {
        if (depth > max_depth_) fail("nesting deeper than " + std::to_string(max_depth_));
        if (at_end()) fail("unexpected end of input");
        Value v;
        switch (peek()) {
            case '{': v.kind = Value::Kind::Object; parse_object(v, depth); break;
            case '[': v.kind = Value::Kind::Array; parse_array(v, depth); break;
            case '"': v.kind = Value::Kind::String; v.text = parse_string(); break;
            case 't': literal("true"); v.kind = Value::Kind::Bool; v.boolean = true; break;
            case 'f': literal("false"); v.kind = Value::Kind::Bool; break;
            case 'n': literal("null"); break;
            default: v.kind = Value::Kind::Number; v.text = parse_number(); break;
        }
        return v;
    }

    void parse_object(Value& v, int depth) {
        expect('{');
        skip_ws();
        if (peek() == '}') { ++pos_; return; }
        for (;;) {
            skip_ws();
            if (peek() != '"') fail("expected a string key");
            std::string key = parse_string();
            for (const auto& f : v.fields)
                if (f.first == key) fail("duplicate key \"" + key + "\"");
            skip_ws();
            expect(':');
            skip_ws();
            v.fields.emplace_back(std::move(key), parse_value(depth + 1));
            skip_ws();
            if (peek() == ',') { ++pos_; continue; }
            expect('}');
            return;
        }
    }

    void parse_array(Value& v, int depth) {
        expect('[');
        skip_ws();
        if (peek() == ']') { ++pos_; return; }
        for (;;) {
            skip_ws();
            v.items.push_back(parse_value(depth + 1));
            skip_ws();
            if (peek() == ',') { ++pos_; continue; }
            expect(']');
            return;
        }
    }

    std::string parse_number() {
        const size_t start = pos_;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++pos_;
        } else {
            fail("invalid value");
        }
        if (peek() == '.') {
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("digit expected after '.'");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("digit expected in exponent");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        return std::string(d_ + start, pos_ - start);
    }

    unsigned hex4() {
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = peek();
            unsigned h;
            if (c >= '0' && c <= '9') h = c - '0';
            else if (c >= 'a' && c <= 'f') h = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') h = c - 'A' + 10;
            else fail("invalid \\u escape");
            v = v * 16 + h;
            ++pos_;
        }
        return v;
    }

    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // Validates one raw UTF-8 sequence starting at pos_ (rejecting overlongs, surrogates and
    // code points past U+10FFFF) and appends it.
    void copy_utf8(std::string& out) {
        const auto b0 = static_cast<unsigned char>(d_[pos_]);
        int len;
        uint32_t cp;
        if (b0 < 0x80) { out += static_cast<char>(b0); ++pos_; return; }
        if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; }
        else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; }
        else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; }
        else fail("invalid UTF-8 lead byte");
        if (pos_ + len > n_) fail("truncated UTF-8 sequence");
        for (int i = 1; i < len; ++i) {
            const auto b = static_cast<unsigned char>(d_[pos_ + i]);
            if ((b & 0xC0) != 0x80) fail("invalid UTF-8 continuation byte");
            cp = (cp << 6) | (b & 0x3F);
        }
        const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            fail("invalid UTF-8 (overlong, surrogate or out of range)");
        out.append(d_ + pos_, len);
        pos_ += len;
    }

    std::string parse_string() {
        expect('"');
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string");
            const auto c = static_cast<unsigned char>(d_[pos_]);
            if (c == '"') { ++pos_; return out; }
            if (c < 0x20) fail("control character in string");
            if (c != '\\') { copy_utf8(out); continue; }
            ++pos_;
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
                        if (peek() != '\\') fail("unpaired surrogate in \\u escape");
                        ++pos_;
                        if (peek() != 'u') fail("unpaired surrogate in \\u escape");
                        ++pos_;
                        const uint32_t lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate in \\u escape");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        fail("unpaired surrogate in \\u escape");
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: fail("invalid escape");
            }
        }
    }

    const char* d_;
    size_t n_;
    size_t pos_ = 0;
    const std::string& what_;
    int max_depth_;
};

}  // namespace

bool Value::is_integer() const {
    return kind == Kind::Number && text.find_first_of(".eE") == std::string::npos;
}

int64_t Value::as_int64(const std::string& what) const {
    OBL_CHECK(is_integer(), what, ": expected an integer, got ",
              kind == Kind::Number ? text : std::string("a non-number"));
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    OBL_CHECK(errno != ERANGE && end && *end == '\0', what, ": integer ", text, " out of range");
    return static_cast<int64_t>(v);
}

const Value* Value::find(const std::string& key) const {
    for (const auto& f : fields)
        if (f.first == key) return &f.second;
    return nullptr;
}

Value parse(const char* data, size_t size, const std::string& what, int max_depth) {
    return Parser(data, size, what, max_depth).parse_document();
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    static const char* hex = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

}  // namespace obl::json
