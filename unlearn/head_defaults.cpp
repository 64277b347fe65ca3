// Method defaults by head structure (unlearn/head_defaults.h): the structure walk and the rule.
#include "unlearn/head_defaults.h"

#include <sstream>
#include <vector>

#include "nn/modules/batch_norm.h"
#include "nn/modules/layer_norm.h"
#include "unlearn/methods.h"

namespace obl {

namespace {

// A deep head's learning rate: the method's (linear-head) default times this. Methods that
// train a FRESH head (MethodInfo::fresh_head) keep their from-scratch learning rate.
constexpr double kDeepHeadLrScale = 0.01;

}  // namespace

std::string HeadStructure::describe() const {
    std::ostringstream os;
    os << (deep() ? "deep" : "linear") << " head (" << weight_tensors << " weight tensor"
       << (weight_tensors == 1 ? "" : "s");
    if (conv_kernels > 0)
        os << ": " << conv_kernels << " conv kernel" << (conv_kernels == 1 ? "" : "s");
    if (norm_layers > 0)
        os << "; " << norm_layers << " norm layer" << (norm_layers == 1 ? "" : "s");
    os << "; " << parameters << " parameters)";
    return os.str();
}

HeadStructure head_structure(const Module& head) {
    HeadStructure s;
    for (const auto& [name, p] : head.named_parameters()) {
        if (!p.requires_grad()) continue;
        s.parameters += p.numel();
        if (p.dim() >= 2) ++s.weight_tensors;
        if (p.dim() == 4) ++s.conv_kernels;
    }
    for (const auto& [name, m] : head.named_modules()) {
        Tensor w;
        if (const auto* bn = dynamic_cast<const BatchNorm*>(m))
            w = bn->weight();
        else if (const auto* ln = dynamic_cast<const LayerNorm*>(m))
            w = ln->weight();
        if (w.defined() && w.requires_grad()) ++s.norm_layers;
    }
    return s;
}

Overrides head_default_overrides(const std::string& method, const HeadStructure& head) {
    Overrides out;
    if (!head.deep()) return out;
    const MethodInfo* info = nullptr;
    for (const MethodInfo& m : methods())
        if (m.name == method) info = &m;
    if (info == nullptr || info->fresh_head) return out;  // find_method reports unknown names
    for (const FieldInfo& f : info->resolve({}))
        if (f.name == "lr") {
            std::ostringstream v;
            v << std::stod(f.value) * kDeepHeadLrScale;
            out.emplace_back("lr", v.str());
        }
    return out;
}

Overrides head_default_overrides(const std::string& method, const Module& head) {
    return head_default_overrides(method, head_structure(head));
}

Overrides with_head_defaults(const std::string& method, const Module& head, const Overrides& user) {
    Overrides out = head_default_overrides(method, head);
    out.insert(out.end(), user.begin(), user.end());
    return out;
}

}  // namespace obl
