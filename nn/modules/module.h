// Module: the base of every layer and model (DESIGN.md §F). Mirrors torch.nn.Module's state
// handling (torch/nn/modules/module.py): named parameters, buffers and child modules with dotted
// PyTorch names ("layer1.0.conv1.weight"), train/eval, state_dict/load_state_dict, deep clone.
//
// State lives in three ordered lists owned by the base class: parameters, buffers and children.
// Derived classes register their tensors and children in the constructor and may keep Tensor
// handles or typed std::shared_ptr children as members for forward(): handles alias the
// registered state, and every Module operation that changes state (to(), load_state_dict(),
// copy_state_from()) updates the tensors IN PLACE (same TensorImpl, new data or storage), so
// those member handles and any optimizer holding parameters() stay valid.
//
// Names, not positions: models are addressed by name everywhere (flashlight's params_[0] is the
// counter-example, DESIGN.md §M.5).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nn/tensor.h"

namespace obl {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using StateDict = std::map<std::string, Tensor>;

// What a non-strict load_state_dict() skipped (a strict load throws instead).
struct LoadResult {
    std::vector<std::string> missing_keys;     // in the module, not in the state dict
    std::vector<std::string> unexpected_keys;  // in the state dict, not in the module
};

class Module {
 public:
    Module() = default;
    virtual ~Module() = default;
    // Modules are not copyable (a copy would alias every parameter); use clone().
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    virtual Tensor forward(const Tensor& x) = 0;
    Tensor operator()(const Tensor& x) { return forward(x); }

    // Deep copy: the same structure and values, new storage for every parameter and buffer (on
    // the same device), parameters are leaves with the same requires_grad and no gradient, the
    // same training flags. Nothing is shared with the original. A module reachable twice in a
    // tree (weight tying) is copied twice.
    virtual std::unique_ptr<Module> clone() const = 0;
    // Short type name for messages and print(), e.g. "Linear(in=2, out=32)".
    virtual std::string repr() const { return "Module"; }
    // The whole tree, one line per module, indented by depth, with its dotted name.
    std::string print() const;

    // ---- mode -------------------------------------------------------------------------------
    // Sets training mode on this module and every descendant (BatchNorm, Dropout read it).
    // Virtual so that a wrapper can pin a subtree (e.g. a frozen body that always stays in eval).
    virtual void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    // ---- state, recursively, in registration order ------------------------------------------
    // Dotted names: a child registered as "layer1" contributes "layer1.<its names>". A tensor
    // reachable under two names is listed once, under the first (PyTorch's remove_duplicate).
    NamedTensors named_parameters() const;
    NamedTensors named_buffers() const;
    std::vector<Tensor> parameters() const;
    std::vector<Tensor> buffers() const;
    // Direct children, and every module of the tree (this one first, under the name "").
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
    std::vector<std::pair<std::string, const Module*>> named_modules() const;
    int64_t num_parameters() const;  // total elements over parameters()

    // requires_grad on every parameter (buffers never require grad).
    void set_requires_grad(bool on);
    // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
    void zero_grad();
    // Moves every parameter, gradient and buffer to `device` in place (the tensors keep their
    // identity, so handles held elsewhere see the move). Returns *this.
    Module& to(Device device);
    // The device of the first parameter or buffer; CPU for a module without state.
    Device device() const;

    // ---- state dicts ----------------------------------------------------------------------
    // Parameters and persistent buffers by dotted name, detached. The tensors ALIAS the module's
    // data (as in PyTorch); clone() them for a snapshot. A tensor reachable under two names
    // (weight tying) appears under both, as in PyTorch.
    StateDict state_dict() const;
    // Copies values into the existing tensors in place (converting dtype/device as needed).
    // strict: throws obl::Error listing ALL missing keys, unexpected keys and shape mismatches
    // in one message. Non-strict: missing/unexpected keys are returned, shape mismatches still
    // throw (PyTorch's rule). Nothing is modified when it throws.
    LoadResult load_state_dict(const StateDict& state, bool strict = true);
    // load_state_dict from a safetensors file (nn/io/safetensors.h validates it first); errors
    // name the file. f16/bf16 weights arrive as f32.
    LoadResult load_safetensors(const std::string& path, bool strict = true);
    // Writes state_dict() and string metadata to a safetensors file, atomically.
    void save_safetensors(const std::string& path,
                          const std::map<std::string, std::string>& metadata = {}) const;

    // Makes this module's state a deep copy of `src`'s. Both trees must have the same layout
    // (same names, in the same order, same shapes). Each tensor keeps its identity and gets new
    // storage holding src's values on src's device, src's requires_grad and no gradient; training
    // flags follow src. The building block of clone(): construct a fresh module with the same
    // configuration, then copy_state_from(*this).
    void copy_state_from(const Module& src);

    // ---- registration (normally from a constructor) ----------------------------------------
    // Registers a parameter (a floating leaf; requires_grad is set to `requires_grad`). The name
    // is local: non-empty, no dots, unique among this module's parameters, buffers and children.
    // Returns the registered handle (aliases the module's state).
    Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
    // Registers a buffer (running statistics, counters). Non-persistent buffers are left out of
    // state_dict() (PyTorch's persistent=False).
    Tensor register_buffer(const std::string& name, Tensor t, bool persistent = true);
    // Registers a child. Unlike PyTorch the name may be empty (the child's names are spliced in
    // without a prefix) or dotted (a path such as "encoder.layers.encoder_layer_0"), so that a
    // model made of stages can reproduce torchvision's names (DESIGN.md §F).
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
        add_child(name, m);
        return m;
    }

    // Local (non-recursive) lookup; throws when absent.
    Tensor parameter(const std::string& name) const;
    Tensor buffer(const std::string& name) const;

 protected:
    // Sets only this module's own flag (train() recurses; clone() implementations use this).
    void set_own_training(bool on) { training_ = on; }

 private:
    struct Slot {
        std::string name;
        Tensor tensor;
        bool persistent = true;
    };
    void check_new_name(const std::string& name, bool allow_path) const;
    void add_child(const std::string& name, std::shared_ptr<Module> m);
    // Appends (prefixed name, tensor) for this subtree; `params` selects parameters or buffers.
    // With `seen`, a tensor already in it is skipped (named_parameters); without, every name
    // is listed (state dicts, as PyTorch's state_dict lists tied weights under each name).
    void collect(const std::string& prefix, bool params, bool persistent_only, NamedTensors& out,
                 std::unordered_set<const TensorImpl*>* seen) const;
    void collect_modules(const std::string& prefix,
                         std::vector<std::pair<std::string, const Module*>>& out) const;
    void copy_state_from_impl(const Module& src, const std::string& prefix);

    bool training_ = true;
    std::vector<Slot> params_;
    std::vector<Slot> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace obl
