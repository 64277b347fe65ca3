// Experiment files (experiments/config.h): strict parsing, path rejection, class-set expansion,
// and every experiments/*.yaml in the repository loading cleanly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "experiments/config.h"
#include "kernels/common/check.h"
#include "unlearn/methods.h"

namespace obl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char* kValid = R"(
name: cifar10_resnet20
table: main
arch: cifar_resnet20
dataset: cifar10
original: {weights: resnet20.safetensors}
oracle: {recipe: cifar10_resnet20.yaml, set: {epochs: 10, milestones: [5, 8]}}
cuts: [pre_logits, last_block]
classes: [[3], [5, 7]]
methods: [neg_grad_plus, {method: scrub, set: {lr: 0.01}}]
sources: [synthetic, real]
seeds: [0, 1]
samples_per_class: 500
dist: laplace
sigma: 2
selection: {tau_f: 0.02, tau_r: 0.9}
val_per_class: 100
ablation: {axis: samples_per_class, values: [100, 1000]}
metrics: [accuracy, aus, js]
)";

// The error message of parsing `yaml` ("" when it parses).
std::string error_of(const std::string& yaml) {
    try {
        parse_experiment(yaml, "exp.yaml");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// kValid with one top-level line replaced (or added when `key` is not there).
std::string with(const std::string& key, const std::string& line) {
    std::string y = kValid;
    const size_t at = y.find("\n" + key + ":");
    if (at == std::string::npos) return y + line + "\n";
    const size_t end = y.find('\n', at + 1);
    return y.substr(0, at + 1) + line + y.substr(end);
}

TEST(ExperimentConfig, ParsesEveryField) {
    const ExperimentConfig c = parse_experiment(kValid, "exp.yaml");
    EXPECT_EQ(c.name, "cifar10_resnet20");
    EXPECT_EQ(c.table, "main");
    EXPECT_EQ(c.arch, "cifar_resnet20");
    EXPECT_EQ(c.dataset, "cifar10");
    EXPECT_EQ(c.original.weights, "resnet20.safetensors");
    EXPECT_TRUE(c.original.recipe.empty());
    EXPECT_EQ(c.oracle.recipe, "cifar10_resnet20.yaml");
    ASSERT_EQ(c.oracle.set.size(), 2u);
    EXPECT_EQ(c.oracle.set[0], (std::pair<std::string, std::string>{"epochs", "10"}));
    EXPECT_EQ(c.oracle.set[1], (std::pair<std::string, std::string>{"milestones", "5,8"}));
    EXPECT_EQ(c.cuts, (std::vector<std::string>{"pre_logits", "last_block"}));
    EXPECT_EQ(c.classes.kind, ClassesSpec::Kind::List);
    EXPECT_EQ(c.classes.sets, (std::vector<std::vector<int>>{{3}, {5, 7}}));
    ASSERT_EQ(c.methods.size(), 2u);
    EXPECT_EQ(c.methods[0].label(), "neg_grad_plus");
    EXPECT_EQ(c.methods[1].label(), "scrub{lr=0.01}");
    EXPECT_EQ(c.sources, (std::vector<std::string>{"synthetic", "real"}));
    EXPECT_EQ(c.seeds, (std::vector<int64_t>{0, 1}));
    EXPECT_EQ(c.samples_per_class, 500);
    EXPECT_EQ(c.dist, "laplace");
    EXPECT_EQ(c.sigma, 2.0);
    EXPECT_EQ(c.selection.size(), 2u);
    EXPECT_EQ(c.val_per_class, 100);
    EXPECT_EQ(c.ablation.axis, "samples_per_class");
    EXPECT_EQ(c.ablation.values, (std::vector<std::string>{"100", "1000"}));
    EXPECT_TRUE(c.wants("js"));
    EXPECT_FALSE(c.wants("mia"));
}

TEST(ExperimentConfig, DefaultsForOptionalKeys) {
    const ExperimentConfig c = parse_experiment(
        "name: x\narch: cifar_resnet20\ndataset: cifar10\noriginal: {weights: a.safetensors}\n"
        "classes: all\nmethods: all\n",
        "x.yaml");
    EXPECT_EQ(c.table, "x");
    EXPECT_EQ(c.cuts, (std::vector<std::string>{"pre_logits"}));
    EXPECT_EQ(c.sources, (std::vector<std::string>{"synthetic"}));
    EXPECT_EQ(c.seeds, (std::vector<int64_t>{0}));
    EXPECT_EQ(c.samples_per_class, 5000);
    EXPECT_EQ(c.input_size, 0);  // the zoo entry's
    EXPECT_EQ(
        parse_experiment(with("arch", "arch: cifar_resnet20\ninput_size: 64"), "x.yaml").input_size,
        64);
    EXPECT_EQ(c.methods.size(), methods().size());
    // No oracle: js is dropped from the default metric list.
    EXPECT_FALSE(c.wants("js"));
    EXPECT_TRUE(c.wants("probe"));
    EXPECT_EQ(expand_class_sets(c, 10).size(), 10u);
}

TEST(ExperimentConfig, UnknownKeyListsValidKeysAndFile) {
    const std::string e = error_of(std::string(kValid) + "epochs: 3\n");
    EXPECT_THAT(e, HasSubstr("exp.yaml:20"));
    EXPECT_THAT(e, HasSubstr("unknown key 'epochs'"));
    EXPECT_THAT(e, HasSubstr("valid keys: name, table, arch"));
    EXPECT_THAT(error_of(with("oracle", "oracle: {recipe: a.yaml, sett: {epochs: 1}}")),
                HasSubstr("unknown key 'sett' in oracle; valid keys: weights, recipe, set, init"));
    EXPECT_THAT(error_of(with("methods", "methods: [{method: scrub, lr: 0.1}]")),
                HasSubstr("unknown key 'lr'"));
    // Unknown settings are caught by the method / recipe / selection tables.
    EXPECT_THAT(error_of(with("methods", "methods: [{method: scrub, set: {lrr: 0.1}}]")),
                HasSubstr("no setting 'lrr'"));
    EXPECT_THAT(error_of(with("oracle", "oracle: {recipe: a.yaml, set: {epoch: 1}}")),
                HasSubstr("'epoch'"));
    EXPECT_THAT(error_of(with("selection", "selection: {tau: 0.1}")), HasSubstr("'tau'"));
    EXPECT_THAT(error_of(with("methods", "methods: [nope]")),
                HasSubstr("unknown unlearning method 'nope'"));
    EXPECT_THAT(error_of(std::string(kValid) + "seeds: [2]\n"), HasSubstr("given twice"));
}

TEST(ExperimentConfig, RejectsPaths) {
    for (const std::string bad :
         {"/etc/passwd", "../resnet20.safetensors", "models/resnet20.safetensors",
          "..\\x.safetensors", "~/x.safetensors", "a\\b"}) {
        const std::string e = error_of(with("original", "original: {weights: '" + bad + "'}"));
        EXPECT_THAT(e, HasSubstr("must be a bare file name, not a path")) << bad;
        EXPECT_THAT(e, HasSubstr("exp.yaml:6")) << bad;
    }
    EXPECT_THAT(error_of(with("oracle", "oracle: {recipe: ../../recipes/x.yaml}")),
                HasSubstr("bare file name"));
    EXPECT_THAT(error_of(with("oracle", "oracle: {recipe: x.yaml, init: /tmp/w.safetensors}")),
                HasSubstr("bare file name"));
    for (const std::string key : {"root", "out", "models", "data_root", "path"}) {
        const std::string e = error_of(std::string(kValid) + key + ": /data\n");
        EXPECT_THAT(e, HasSubstr("paths never go in an experiment file")) << key;
        EXPECT_THAT(e, HasSubstr("--root")) << key;
    }
    EXPECT_THAT(error_of(with("dataset", "dataset: /data/cifar10")),
                HasSubstr("unknown dataset '/data/cifar10'"));
    EXPECT_THAT(error_of(with("name", "name: ../evil")), HasSubstr("output folder name"));
    EXPECT_THAT(error_of(with("name", "name: a/b")), HasSubstr("output folder name"));
    // The recipe set may not redirect what the experiment fixes.
    EXPECT_THAT(error_of(with("oracle", "oracle: {recipe: a.yaml, set: {dataset: cifar100}}")),
                HasSubstr("fixed by the experiment"));
}

TEST(ExperimentConfig, RejectsWrongTypesAndValues) {
    EXPECT_THAT(error_of(with("seeds", "seeds: zero")),
                HasSubstr("'seeds' must be a non-empty list"));
    EXPECT_THAT(error_of(with("seeds", "seeds: [a]")),
                HasSubstr("must be an integer >= 0, got 'a'"));
    EXPECT_THAT(error_of(with("seeds", "seeds: [1, 1]")), HasSubstr("twice"));
    EXPECT_THAT(error_of(with("samples_per_class", "samples_per_class: -4")),
                HasSubstr("'samples_per_class' must be an integer >= 1, got '-4'"));
    EXPECT_THAT(error_of(with("samples_per_class", "samples_per_class: 2.5")),
                HasSubstr("integer"));
    EXPECT_THAT(error_of(with("sigma", "sigma: -1")), HasSubstr("'sigma' must be a number > 0"));
    EXPECT_THAT(error_of(with("arch", "arch: cifar_resnet20\ninput_size: 0")),
                HasSubstr("'input_size' must be an integer >= 1"));
    EXPECT_THAT(error_of(with("cuts", "cuts: pre_logits")), HasSubstr("non-empty list"));
    EXPECT_THAT(error_of(with("classes", "classes: [3, 5]")),
                HasSubstr("write [[3], [5]] for two single-class runs"));
    EXPECT_THAT(error_of(with("classes", "classes: [[10]]")),
                HasSubstr("class 10 outside [0, 10)"));
    EXPECT_THAT(error_of(with("classes", "classes: [[3], [3]]")),
                HasSubstr("same class set twice"));
    EXPECT_THAT(error_of(with("classes", "classes: some")), HasSubstr("'all'"));
    EXPECT_THAT(error_of(with("sources", "sources: [images]")),
                HasSubstr("unknown source 'images'"));
    EXPECT_THAT(error_of(with("metrics", "metrics: [accuracy, speed]")),
                HasSubstr("unknown metric 'speed'"));
    EXPECT_THAT(error_of(with("dist", "dist: cauchy")), HasSubstr("cauchy"));
    EXPECT_THAT(error_of(with("ablation", "ablation: {axis: lr, values: [1]}")),
                HasSubstr("ablation.axis must be one of samples_per_class, dist, sigma"));
    EXPECT_THAT(error_of(with("ablation", "ablation: {axis: dist, values: [gaussian, matched]}")),
                HasSubstr("matched"));
    EXPECT_THAT(error_of(with("arch", "arch: resnet9000")), HasSubstr("resnet9000"));
    EXPECT_THAT(error_of(with("original", "original: {weights: a.safetensors, recipe: b.yaml}")),
                HasSubstr("exactly one of"));
    EXPECT_THAT(error_of(with("oracle", "oracle: {weights: a.safetensors}")),
                HasSubstr("needs 'recipe: FILE'"));
    EXPECT_THAT(error_of(with("methods", "methods: [{method: scrub, set: {lr: -1}}]")),
                HasSubstr("lr"));
    EXPECT_THAT(error_of(with("oracle", "oracle: {recipe: a.yaml, set: {epochs: many}}")),
                HasSubstr("epochs"));
    EXPECT_THAT(error_of("name: x\narch: cifar_resnet20\n"), HasSubstr("missing required key"));
    EXPECT_THAT(error_of("[1, 2]"), HasSubstr("must be a map"));
    EXPECT_THAT(error_of("name: [unclosed"), HasSubstr("not valid YAML"));
    // js without an oracle, asked for explicitly.
    EXPECT_THAT(error_of("name: x\narch: cifar_resnet20\ndataset: cifar10\n"
                         "original: {weights: a.safetensors}\nclasses: all\nmethods: all\n"
                         "metrics: [js]\n"),
                HasSubstr("needs an 'oracle:' entry"));
}

// Found with fuzz/fuzz_experiment: class counts, ids and multi sizes were narrowed to int
// unchecked, so multi k = 4294967295 became -1 (std::length_error escaped the loader), class
// 4294967297 silently became class 1, and num_classes: 2147483647 made `classes: all` and multi
// allocate gigabytes.
TEST(ExperimentConfig, ClassCountsIdsAndSetSizesAreBounded) {
    EXPECT_THAT(error_of(with("classes", "classes: {multi: [4294967295]}")),
                HasSubstr("'classes.multi item' must be an integer in [1, 100000], got "
                          "'4294967295'"));
    EXPECT_THAT(error_of(with("classes", "classes: [[4294967297]]")),
                HasSubstr("must be an integer in [0, 99999], got '4294967297'"));
    EXPECT_THAT(error_of(with("classes", "classes: all\nnum_classes: 2147483647")),
                HasSubstr("'num_classes' must be an integer in [2, 100000], got '2147483647'"));
    // expand_class_sets checks the set sizes of configs built in code too.
    ExperimentConfig c = parse_experiment(kValid, "exp.yaml");
    c.classes.kind = ClassesSpec::Kind::Multi;
    c.classes.multi_k = {-1};
    std::string msg = "(no obl::Error)";
    try {
        expand_class_sets(c, 10);
    } catch (const Error& e) {
        msg = e.what();
    }
    EXPECT_THAT(msg, HasSubstr("classes.multi: k = -1 (at least 1)"));
}

TEST(ExperimentConfig, MultiClassSetsAreNestedAndFixed) {
    std::string y = with("classes", "classes: {multi: [2, 5, 10], permutation_seed: 0}");
    y.replace(y.find("dataset: cifar10"), 16, "dataset: cifar100");
    const ExperimentConfig c = parse_experiment(y, "exp.yaml");
    ASSERT_EQ(c.classes.kind, ClassesSpec::Kind::Multi);
    const std::vector<ClassSet> sets = expand_class_sets(c, 100);
    ASSERT_EQ(sets.size(), 3u);
    const size_t k[] = {2, 5, 10};
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(sets[i].classes.size(), k[i]);
        EXPECT_TRUE(std::is_sorted(sets[i].classes.begin(), sets[i].classes.end()));
        EXPECT_EQ(std::set<int>(sets[i].classes.begin(), sets[i].classes.end()).size(), k[i]);
        ASSERT_EQ(sets[i].axes.size(), 1u);
        EXPECT_EQ(sets[i].axes[0].first, "k");
        EXPECT_EQ(sets[i].axes[0].second, std::to_string(k[i]));
        for (int cl : sets[i].classes) EXPECT_TRUE(cl >= 0 && cl < 100);
    }
    for (int cl : sets[0].classes)  // nested: the k=2 set is inside the k=5 set
        EXPECT_NE(std::find(sets[1].classes.begin(), sets[1].classes.end(), cl),
                  sets[1].classes.end());
    // Fixed: the same seed gives the same sets, another seed other sets.
    EXPECT_EQ(expand_class_sets(c, 100)[2].classes, sets[2].classes);
    ExperimentConfig other = c;
    other.classes.permutation_seed = 1;
    EXPECT_NE(expand_class_sets(other, 100)[2].classes, sets[2].classes);
    EXPECT_THAT(error_of(with("classes", "classes: {multi: [10]}")), HasSubstr("all 10 classes"));
}

TEST(ExperimentConfig, DatasetListsUsePlaceholders) {
    const std::string y =
        "name: x\narch: resnet18\ndataset: [cifar10, cifar100]\n"
        "original: {weights: \"r18_{dataset}.safetensors\"}\n"
        "oracle: {recipe: \"{dataset}_r18.yaml\", init: r18_imagenet.safetensors}\n"
        "classes: [[0], [9]]\nmethods: [delete]\n";
    const ExperimentConfig c = parse_experiment(y, "x.yaml");
    EXPECT_EQ(c.datasets, (std::vector<std::string>{"cifar10", "cifar100"}));
    EXPECT_EQ(c.dataset, "cifar10");
    const ExperimentConfig one = for_dataset(c, "cifar100");
    EXPECT_EQ(one.dataset, "cifar100");
    EXPECT_EQ(one.datasets, (std::vector<std::string>{"cifar100"}));
    EXPECT_EQ(one.original.weights, "r18_cifar100.safetensors");
    EXPECT_EQ(one.oracle.recipe, "cifar100_r18.yaml");
    EXPECT_EQ(one.oracle.init, "r18_imagenet.safetensors");
    EXPECT_EQ(config_num_classes(one), 100);
    EXPECT_THROW(for_dataset(c, "mnist"), Error);
    // One weights file for several datasets cannot be right.
    std::string same = y;
    same.replace(same.find("r18_{dataset}"), 13, "r18");
    EXPECT_THAT(error_of(same), HasSubstr("must contain {dataset}"));
    // Classes are checked against every dataset's class count.
    std::string big = y;
    big.replace(big.find("[[0], [9]]"), 10, "[[0], [50]]");
    EXPECT_THAT(error_of(big), HasSubstr("class 50 outside [0, 10) for cifar10"));
}

// Every experiment file of the repository loads (and its rows expand: see test_runner.cpp).
TEST(ExperimentConfig, RepositoryFilesLoad) {
    const fs::path dir =
        fs::path(__FILE__).parent_path().parent_path().parent_path() / "experiments";
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".yaml") continue;
        ++n;
        ExperimentConfig c;
        ASSERT_NO_THROW(c = load_experiment(e.path().string())) << e.path();
        EXPECT_EQ(c.file, e.path().string());
        EXPECT_EQ(recipes_dir(c), (dir / "recipes").string());
        EXPECT_EQ(c.name, e.path().stem().string()) << "name should match the file name";
    }
    EXPECT_GE(n, 2) << "no experiment files found in " << dir;
}

}  // namespace
}  // namespace obl
