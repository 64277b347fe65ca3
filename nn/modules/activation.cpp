// Activation and Flatten modules (see activation.h).
#include "nn/modules/activation.h"

#include "nn/ops/elementwise.h"

namespace obl {

namespace {

// Parameter-free modules have no state to copy, only their own mode flag.
template <class M>
std::unique_ptr<Module> clone_stateless(const M& m, std::unique_ptr<M> c) {
    c->train(m.is_training());
    return c;
}

}  // namespace

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
std::unique_ptr<Module> ReLU::clone() const {
    return clone_stateless(*this, std::make_unique<ReLU>());
}

Tensor GELU::forward(const Tensor& x) { return gelu(x); }
std::unique_ptr<Module> GELU::clone() const {
    return clone_stateless(*this, std::make_unique<GELU>());
}

Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
std::unique_ptr<Module> Tanh::clone() const {
    return clone_stateless(*this, std::make_unique<Tanh>());
}

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
std::unique_ptr<Module> Sigmoid::clone() const {
    return clone_stateless(*this, std::make_unique<Sigmoid>());
}

Tensor Flatten::forward(const Tensor& x) {
    check_defined(x, "Flatten", "x");
    return x.flatten(start_dim_);
}
std::unique_ptr<Module> Flatten::clone() const {
    return clone_stateless(*this, std::make_unique<Flatten>(start_dim_));
}

std::string Flatten::repr() const {
    return "Flatten(start_dim=" + std::to_string(start_dim_) + ")";
}

}  // namespace obl
