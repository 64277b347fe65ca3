// Element types. F32 computes; F64 exists for CPU gradient checks; I32/I64 hold labels and
// indices; U8 holds raw pixels and masks. The numeric codes are the ones kernels/ uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

namespace obl {

enum class DType : uint8_t { F32 = 0, F64 = 1, I32 = 2, I64 = 3, U8 = 4 };

constexpr size_t dtype_size(DType t) {
    switch (t) {
        case DType::F32: return 4;
        case DType::F64: return 8;
        case DType::I32: return 4;
        case DType::I64: return 8;
        case DType::U8: return 1;
    }
    return 0;
}

constexpr const char* dtype_name(DType t) {
    switch (t) {
        case DType::F32: return "f32";
        case DType::F64: return "f64";
        case DType::I32: return "i32";
        case DType::I64: return "i64";
        case DType::U8: return "u8";
    }
    return "?";
}

constexpr bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }
constexpr int dtype_code(DType t) { return static_cast<int>(t); }

template <class T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };

inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

}  // namespace obl
