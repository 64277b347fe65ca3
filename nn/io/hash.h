// FNV-1a 64: the one hash oblivio uses for config hashes, cache keys and weight digests. Stable
// across runs, machines and compilers; NOT cryptographic (it names things, it protects nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace obl {

inline constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ull;  // the standard offset basis
inline constexpr uint64_t kFnv1aPrime = 0x100000001b3ull;

// h after feeding `n` bytes (start from kFnv1aOffset; chain calls to hash several pieces).
inline uint64_t fnv1a(const void* data, size_t n, uint64_t h = kFnv1aOffset) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnv1aPrime;
    return h;
}
inline uint64_t fnv1a(const std::string& s, uint64_t h = kFnv1aOffset) {
    return fnv1a(s.data(), s.size(), h);
}

// 16 lowercase hex digits.
inline std::string hex16(uint64_t h) {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace obl
