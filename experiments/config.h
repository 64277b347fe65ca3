// Experiment files (`oblivio run <experiment.yaml>`, experiments/runner.h): one YAML map per
// experiment, parsed strictly. The full schema with examples is experiments/README.md; in short:
//
//   name: cifar10_resnet20            # also the output folder <out>/<name>/ ([A-Za-z0-9_.-]+)
//   table: main                       # optional, default = name (ResultRow::table)
//   arch: cifar_resnet20              # a zoo entry (oblivio models)
//   dataset: cifar10                  # a catalog name (oblivio data), or a list of them:
//                                     #   [cifar10, cifar100]; then file names below hold
//                                     #   {dataset}, replaced by each name (one model per dataset)
//   num_classes: 10                   # optional: only for datasets the catalog cannot size
//                                     #   (at most 100000, also the bound of class ids)
//   input_size: 32                    # optional: images are resized to this (default: the zoo
//                                     #   entry's input size); must match how the original was
//                                     #   trained (checked for recipe-trained models)
//   original: {weights: resnet20.safetensors}   # a FILE NAME looked up in --models DIR, or
//             {recipe: fmnist_cnn.yaml, set: {epochs: 3}, init: FILE}   trained by oblivio train
//                                     #   (arch, dataset: the experiment's), cached under --out
//   oracle: {recipe: cifar10_resnet20.yaml, set: {epochs: 10}}   # optional; retrained without
//                                     #   each class set (exclude_classes), cached
//   cuts: [pre_logits, last_block]
//   classes: [[3], [5]]    |  classes: all   (each class alone)
//          | classes: {multi: [2, 5, 10], permutation_seed: 0}  (the first k of a fixed
//                                     #   permutation of the classes, for each k; axis k=...)
//   methods: [neg_grad_plus, {method: scrub, set: {lr: 0.01}}]  |  methods: all
//   sources: [synthetic, real]        # default [synthetic]
//   seeds: [0]                        # default [0]
//   samples_per_class: 5000           # synthetic draws per class (default 5000)
//   dist: gaussian                    # gaussian | uniform | laplace | matched | rectified
//   sigma: 1.0                        # std of the draws (default 1)
//   selection: {tau_r: 0.85}          # data-free selection rule settings (unlearn/selection.h)
//   val_per_class: 0                  # declared validation split removed from train (default 0)
//   ablation: {axis: samples_per_class, values: [100, 500]}   # or axis dist / sigma
//   metrics: [accuracy, aus, mia, probe, js]                  # default: all five
//
// Strictness: an unknown key anywhere is an obl::Error naming the file, the line and every valid
// key; a wrong type names the key and what was expected. Paths never come from an experiment file
// (--root, --models and --out are command-line flags): a key like `root`, `out` or `path` gets an
// error saying so, and every file reference (weights, recipe, init) must be a bare file name — an
// absolute path, '..', '/' or '\' is rejected. Recipes are looked up in the `recipes/` folder next
// to the experiment file (experiments/recipes/ in the repository), model files in --models DIR.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "unlearn/method.h"

namespace obl {

// Where a model comes from: a weights file (--models DIR) or a training recipe (oblivio train).
struct ModelSpec {
    std::string weights;  // file name in --models DIR
    std::string recipe;   // file name in the recipes folder
    Overrides set;        // recipe overrides (TrainRecipe fields), in file order
    std::string init;     // recipe only: starting weights, a file name in --models DIR ("" = none)

    bool empty() const { return weights.empty() && recipe.empty(); }
    std::string describe() const;  // "weights resnet20.safetensors" / "recipe x.yaml epochs=3"
};

struct MethodSpec {
    std::string method;  // a methods() name
    Overrides set;       // method settings, in file order
    // "neg_grad_plus", or "scrub{lr=0.01}" when settings are given: unique within an experiment.
    std::string label() const;
};

struct ClassesSpec {
    enum class Kind { List, All, Multi };
    Kind kind = Kind::List;
    std::vector<std::vector<int>> sets;  // List: the class sets as written
    std::vector<int> multi_k;            // Multi: the set sizes
    int64_t permutation_seed = 0;        // Multi: seed of the fixed class permutation
};

struct AblationSpec {
    std::string axis;                 // "" (none) | samples_per_class | dist | sigma
    std::vector<std::string> values;  // canonical text of each value, in file order
};

struct ExperimentConfig {
    std::string file;  // the YAML file (for messages and the recipes folder); "" when parsed text
    std::string name, table, arch;
    std::string dataset;                // the dataset (the first of `datasets` until for_dataset)
    std::vector<std::string> datasets;  // every dataset of the experiment, in file order
    int num_classes = 0;                // 0: from the catalog (config_num_classes below)
    int64_t input_size = 0;             // 0: the zoo entry's input size
    ModelSpec original, oracle;
    std::vector<std::string> cuts{"pre_logits"};
    ClassesSpec classes;
    std::vector<MethodSpec> methods;
    std::vector<std::string> sources{"synthetic"};
    std::vector<int64_t> seeds{0};
    int64_t samples_per_class = 5000;
    std::string dist = "gaussian";
    double sigma = 1.0;
    Overrides selection;
    int64_t val_per_class = 0;
    AblationSpec ablation;
    std::vector<std::string> metrics{"accuracy", "aus", "mia", "probe", "js"};

    bool wants(const std::string& metric) const;
};

// The valid metric names, sources and ablation axes (for messages and the README).
const std::vector<std::string>& experiment_metric_names();
const std::vector<std::string>& experiment_source_names();
const std::vector<std::string>& experiment_axis_names();

// Reads and validates an experiment file (see the top of this file).
ExperimentConfig load_experiment(const std::string& path);
// The same from YAML text; `where` names it in errors (the file name for load_experiment).
ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& where);

// The class count of the experiment's dataset: num_classes when given, else the catalog's count
// for cifar10 / cifar100 / tinyimagenet / fmnist / mnist. Throws for a dataset of unknown size.
int config_num_classes(const ExperimentConfig& cfg);

// The class sets the experiment forgets, in order, with the axis value of each (k for multi,
// empty otherwise). Throws when a class is outside [0, num_classes) or a set is empty, repeated,
// or holds every class.
struct ClassSet {
    std::vector<int> classes;
    std::vector<std::pair<std::string, std::string>> axes;  // {"k", "5"} for multi
};
std::vector<ClassSet> expand_class_sets(const ExperimentConfig& cfg, int num_classes);

// The experiment restricted to one of its datasets: dataset = datasets = {dataset}, and
// "{dataset}" in the original/oracle file names replaced by it.
ExperimentConfig for_dataset(const ExperimentConfig& cfg, const std::string& dataset);

// The folder recipes resolve in: <directory of cfg.file>/recipes (or "recipes" for parsed text).
std::string recipes_dir(const ExperimentConfig& cfg);

}  // namespace obl
