// Strict parsing of experiment files (experiments/config.h) with yaml-cpp.
#include "experiments/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "data/catalog.h"
#include "experiments/train.h"
#include "kernels/common/check.h"
#include "models/zoo.h"
#include "unlearn/methods.h"
#include "unlearn/selection.h"
#include "unlearn/synthetic.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace {

constexpr const char* kDatasetPlaceholder = "{dataset}";
// Upper bound of num_classes, of class ids and of the set sizes of classes.multi (ImageNet-21k has
// 21,841 classes). Keeps them inside int and `classes: all` from expanding into billions of sets.
constexpr int64_t kMaxClasses = 100000;

const std::vector<std::string> kTopKeys = {"name",        "table",
                                           "arch",        "dataset",
                                           "num_classes", "input_size",
                                           "original",    "oracle",
                                           "cuts",        "classes",
                                           "methods",     "sources",
                                           "seeds",       "samples_per_class",
                                           "dist",        "sigma",
                                           "selection",   "val_per_class",
                                           "ablation",    "metrics"};
// Keys people might reach for to give a location: refused with a pointer to the flags.
const std::vector<std::string> kPathKeys = {
    "root", "data_root", "data",  "out",       "output", "models",     "models_dir",
    "path", "dir",       "cache", "cache_dir", "file",   "weights_dir"};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

// Error prefix "<where>:<line>: ".
class Parser {
   public:
    explicit Parser(std::string where) : where_(std::move(where)) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& msg) const {
        const YAML::Mark m = at.Mark();
        if (m.line >= 0) OBL_THROW(where_, ":", m.line + 1, ": ", msg);
        OBL_THROW(where_, ": ", msg);
    }

    // The keys of a map node, checked against `valid` (unknown -> error listing them; duplicates
    // -> error). `what` names the map ("the experiment", "original", ...).
    std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& node,
                                                            const std::vector<std::string>& valid,
                                                            const std::string& what) const {
        if (!node.IsMap()) fail(node, what + " must be a map of key: value");
        std::vector<std::pair<std::string, YAML::Node>> out;
        std::set<std::string> seen;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (!it->first.IsScalar()) fail(it->first, "keys of " + what + " must be names");
            const std::string key = it->first.Scalar();
            if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
                if (std::find(kPathKeys.begin(), kPathKeys.end(), key) != kPathKeys.end())
                    fail(it->first, "'" + key + "': paths never go in an experiment file; pass " +
                                        "--root DIR (datasets), --models DIR (weights) or " +
                                        "--out DIR (results) to oblivio run");
                fail(it->first,
                     "unknown key '" + key + "' in " + what + "; valid keys: " + join(valid));
            }
            if (!seen.insert(key).second) fail(it->first, "key '" + key + "' given twice");
            out.push_back({key, it->second});
        }
        return out;
    }

    std::string scalar(const YAML::Node& n, const std::string& key) const {
        if (!n.IsScalar()) fail(n, "'" + key + "' must be a single value");
        return n.Scalar();
    }
    std::string text(const YAML::Node& n, const std::string& key) const {
        const std::string s = scalar(n, key);
        if (s.empty()) fail(n, "'" + key + "' must not be empty");
        return s;
    }
    // An integer in [lo, hi].
    int64_t integer(const YAML::Node& n, const std::string& key, int64_t lo,
                    int64_t hi = std::numeric_limits<int64_t>::max()) const {
        int64_t v = 0;
        if (!n.IsScalar() || !detail::parse_field(n.Scalar(), &v) || v < lo || v > hi)
            fail(n, "'" + key + "' must be an integer " +
                        (hi == std::numeric_limits<int64_t>::max()
                             ? ">= " + std::to_string(lo)
                             : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]") +
                        ", got '" + (n.IsScalar() ? n.Scalar() : std::string("a list or map")) +
                        "'");
        return v;
    }
    double real(const YAML::Node& n, const std::string& key) const {
        double v = 0;
        if (!n.IsScalar() || !detail::parse_field(n.Scalar(), &v) || !(v > 0))
            fail(n, "'" + key + "' must be a number > 0, got '" +
                        (n.IsScalar() ? n.Scalar() : std::string("a list or map")) + "'");
        return v;
    }
    std::vector<std::string> strings(const YAML::Node& n, const std::string& key) const {
        if (!n.IsSequence() || n.size() == 0) fail(n, "'" + key + "' must be a non-empty list");
        std::vector<std::string> out;
        for (const YAML::Node& item : n) {
            const std::string s = text(item, key + " item");
            if (std::find(out.begin(), out.end(), s) != out.end())
                fail(item, "'" + key + "' lists '" + s + "' twice");
            out.push_back(s);
        }
        return out;
    }
    std::vector<int64_t> integers(const YAML::Node& n, const std::string& key, int64_t lo,
                                  int64_t hi = std::numeric_limits<int64_t>::max()) const {
        if (!n.IsSequence() || n.size() == 0)
            fail(n, "'" + key + "' must be a non-empty list of integers");
        std::vector<int64_t> out;
        for (const YAML::Node& item : n) {
            const int64_t v = integer(item, key + " item", lo, hi);
            if (std::find(out.begin(), out.end(), v) != out.end())
                fail(item, "'" + key + "' lists " + std::to_string(v) + " twice");
            out.push_back(v);
        }
        return out;
    }
    // A bare file name: no directory part, nothing absolute, no '..'.
    std::string file_name(const YAML::Node& n, const std::string& key) const {
        const std::string s = text(n, key);
        if (s[0] == '/' || s[0] == '~' || s.find('/') != std::string::npos ||
            s.find('\\') != std::string::npos || s.find("..") != std::string::npos)
            fail(n, "'" + key + "' must be a bare file name, not a path ('" + s +
                        "'): model files are looked up in --models DIR and recipes in the " +
                        "recipes/ folder next to the experiment file");
        return s;
    }
    // key: value settings (values: scalars, or lists of scalars written "a,b").
    Overrides settings(const YAML::Node& n, const std::string& what) const {
        if (!n.IsMap()) fail(n, what + " must be a map of setting: value");
        Overrides out;
        std::set<std::string> seen;
        for (auto it = n.begin(); it != n.end(); ++it) {
            const std::string key = scalar(it->first, what + " key");
            if (!seen.insert(key).second) fail(it->first, "setting '" + key + "' given twice");
            std::string value;
            // A copy: `it->second` lives in a proxy that dies with the full expression, so a
            // range-for over it directly reads freed stack (ASan: stack-use-after-scope).
            const YAML::Node items = it->second;
            if (items.IsSequence()) {
                for (const YAML::Node& item : items)
                    value += (value.empty() ? "" : ",") + scalar(item, key);
            } else {
                value = scalar(it->second, key);
            }
            out.push_back({key, value});
        }
        return out;
    }
    // Runs `check` and turns an obl::Error into one located at `at`.
    template <class Fn>
    void located(const YAML::Node& at, Fn&& check) const {
        try {
            check();
        } catch (const Error& e) {
            fail(at, e.what());
        }
    }

   private:
    std::string where_;
};

ModelSpec parse_model(const Parser& p, const YAML::Node& n, const std::string& what) {
    ModelSpec m;
    const auto items = p.entries(n, {"weights", "recipe", "set", "init"}, what);
    const YAML::Node* set_node = nullptr;
    for (const auto& [key, value] : items) {
        if (key == "weights") m.weights = p.file_name(value, what + ".weights");
        if (key == "recipe") m.recipe = p.file_name(value, what + ".recipe");
        if (key == "init") m.init = p.file_name(value, what + ".init");
        if (key == "set") {
            m.set = p.settings(value, what + ".set");
            set_node = &value;
        }
    }
    if (m.weights.empty() == m.recipe.empty())
        p.fail(n, what + " needs exactly one of 'weights: FILE' and 'recipe: FILE'");
    if (!m.weights.empty() && (!m.set.empty() || !m.init.empty()))
        p.fail(n, what + ": 'set' and 'init' apply to a recipe only");
    if (set_node) {
        p.located(*set_node, [&] {
            TrainRecipe probe;
            for (const auto& [key, value] : m.set) {
                OBL_CHECK(key != "arch" && key != "dataset" && key != "exclude_classes", what,
                          ".set: '", key, "' is fixed by the experiment (arch, dataset, and the ",
                          "class set for oracles)");
                set_field(probe, what + " recipe", key, value);
            }
        });
    }
    return m;
}

MethodSpec parse_method(const Parser& p, const YAML::Node& n) {
    MethodSpec m;
    if (n.IsScalar()) {
        m.method = p.text(n, "methods item");
    } else {
        for (const auto& [key, value] : p.entries(n, {"method", "set"}, "a methods item")) {
            if (key == "method") m.method = p.text(value, "method");
            if (key == "set") m.set = p.settings(value, "method settings");
        }
        if (m.method.empty()) p.fail(n, "a methods item needs 'method: NAME'");
    }
    p.located(n, [&] { find_method(m.method).resolve(m.set); });
    return m;
}

ClassesSpec parse_classes(const Parser& p, const YAML::Node& n) {
    ClassesSpec c;
    if (n.IsScalar()) {
        if (n.Scalar() != "all")
            p.fail(n, "'classes' must be a list of class lists ([[3], [5]]), 'all', or " +
                          std::string("{multi: [2, 5], permutation_seed: 0}"));
        c.kind = ClassesSpec::Kind::All;
        return c;
    }
    if (n.IsMap()) {
        c.kind = ClassesSpec::Kind::Multi;
        bool have_k = false;
        for (const auto& [key, value] : p.entries(n, {"multi", "permutation_seed"}, "classes")) {
            if (key == "multi") {
                for (int64_t k : p.integers(value, "classes.multi", 1, kMaxClasses))
                    c.multi_k.push_back(static_cast<int>(k));
                have_k = true;
            }
            if (key == "permutation_seed")
                c.permutation_seed = p.integer(value, "classes.permutation_seed", 0);
        }
        if (!have_k) p.fail(n, "classes: a map needs 'multi: [k, ...]'");
        return c;
    }
    if (!n.IsSequence() || n.size() == 0) p.fail(n, "'classes' must be a non-empty list");
    for (const YAML::Node& set : n) {
        if (!set.IsSequence())
            p.fail(set, "'classes' items must be lists: write [[3], [5]] for two single-class " +
                            std::string("runs or [[3, 5]] for one run forgetting 3 and 5"));
        std::vector<int> s;
        for (int64_t v : p.integers(set, "classes item", 0, kMaxClasses - 1))
            s.push_back(static_cast<int>(v));
        if (std::find(c.sets.begin(), c.sets.end(), s) != c.sets.end())
            p.fail(set, "'classes' lists the same class set twice");
        c.sets.push_back(s);
    }
    return c;
}

AblationSpec parse_ablation(const Parser& p, const YAML::Node& n) {
    AblationSpec a;
    const YAML::Node* values = nullptr;
    const auto items = p.entries(n, {"axis", "values"}, "ablation");
    for (const auto& [key, value] : items) {
        if (key == "axis") a.axis = p.text(value, "ablation.axis");
        if (key == "values") values = &value;
    }
    const auto& axes = experiment_axis_names();
    if (std::find(axes.begin(), axes.end(), a.axis) == axes.end())
        p.fail(n, "ablation.axis must be one of " + join(axes) + ", got '" + a.axis + "'");
    if (!values) p.fail(n, "ablation needs 'values: [...]'");
    if (a.axis == "samples_per_class") {
        for (int64_t v : p.integers(*values, "ablation.values", 1))
            a.values.push_back(detail::format_field(v));
    } else if (a.axis == "sigma") {
        if (!values->IsSequence() || values->size() == 0)
            p.fail(*values, "ablation.values must be a non-empty list");
        for (const YAML::Node& item : *values) {
            const std::string v = detail::format_field(p.real(item, "ablation.values item"));
            if (std::find(a.values.begin(), a.values.end(), v) != a.values.end())
                p.fail(item, "ablation.values lists " + v + " twice");
            a.values.push_back(v);
        }
    } else {  // dist
        for (const std::string& v : p.strings(*values, "ablation.values")) {
            p.located(*values, [&] {
                OBL_CHECK(parse_synth_distribution(v) != SynthDistribution::Matched,
                          "ablation over dist: 'matched' needs per-value statistics; use ",
                          "gaussian, uniform or laplace");
            });
            a.values.push_back(v);
        }
    }
    return a;
}

ExperimentConfig parse_root(const YAML::Node& root, const std::string& where) {
    const Parser p(where);
    ExperimentConfig cfg;
    std::set<std::string> given;
    for (const auto& [key, n] : p.entries(root, kTopKeys, "the experiment")) {
        given.insert(key);
        if (key == "name") {
            cfg.name = p.text(n, key);
            const bool ok =
                cfg.name[0] != '.' && std::all_of(cfg.name.begin(), cfg.name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                           c == '.';
                });
            if (!ok)
                p.fail(n, "'name' is the output folder name: letters, digits, '_', '-', '.' " +
                              std::string("only (not starting with '.'), got '") + cfg.name + "'");
        } else if (key == "table") {
            cfg.table = p.text(n, key);
        } else if (key == "arch") {
            cfg.arch = p.text(n, key);
            p.located(n, [&] { zoo_entry(cfg.arch); });
        } else if (key == "dataset") {
            cfg.datasets =
                n.IsSequence() ? p.strings(n, key) : std::vector<std::string>{p.text(n, key)};
            const auto& names = dataset_names();
            for (const std::string& d : cfg.datasets)
                if (std::find(names.begin(), names.end(), d) == names.end())
                    p.fail(n, "unknown dataset '" + d + "'; the datasets are: " + join(names) +
                                  " (its location is --root, never the YAML)");
            cfg.dataset = cfg.datasets.front();
        } else if (key == "num_classes") {
            cfg.num_classes = static_cast<int>(p.integer(n, key, 2, kMaxClasses));
        } else if (key == "input_size") {
            cfg.input_size = p.integer(n, key, 1);
        } else if (key == "original") {
            cfg.original = parse_model(p, n, "original");
        } else if (key == "oracle") {
            cfg.oracle = parse_model(p, n, "oracle");
            if (!cfg.oracle.weights.empty())
                p.fail(n, "oracle: one model per class set is trained, so it needs 'recipe: FILE'");
        } else if (key == "cuts") {
            cfg.cuts = p.strings(n, key);
        } else if (key == "classes") {
            cfg.classes = parse_classes(p, n);
        } else if (key == "methods") {
            cfg.methods.clear();
            if (n.IsScalar() && n.Scalar() == "all") {
                for (const MethodInfo& m : methods()) cfg.methods.push_back({m.name, {}});
            } else {
                if (!n.IsSequence() || n.size() == 0)
                    p.fail(n, "'methods' must be a non-empty list or 'all'");
                for (const YAML::Node& item : n) {
                    MethodSpec m = parse_method(p, item);
                    for (const MethodSpec& o : cfg.methods)
                        if (o.label() == m.label())
                            p.fail(item, "'methods' lists " + m.label() + " twice");
                    cfg.methods.push_back(m);
                }
            }
        } else if (key == "sources") {
            cfg.sources = p.strings(n, key);
            for (const std::string& s : cfg.sources) {
                const auto& valid = experiment_source_names();
                if (std::find(valid.begin(), valid.end(), s) == valid.end())
                    p.fail(n, "unknown source '" + s + "'; valid: " + join(valid));
            }
        } else if (key == "seeds") {
            cfg.seeds = p.integers(n, key, 0);
        } else if (key == "samples_per_class") {
            cfg.samples_per_class = p.integer(n, key, 1);
        } else if (key == "dist") {
            cfg.dist = p.text(n, key);
            p.located(n, [&] {
                OBL_CHECK(parse_synth_distribution(cfg.dist) != SynthDistribution::Matched,
                          "dist 'matched' needs per-value statistics; use gaussian, uniform or ",
                          "laplace");
            });
        } else if (key == "sigma") {
            cfg.sigma = p.real(n, key);
        } else if (key == "selection") {
            cfg.selection = p.settings(n, key);
            p.located(n, [&] {
                SelectionConfig probe;
                for (const auto& [k, v] : cfg.selection) set_field(probe, "selection", k, v);
            });
        } else if (key == "val_per_class") {
            cfg.val_per_class = p.integer(n, key, 0);
        } else if (key == "ablation") {
            cfg.ablation = parse_ablation(p, n);
        } else if (key == "metrics") {
            cfg.metrics = p.strings(n, key);
            for (const std::string& m : cfg.metrics) {
                const auto& valid = experiment_metric_names();
                if (std::find(valid.begin(), valid.end(), m) == valid.end())
                    p.fail(n, "unknown metric '" + m + "'; valid: " + join(valid));
            }
        }
    }
    for (const char* required : {"name", "arch", "dataset", "original", "classes", "methods"})
        if (!given.count(required))
            p.fail(root, std::string("missing required key '") + required + "'");
    if (cfg.table.empty()) cfg.table = cfg.name;
    if (cfg.ablation.axis == "samples_per_class" || cfg.ablation.axis == "dist" ||
        cfg.ablation.axis == "sigma") {
        if (std::find(cfg.sources.begin(), cfg.sources.end(), "synthetic") == cfg.sources.end())
            p.fail(root, "ablation over " + cfg.ablation.axis + " needs the synthetic source");
    }
    if (cfg.wants("js") && cfg.oracle.empty() && given.count("metrics"))
        p.fail(root, "metric 'js' (distance to the oracle) needs an 'oracle:' entry");
    if (cfg.oracle.empty() && !given.count("metrics"))
        cfg.metrics.erase(std::remove(cfg.metrics.begin(), cfg.metrics.end(), "js"),
                          cfg.metrics.end());
    if (cfg.datasets.size() > 1) {
        // One model per dataset: its file names must say which.
        for (const ModelSpec* m : {&cfg.original, &cfg.oracle})
            if (!m->empty() &&
                (m->weights + m->recipe).find(kDatasetPlaceholder) == std::string::npos)
                p.fail(root, "with several datasets, the original and oracle file names must " +
                                 std::string("contain {dataset} (one model per dataset), got '") +
                                 m->weights + m->recipe + "'");
    }
    // Class sets against each dataset's class count, when it is known now.
    for (const std::string& d : cfg.datasets) {
        const ExperimentConfig one = for_dataset(cfg, d);
        if (one.num_classes > 0 || one.dataset != "folder")
            p.located(root, [&] { expand_class_sets(one, config_num_classes(one)); });
    }
    return cfg;
}

}  // namespace

std::string ModelSpec::describe() const {
    if (!weights.empty()) return "weights " + weights;
    std::string s = "recipe " + recipe;
    for (const auto& [k, v] : set) s += " " + k + "=" + v;
    if (!init.empty()) s += " init " + init;
    return s;
}

std::string MethodSpec::label() const {
    if (set.empty()) return method;
    std::string s = method + "{";
    for (size_t i = 0; i < set.size(); ++i)
        s += (i ? "," : "") + set[i].first + "=" + set[i].second;
    return s + "}";
}

bool ExperimentConfig::wants(const std::string& metric) const {
    return std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
}

const std::vector<std::string>& experiment_metric_names() {
    static const std::vector<std::string> v = {"accuracy", "aus", "mia", "probe", "js"};
    return v;
}
const std::vector<std::string>& experiment_source_names() {
    static const std::vector<std::string> v = {"synthetic", "real"};
    return v;
}
const std::vector<std::string>& experiment_axis_names() {
    static const std::vector<std::string> v = {"samples_per_class", "dist", "sigma"};
    return v;
}

ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& where) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        OBL_THROW(where, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
    }
    if (!root.IsMap()) OBL_THROW(where, ": an experiment file must be a map of key: value");
    return parse_root(root, where);
}

ExperimentConfig load_experiment(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    OBL_CHECK(in.good(), "cannot read experiment file ", path);
    std::ostringstream text;
    text << in.rdbuf();
    ExperimentConfig cfg = parse_experiment(text.str(), path);
    cfg.file = path;
    return cfg;
}

int config_num_classes(const ExperimentConfig& cfg) {
    if (cfg.num_classes > 0) return cfg.num_classes;
    static const std::map<std::string, int> known = {
        {"cifar10", 10}, {"cifar100", 100}, {"tinyimagenet", 200}, {"fmnist", 10}, {"mnist", 10}};
    auto it = known.find(cfg.dataset);
    OBL_CHECK(it != known.end(), "dataset '", cfg.dataset, "' has no fixed class count: give ",
              "'num_classes:' in the experiment file");
    return it->second;
}

std::vector<ClassSet> expand_class_sets(const ExperimentConfig& cfg, int num_classes) {
    std::vector<ClassSet> out;
    auto check = [&](const std::vector<int>& s) {
        OBL_CHECK(!s.empty(), "classes: an empty class set");
        OBL_CHECK(static_cast<int>(s.size()) < num_classes, "classes: a set of ", s.size(),
                  " classes would forget all ", num_classes, " classes of ", cfg.dataset);
        for (int c : s)
            OBL_CHECK(c >= 0 && c < num_classes, "classes: class ", c, " outside [0, ", num_classes,
                      ") for ", cfg.dataset);
    };
    switch (cfg.classes.kind) {
        case ClassesSpec::Kind::List:
            for (const std::vector<int>& s : cfg.classes.sets) {
                check(s);
                out.push_back({s, {}});
            }
            break;
        case ClassesSpec::Kind::All:
            for (int c = 0; c < num_classes; ++c) out.push_back({{c}, {}});
            break;
        case ClassesSpec::Kind::Multi: {
            // One fixed permutation of the classes (Philox, keyed by the seed); set k = its
            // first k entries, so the sets are nested.
            const std::vector<int64_t> perm =
                shuffled(num_classes, static_cast<uint64_t>(cfg.classes.permutation_seed));
            for (int k : cfg.classes.multi_k) {
                OBL_CHECK(k >= 1, "classes.multi: k = ", k, " (at least 1)");
                OBL_CHECK(k < num_classes, "classes.multi: k = ", k, " would forget all ",
                          num_classes, " classes of ", cfg.dataset);
                std::vector<int> s(perm.begin(), perm.begin() + k);
                std::sort(s.begin(), s.end());
                check(s);
                out.push_back({s, {{"k", std::to_string(k)}}});
            }
            break;
        }
    }
    return out;
}

ExperimentConfig for_dataset(const ExperimentConfig& cfg, const std::string& dataset) {
    OBL_CHECK(std::find(cfg.datasets.begin(), cfg.datasets.end(), dataset) != cfg.datasets.end(),
              "experiment ", cfg.name, " has no dataset ", dataset);
    ExperimentConfig one = cfg;
    one.dataset = dataset;
    one.datasets = {dataset};
    auto fill = [&](std::string& name) {
        for (size_t at; (at = name.find(kDatasetPlaceholder)) != std::string::npos;)
            name.replace(at, std::string(kDatasetPlaceholder).size(), dataset);
    };
    for (ModelSpec* m : {&one.original, &one.oracle}) {
        fill(m->weights);
        fill(m->recipe);
        fill(m->init);
    }
    return one;
}

std::string recipes_dir(const ExperimentConfig& cfg) {
    if (cfg.file.empty()) return "recipes";
    return (std::filesystem::path(cfg.file).parent_path() / "recipes").string();
}

}  // namespace obl
