#include "models/classifier.h"

#include <sstream>

namespace obl {

Classifier::Classifier(std::string arch, std::vector<Stage> stages,
                       std::map<std::string, std::string> aliases, int num_classes)
    : arch_(std::move(arch)),
      stages_(std::move(stages)),
      aliases_(std::move(aliases)),
      num_classes_(num_classes) {
    OBL_CHECK(!stages_.empty(), "Classifier ", arch_, ": no stages");
    OBL_CHECK(num_classes_ >= 1, "Classifier ", arch_, ": num_classes must be >= 1");
    for (size_t i = 0; i < stages_.size(); ++i) {
        OBL_CHECK(stages_[i].module, "Classifier ", arch_, ": stage '", stages_[i].name,
                  "' has no module");
        for (size_t j = 0; j < i; ++j)
            OBL_CHECK(stages_[j].name != stages_[i].name, "Classifier ", arch_,
                      ": duplicate stage name '", stages_[i].name, "'");
        register_module(stages_[i].param_prefix, stages_[i].module);
    }
    for (const auto& [alias, target] : aliases_) {
        for (const Stage& st : stages_)
            OBL_CHECK(st.name != alias, "Classifier ", arch_, ": alias '", alias,
                      "' equals a stage name (the stage boundary would be unreachable)");
        bool found = false;
        for (size_t i = 1; i < stages_.size(); ++i) found = found || stages_[i].name == target;
        OBL_CHECK(found, "Classifier ", arch_, ": alias '", alias, "' -> unknown stage '", target,
                  "'");
    }
}

Tensor Classifier::forward(const Tensor& x) {
    Tensor h = x;
    for (const Stage& s : stages_) h = s.module->forward(h);
    return h;
}

std::unique_ptr<Module> Classifier::clone() const { return clone_classifier(); }

std::unique_ptr<Classifier> Classifier::clone_classifier() const {
    std::vector<Stage> copies;
    for (const Stage& s : stages_)
        copies.push_back({s.name, s.param_prefix, std::shared_ptr<Module>(s.module->clone())});
    auto c = std::make_unique<Classifier>(arch_, std::move(copies), aliases_, num_classes_);
    c->train(is_training());
    return c;
}

std::vector<std::string> Classifier::split_points() const {
    std::vector<std::string> out;
    for (size_t i = 1; i < stages_.size(); ++i) out.push_back(stages_[i].name);
    for (const auto& [alias, target] : aliases_) out.push_back(alias);
    return out;
}

size_t Classifier::resolve(const std::string& point) const {
    auto a = aliases_.find(point);
    const std::string& name = a != aliases_.end() ? a->second : point;
    for (size_t i = 1; i < stages_.size(); ++i)
        if (stages_[i].name == name) return i;
    std::ostringstream valid;
    for (const auto& p : split_points()) valid << " " << p;
    OBL_THROW("unknown split point '", point, "' for ", arch_, "; valid points:", valid.str());
}

}  // namespace obl
