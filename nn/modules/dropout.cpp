// Dropout module (see dropout.h).
#include "nn/modules/dropout.h"

#include <sstream>

#include "nn/ops/shape_ops.h"

namespace obl {

namespace {

// splitmix64 finaliser (Steele, Lea, Flood 2014): a bijection that scatters nearby inputs.
uint64_t splitmix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

Dropout::Dropout(double p, uint64_t seed) : p_(p), seed_(seed) {
    OBL_CHECK(p_ >= 0 && p_ < 1, "Dropout: p must be in [0, 1), got ", p_);
}

Tensor Dropout::forward(const Tensor& x) {
    check_defined(x, "Dropout", "x");
    if (!is_training() || p_ == 0) return x;
    const uint64_t key = splitmix64(seed_ + calls_ * 0x9e3779b97f4a7c15ull);
    ++calls_;
    return dropout(x, p_, true, key);
}

std::unique_ptr<Module> Dropout::clone() const {
    auto c = std::make_unique<Dropout>(p_, seed_);
    c->calls_ = calls_;
    c->copy_state_from(*this);
    return c;
}

std::string Dropout::repr() const {
    std::ostringstream os;
    os << "Dropout(p=" << p_ << ")";
    return os.str();
}

}  // namespace obl
