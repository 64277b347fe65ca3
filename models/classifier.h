// Classifier: an ordered list of named stages (DESIGN.md §F).
//
// Each Stage has a name (the split-point vocabulary: "stem", "layer1.0", ..., "fc") and a
// param_prefix that reproduces the PyTorch parameter names of the module it holds ("" for the
// ResNet stem, so its conv1.weight stays "conv1.weight"; "encoder.layers.encoder_layer_0" for
// ViT's block0). forward() runs every stage in order. A split point is always a stage boundary,
// named after the first stage of the head, where the whole forward state is one tensor; aliases
// ("pre_logits", "last_block") name boundaries per architecture.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/modules/module.h"

namespace obl {

struct Stage {
    std::string name;
    std::string param_prefix;
    std::shared_ptr<Module> module;
};

class Classifier : public Module {
   public:
    // aliases: alias -> stage name, e.g. {"pre_logits", "fc"}, {"last_block", "layer4.1"}.
    Classifier(std::string arch, std::vector<Stage> stages,
               std::map<std::string, std::string> aliases, int num_classes);

    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    // clone(), typed: a deep copy with its own parameters and buffers.
    std::unique_ptr<Classifier> clone_classifier() const;
    std::string repr() const override { return "Classifier(" + arch_ + ")"; }

    const std::string& arch() const { return arch_; }
    int num_classes() const { return num_classes_; }
    const std::vector<Stage>& stages() const { return stages_; }
    const std::map<std::string, std::string>& aliases() const { return aliases_; }
    // Every valid split point: stage names except the first (nothing before it), then aliases.
    std::vector<std::string> split_points() const;
    // Stage index where the head starts for `point` (a stage name or alias); throws obl::Error
    // listing the valid points otherwise.
    size_t resolve(const std::string& point) const;

   private:
    std::string arch_;
    std::vector<Stage> stages_;
    std::map<std::string, std::string> aliases_;
    int num_classes_;
};

}  // namespace obl
