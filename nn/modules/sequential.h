// Containers and parameter-free wrappers (torch/nn/modules/container.py, linear.py Identity):
//   Sequential: runs its children in order, y = m_k(... m_1(m_0(x))); children are named
//               "0", "1", ... unless given names (torchvision's "layer1", "fc", ...).
//   Identity:   y = x.
//   Lambda:     y = fn(x) for a parameter-free function (a named std::function).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/modules/module.h"

namespace obl {

class Sequential : public Module {
 public:
    Sequential() = default;
    // Children named "0", "1", ... in order.
    explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
    // Children with explicit names (any name register_module accepts, including "" and paths).
    explicit Sequential(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules);

    // Appends a child named after its position ("3" for the fourth) and returns it.
    template <class M>
    std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
        return push_back(std::to_string(modules_.size()), std::move(m));
    }
    template <class M>
    std::shared_ptr<M> push_back(const std::string& name, std::shared_ptr<M> m) {
        register_module(name, m);
        modules_.push_back(m);
        return m;
    }

    size_t size() const { return modules_.size(); }
    bool empty() const { return modules_.empty(); }
    const std::shared_ptr<Module>& operator[](size_t i) const { return modules_.at(i); }
    const std::vector<std::shared_ptr<Module>>& modules() const { return modules_; }

    Tensor forward(const Tensor& x) override;
    // Clones every child (children shared with another container are copied, not shared).
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "Sequential"; }

 private:
    std::vector<std::shared_ptr<Module>> modules_;
};

class Identity : public Module {
 public:
    Tensor forward(const Tensor& x) override { return x; }
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "Identity"; }
};

// A parameter-free function as a module, e.g. Lambda("flatten", [](const Tensor& x) {...}).
// The function must not hold parameters: clone() copies the std::function, so anything it
// captures is shared with the clone.
class Lambda : public Module {
 public:
    using Fn = std::function<Tensor(const Tensor&)>;
    Lambda(std::string name, Fn fn);

    Tensor forward(const Tensor& x) override { return fn_(x); }
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "Lambda(" + name_ + ")"; }

 private:
    std::string name_;
    Fn fn_;
};

}  // namespace obl
