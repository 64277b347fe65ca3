// Shape: a fixed-capacity small vector of dims (kMaxDims = 8; Swin's window partition needs 6).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/common/check.h"

namespace obl {

class Shape {
   public:
    static constexpr int kMaxDims = 8;

    Shape() = default;
    Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
    explicit Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }

    int size() const { return n_; }
    bool empty() const { return n_ == 0; }
    int64_t operator[](int i) const { return d_[i]; }
    int64_t& operator[](int i) { return d_[i]; }
    const int64_t* begin() const { return d_; }
    const int64_t* end() const { return d_ + n_; }
    int64_t back() const { return d_[n_ - 1]; }

    // Normalises a possibly negative dim index (-1 = last); throws when out of range.
    int axis(int dim) const {
        OBL_CHECK(dim >= -n_ && dim < n_, "dim ", dim, " out of range for shape ", str());
        return dim < 0 ? dim + n_ : dim;
    }

    int64_t numel() const {
        int64_t n = 1;
        for (int i = 0; i < n_; ++i) n *= d_[i];
        return n;
    }
    // Product of dims [begin, end).
    int64_t prod(int begin, int end) const {
        int64_t n = 1;
        for (int i = begin; i < end; ++i) n *= d_[i];
        return n;
    }

    void push_back(int64_t v) {
        OBL_CHECK(n_ < kMaxDims, "shapes have at most ", kMaxDims, " dims");
        d_[n_++] = v;
    }
    std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }

    bool operator==(const Shape& o) const {
        if (n_ != o.n_) return false;
        for (int i = 0; i < n_; ++i)
            if (d_[i] != o.d_[i]) return false;
        return true;
    }
    bool operator!=(const Shape& o) const { return !(*this == o); }

    std::string str() const {
        std::string s = "[";
        for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
        return s + "]";
    }

   private:
    template <class It>
    void assign(It b, It e) {
        for (; b != e; ++b) {
            OBL_CHECK(n_ < kMaxDims, "shapes have at most ", kMaxDims, " dims");
            OBL_CHECK(*b >= 0, "negative dimension ", *b);
            d_[n_++] = *b;
        }
    }
    int64_t d_[kMaxDims] = {};
    int n_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

}  // namespace obl
