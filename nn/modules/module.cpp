// Module state handling: registration, recursive names, train/eval, device moves, state dicts
// and deep copies (torch/nn/modules/module.py semantics, see module.h).
#include "nn/modules/module.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "nn/autograd.h"
#include "nn/io/safetensors.h"

namespace obl {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
    if (prefix.empty()) return name;
    if (name.empty()) return prefix;
    return prefix + "." + name;
}

std::string list(const std::vector<std::string>& items) {
    std::string s = "[";
    for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
    return s + "]";
}

// Gives `dst` (keeping its TensorImpl, so every alias follows) the storage of `fresh`.
void adopt_storage(const Tensor& dst, const Tensor& fresh) {
    TensorImpl* d = dst.impl();
    d->storage = fresh.impl()->storage;
    d->offset = fresh.impl()->offset;
    d->shape = fresh.shape();
    d->dtype = fresh.dtype();
}

}  // namespace

// ---- registration ----------------------------------------------------------------------------

void Module::check_new_name(const std::string& name, bool allow_path) const {
    if (allow_path) {
        if (name.empty()) return;  // spliced child: its own names must stay unique (state_dict)
        OBL_CHECK(name.front() != '.' && name.back() != '.' && name.find("..") == std::string::npos,
                  "module name '", name, "' has an empty component");
    } else {
        OBL_CHECK(!name.empty(), "parameter and buffer names must not be empty");
        OBL_CHECK(name.find('.') == std::string::npos, "parameter/buffer name '", name,
                  "' must not contain '.' (dots separate module names)");
    }
    const auto same = [&](const auto& e) { return e.name == name; };
    OBL_CHECK(std::none_of(params_.begin(), params_.end(), same) &&
                  std::none_of(buffers_.begin(), buffers_.end(), same) &&
                  std::none_of(children_.begin(), children_.end(),
                               [&](const auto& c) { return c.first == name; }),
              "'", name, "' is already registered in ", repr());
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
    check_new_name(name, false);
    OBL_CHECK(t.defined(), "register_parameter('", name, "'): undefined tensor");
    OBL_CHECK(is_floating(t.dtype()), "register_parameter('", name,
              "'): parameters must be f32 or f64, got ", t.describe());
    OBL_CHECK(t.is_leaf(), "register_parameter('", name,
              "'): parameters must be leaves; pass t.detach()");
    t.set_requires_grad(requires_grad);
    params_.push_back({name, t, true});
    return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
    check_new_name(name, false);
    OBL_CHECK(t.defined(), "register_buffer('", name, "'): undefined tensor");
    OBL_CHECK(!t.requires_grad(), "register_buffer('", name,
              "'): buffers do not require grad; pass t.detach()");
    buffers_.push_back({name, t, persistent});
    return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
    check_new_name(name, true);
    OBL_CHECK(m != nullptr, "register_module('", name, "'): null module");
    OBL_CHECK(m.get() != this, "register_module('", name, "'): a module cannot contain itself");
    children_.emplace_back(name, std::move(m));
}

Tensor Module::parameter(const std::string& name) const {
    std::vector<std::string> names;
    for (const Slot& s : params_) {
        if (s.name == name) return s.tensor;
        names.push_back(s.name);
    }
    OBL_THROW(repr(), " has no parameter '", name, "'; it has ", list(names));
}

Tensor Module::buffer(const std::string& name) const {
    std::vector<std::string> names;
    for (const Slot& s : buffers_) {
        if (s.name == name) return s.tensor;
        names.push_back(s.name);
    }
    OBL_THROW(repr(), " has no buffer '", name, "'; it has ", list(names));
}

// ---- traversal -------------------------------------------------------------------------------

void Module::collect(const std::string& prefix, bool params, bool persistent_only,
                     NamedTensors& out, std::unordered_set<const TensorImpl*>* seen) const {
    for (const Slot& s : params ? params_ : buffers_) {
        if (persistent_only && !s.persistent) continue;
        if (seen && !seen->insert(s.tensor.impl()).second) continue;
        out.emplace_back(join(prefix, s.name), s.tensor);
    }
    for (const auto& [name, child] : children_)
        child->collect(join(prefix, name), params, persistent_only, out, seen);
}

NamedTensors Module::named_parameters() const {
    NamedTensors out;
    std::unordered_set<const TensorImpl*> seen;
    collect("", true, false, out, &seen);
    return out;
}

NamedTensors Module::named_buffers() const {
    NamedTensors out;
    std::unordered_set<const TensorImpl*> seen;
    collect("", false, false, out, &seen);
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

std::vector<Tensor> Module::buffers() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_buffers()) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
    return children_;
}

void Module::collect_modules(const std::string& prefix,
                             std::vector<std::pair<std::string, const Module*>>& out) const {
    out.emplace_back(prefix, this);
    for (const auto& [name, child] : children_) child->collect_modules(join(prefix, name), out);
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
    std::vector<std::pair<std::string, const Module*>> out;
    collect_modules("", out);
    return out;
}

int64_t Module::num_parameters() const {
    int64_t n = 0;
    for (const Tensor& p : parameters()) n += p.numel();
    return n;
}

std::string Module::print() const {
    std::ostringstream os;
    // Depth-first, indented by nesting depth (not by the number of dots: names may be paths).
    std::function<void(const Module&, const std::string&, int)> visit = [&](const Module& m,
                                                                            const std::string& name,
                                                                            int depth) {
        os << std::string(2 * depth, ' ') << (name.empty() ? "" : name + ": ") << m.repr() << "\n";
        for (const auto& [child_name, child] : m.children_)
            visit(*child, join(name, child_name), depth + 1);
    };
    visit(*this, "", 0);
    return os.str();
}

// ---- mode, gradients, devices --------------------------------------------------------------

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

void Module::set_requires_grad(bool on) {
    for (Tensor& p : parameters()) p.set_requires_grad(on);
}

void Module::zero_grad() {
    for (Tensor& p : parameters()) p.zero_grad();
}

Module& Module::to(Device device) {
    NoGradGuard no_grad;
    NamedTensors all = named_parameters();
    for (auto& b : named_buffers()) all.push_back(b);
    for (auto& [name, t] : all) {
        if (t.device() != device) adopt_storage(t, t.detach().to(device));
        TensorImpl* impl = t.impl();
        if (impl->grad && Tensor(impl->grad).device() != device)
            impl->grad = Tensor(impl->grad).detach().to(device).impl_ptr();
    }
    return *this;
}

Device Module::device() const {
    for (const auto& [name, t] : named_parameters()) return t.device();
    for (const auto& [name, t] : named_buffers()) return t.device();
    return Device::cpu();
}

// ---- state dicts -------------------------------------------------------------------------------

StateDict Module::state_dict() const {
    NamedTensors all;
    collect("", true, true, all, nullptr);
    collect("", false, true, all, nullptr);
    StateDict out;
    for (auto& [name, t] : all) {
        OBL_CHECK(out.emplace(name, t.detach()).second, "state_dict: the name '", name,
                  "' occurs twice in ", repr(), " (two children spliced with an empty name?)");
    }
    return out;
}

LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
    NamedTensors expected;
    collect("", true, true, expected, nullptr);
    collect("", false, true, expected, nullptr);

    LoadResult result;
    std::vector<std::string> mismatched;
    std::unordered_set<std::string> expected_names;
    for (const auto& [name, dst] : expected) {
        expected_names.insert(name);
        auto it = state.find(name);
        if (it == state.end()) {
            result.missing_keys.push_back(name);
        } else if (!it->second.defined() || it->second.shape() != dst.shape()) {
            mismatched.push_back(name + ": checkpoint " +
                                 (it->second.defined() ? it->second.shape().str() : "undefined") +
                                 " vs model " + dst.shape().str());
        } else if (is_floating(it->second.dtype()) != is_floating(dst.dtype())) {
            // Values convert between float widths (F64/F16/BF16 files load into F32), but an
            // integer tensor never fills a floating-point one, nor the reverse.
            mismatched.push_back(name + ": checkpoint dtype " + dtype_name(it->second.dtype()) +
                                 " vs model " + dtype_name(dst.dtype()));
        }
    }
    for (const auto& [name, t] : state)
        if (!expected_names.count(name)) result.unexpected_keys.push_back(name);

    const bool fail = !mismatched.empty() ||
                      (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty()));
    OBL_CHECK(!fail, "load_state_dict", strict ? " (strict)" : "",
              ": the state dict does not match ", repr(), ": missing keys (",
              result.missing_keys.size(), "): ", list(result.missing_keys), "; unexpected keys (",
              result.unexpected_keys.size(), "): ", list(result.unexpected_keys),
              "; shape mismatches (", mismatched.size(), "): ", list(mismatched));

    NoGradGuard no_grad;
    for (auto& [name, dst] : expected) {
        auto it = state.find(name);
        if (it == state.end()) continue;
        Tensor src = it->second.detach();
        if (src.dtype() != dst.dtype()) src = src.to(dst.dtype());
        if (src.device() == dst.device() && src.raw() == dst.raw()) continue;  // loading itself
        dst.copy_(src);
    }
    return result;
}

LoadResult Module::load_safetensors(const std::string& path, bool strict) {
    SafetensorsFile file = read_safetensors(path);
    try {
        return load_state_dict(file.tensors, strict);
    } catch (const Error& e) {
        OBL_THROW(path, ": ", e.what());
    }
}

void Module::save_safetensors(const std::string& path,
                              const std::map<std::string, std::string>& metadata) const {
    write_safetensors(path, state_dict(), metadata);
}

// ---- deep copies ---------------------------------------------------------------------------

void Module::copy_state_from(const Module& src) {
    NoGradGuard no_grad;
    copy_state_from_impl(src, "");
}

void Module::copy_state_from_impl(const Module& src, const std::string& prefix) {
    const auto check_slots = [&](const std::vector<Slot>& a, const std::vector<Slot>& b,
                                 const char* what) {
        OBL_CHECK(a.size() == b.size(), "copy_state_from: ", repr(), " at '", prefix, "' has ",
                  a.size(), " ", what, ", the source ", src.repr(), " has ", b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            OBL_CHECK(a[i].name == b[i].name && a[i].tensor.shape() == b[i].tensor.shape() &&
                          a[i].tensor.dtype() == b[i].tensor.dtype(),
                      "copy_state_from: ", what, " '", join(prefix, a[i].name), "' is ",
                      a[i].tensor.describe(), ", the source's '", join(prefix, b[i].name), "' is ",
                      b[i].tensor.describe());
        }
    };
    check_slots(params_, src.params_, "parameters");
    check_slots(buffers_, src.buffers_, "buffers");
    OBL_CHECK(children_.size() == src.children_.size(), "copy_state_from: ", repr(), " at '",
              prefix, "' has ", children_.size(), " children, the source has ",
              src.children_.size());

    for (size_t i = 0; i < params_.size(); ++i) {
        const Tensor& s = src.params_[i].tensor;
        Tensor& d = params_[i].tensor;
        adopt_storage(d, s.detach().clone());
        d.impl()->grad.reset();
        d.impl()->grad_fn.reset();
        d.impl()->requires_grad = s.requires_grad();
    }
    for (size_t i = 0; i < buffers_.size(); ++i) {
        adopt_storage(buffers_[i].tensor, src.buffers_[i].tensor.detach().clone());
        buffers_[i].persistent = src.buffers_[i].persistent;
    }
    training_ = src.training_;
    for (size_t i = 0; i < children_.size(); ++i) {
        OBL_CHECK(children_[i].first == src.children_[i].first, "copy_state_from: child ", i,
                  " of '", prefix, "' is '", children_[i].first, "', the source's is '",
                  src.children_[i].first, "'");
        children_[i].second->copy_state_from_impl(*src.children_[i].second,
                                                  join(prefix, children_[i].first));
    }
}

}  // namespace obl
