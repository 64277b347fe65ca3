// Sequential, Identity and Lambda (see sequential.h).
#include "nn/modules/sequential.h"

namespace obl {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
    for (auto& m : modules) push_back(std::move(m));
}

Sequential::Sequential(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules) {
    for (auto& [name, m] : modules) push_back(name, std::move(m));
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor y = x;
    for (const auto& m : modules_) y = m->forward(y);
    return y;
}

std::unique_ptr<Module> Sequential::clone() const {
    auto c = std::make_unique<Sequential>();
    for (const auto& [name, m] : named_children())
        c->push_back(name, std::shared_ptr<Module>(m->clone()));
    c->set_own_training(is_training());
    return c;
}

std::unique_ptr<Module> Identity::clone() const {
    auto c = std::make_unique<Identity>();
    c->set_own_training(is_training());
    return c;
}

Lambda::Lambda(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {
    OBL_CHECK(fn_ != nullptr, "Lambda('", name_, "'): empty function");
}

std::unique_ptr<Module> Lambda::clone() const {
    auto c = std::make_unique<Lambda>(name_, fn_);
    c->set_own_training(is_training());
    return c;
}

}  // namespace obl
