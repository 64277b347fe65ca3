// A small strict JSON parser for file headers (safetensors). Rejects anything RFC 8259 does not
// allow, invalid UTF-8, duplicate object keys, nesting deeper than a limit, and numbers that do
// not fit; keeps object key order. Not a general-purpose library: just enough, and careful.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace obl::json {

struct Value {
    enum class Kind { Null, Bool, Number, String, Array, Object };
    Kind kind = Kind::Null;
    bool boolean = false;
    std::string text;                                   // String: the decoded UTF-8; Number: the literal
    std::vector<Value> items;                           // Array
    std::vector<std::pair<std::string, Value>> fields;  // Object, in file order, unique keys

    bool is_integer() const;   // a Number literal without fraction or exponent
    // The Number as int64; throws obl::Error (with `what`) when not an integer or out of range.
    int64_t as_int64(const std::string& what) const;
    const Value* find(const std::string& key) const;  // Object field or nullptr
};

// Parses exactly one JSON value (surrounding whitespace allowed). Throws obl::Error with the
// byte offset of the problem, prefixed by `what`.
Value parse(const char* data, size_t size, const std::string& what, int max_depth = 16);

// JSON string literal for s (quotes included; control characters escaped).
std::string quote(const std::string& s);

}  // namespace obl::json
