// The experiment runner (experiments/runner.h): row expansion and stable ids, --only filters,
// a tiny end-to-end run whose metrics are checked against direct computation, and resumption
// after a real SIGKILL at random points (child processes), after an in-process stop, and after a
// torn last line.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "data/transforms.h"
#include "experiments/config.h"
#include "experiments/results.h"
#include "experiments/runner.h"
#include "kernels/common/check.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "nn/ops.h"
#include "tests/data/data_test_util.h"
#include "unlearn/metrics.h"

namespace obl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// ---- row expansion ------------------------------------------------------------------------------

const char* kSweep = R"(
name: sweep
arch: cifar_resnet20
dataset: cifar10
original: {weights: resnet20.safetensors}
oracle: {recipe: cifar10_resnet20.yaml}
cuts: [pre_logits, last_block]
classes: [[3], [5, 7]]
methods: [neg_grad_plus, {method: scrub, set: {lr: 0.01}}]
sources: [synthetic, real]
seeds: [0, 1]
ablation: {axis: samples_per_class, values: [100, 1000]}
)";

std::string replace_line(std::string y, const std::string& key, const std::string& line) {
    const size_t at = y.find("\n" + key + ":");
    const size_t end = y.find('\n', at + 1);
    return y.substr(0, at + 1) + line + y.substr(end);
}

std::set<std::string> ids_of(const std::vector<RowSpec>& rows) {
    std::set<std::string> s;
    for (const RowSpec& r : rows) s.insert(r.row_id);
    return s;
}

TEST(RunnerRows, CountsOrderAndUniqueIds) {
    const std::vector<RowSpec> rows = expand_rows(parse_experiment(kSweep, "sweep.yaml"));
    // Per class set: original + oracle + cuts 2 x methods 2 x (synthetic: seeds 2 x values 2 +
    // real: seeds 2) = 2 + 24; two class sets.
    ASSERT_EQ(rows.size(), 52u);
    EXPECT_EQ(ids_of(rows).size(), rows.size());
    EXPECT_EQ(rows[0].kind, "original");
    EXPECT_EQ(rows[1].kind, "oracle");
    EXPECT_EQ(rows[2].kind, "unlearn");
    EXPECT_EQ(rows[26].kind, "original");
    EXPECT_EQ(rows[26].classes, (std::vector<int>{5, 7}));
    int real = 0, axis = 0;
    for (const RowSpec& r : rows) {
        if (r.source == "real") {
            ++real;
            EXPECT_TRUE(r.axes.empty()) << "real rows have no sampler axis: " << r.row_id;
        }
        if (!r.axes.empty()) {
            ++axis;
            EXPECT_EQ(r.axes[0].first, "samples_per_class");
            EXPECT_EQ(std::to_string(r.samples_per_class), r.axes[0].second);
        }
    }
    EXPECT_EQ(real, 16);
    EXPECT_EQ(axis, 32);
    EXPECT_EQ(rows[2].row_id.substr(0, rows[2].row_id.find('#')),
              "cifar10/unlearn/neg_grad_plus/synthetic/pre_logits/c3/s0/samples_per_class=100");
    EXPECT_THAT(rows[26].row_id, HasSubstr("cifar10/original/c5-7#"));
}

TEST(RunnerRows, IdsAreStableAndFollowTheDefinition) {
    const ExperimentConfig base = parse_experiment(kSweep, "sweep.yaml");
    const std::set<std::string> ids = ids_of(expand_rows(base));
    EXPECT_EQ(ids_of(expand_rows(parse_experiment(kSweep, "other_file.yaml"))), ids);

    // Extending a list keeps every existing id (a grown sweep resumes).
    const std::set<std::string> more = ids_of(expand_rows(
        parse_experiment(replace_line(kSweep, "seeds", "seeds: [0, 1, 2]"), "sweep.yaml")));
    EXPECT_EQ(more.size(), 52u + 2 * 2 * 2 * 3);
    EXPECT_TRUE(std::includes(more.begin(), more.end(), ids.begin(), ids.end()));

    // A changed method setting changes that method's unlearn rows only.
    const std::vector<RowSpec> changed = expand_rows(
        parse_experiment(replace_line(kSweep, "methods",
                                      "methods: [neg_grad_plus, {method: scrub, set: {lr: 0.02}}]"),
                         "sweep.yaml"));
    int differ = 0;
    for (const RowSpec& r : changed) differ += !ids.count(r.row_id);
    EXPECT_EQ(differ, 2 * 2 * 6);

    // Another original model changes every id; another base sample count none of these (every
    // synthetic row carries its ablation value) ...
    const std::set<std::string> w = ids_of(expand_rows(parse_experiment(
        replace_line(kSweep, "original", "original: {weights: other.safetensors}"), "s.yaml")));
    std::vector<std::string> common;
    std::set_intersection(w.begin(), w.end(), ids.begin(), ids.end(), std::back_inserter(common));
    EXPECT_TRUE(common.empty());
    EXPECT_EQ(ids_of(expand_rows(
                  parse_experiment(std::string(kSweep) + "samples_per_class: 7\n", "s.yaml"))),
              ids);
    // ... while the selection rule is part of every unlearn row.
    const std::set<std::string> sel = ids_of(
        expand_rows(parse_experiment(std::string(kSweep) + "selection: {tau_r: 0.8}\n", "s.yaml")));
    std::vector<std::string> kept;
    std::set_intersection(sel.begin(), sel.end(), ids.begin(), ids.end(), std::back_inserter(kept));
    EXPECT_EQ(kept.size(), 4u);  // original and oracle rows
}

TEST(RunnerRows, AllAndMultiExpansion) {
    ExperimentConfig c =
        parse_experiment(replace_line(kSweep, "classes", "classes: all"), "s.yaml");
    c.ablation = {};
    c.cuts = {"pre_logits"};
    c.seeds = {0};
    c.sources = {"synthetic"};
    EXPECT_EQ(expand_rows(c).size(), 10u * (2 + 2));
    c = parse_experiment(replace_line(kSweep, "classes", "classes: {multi: [2, 5]}"), "s.yaml");
    const std::vector<RowSpec> rows = expand_rows(c);
    EXPECT_EQ(rows.size(), 52u);
    EXPECT_EQ(rows[0].axes, (std::vector<std::pair<std::string, std::string>>{{"k", "2"}}));
    EXPECT_EQ(rows[2].axes.size(), 2u);  // k and samples_per_class
    EXPECT_EQ(rows[0].classes.size(), 2u);
    EXPECT_EQ(rows[26].classes.size(), 5u);
}

TEST(RunnerRows, OnlyFilters) {
    const std::vector<RowSpec> rows = expand_rows(parse_experiment(kSweep, "sweep.yaml"));
    EXPECT_EQ(filter_rows(rows, {}).size(), 52u);
    EXPECT_EQ(filter_rows(rows, {{"method", "neg_grad_plus"}}).size(), 24u);
    EXPECT_EQ(filter_rows(rows, {{"method", "scrub"}}).size(), 24u);  // name or label
    EXPECT_EQ(filter_rows(rows, {{"method", "scrub{lr=0.01}"}}).size(), 24u);
    EXPECT_EQ(filter_rows(rows, {{"method", "neg_grad_plus"},
                                 {"cut", "pre_logits"},
                                 {"classes", "3"},
                                 {"source", "synthetic"},
                                 {"seed", "0"}})
                  .size(),
              2u);
    EXPECT_EQ(filter_rows(rows, {{"kind", "original"}, {"kind", "oracle"}}).size(), 4u);
    EXPECT_EQ(filter_rows(rows, {{"classes", "5,7"}}).size(), 26u);
    EXPECT_EQ(filter_rows(rows, {{"samples_per_class", "1000"}}).size(), 16u);
    try {
        filter_rows(rows, {{"methods", "x"}});
        FAIL() << "unknown --only key must throw";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(),
                    HasSubstr("unknown key 'methods'; valid keys: dataset, kind, method"));
    }
}

// ---- a tiny end-to-end setup --------------------------------------------------------------------

// CIFAR-shaped images with 10 classes, `per_class` of each: a colour per class plus noise.
std::shared_ptr<const Dataset> tiny_images(int per_class, uint64_t seed) {
    std::mt19937_64 rng(seed);
    const int64_t n = 10 * per_class, plane = 32 * 32;
    std::vector<uint8_t> px(static_cast<size_t>(n * 3 * plane));
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        y[static_cast<size_t>(i)] = i % 10;
        for (int64_t c = 0; c < 3; ++c) {
            const int base = static_cast<int>((i % 10) * (53 + 44 * c) % 256);
            for (int64_t p = 0; p < plane; ++p) {
                const int v = base + static_cast<int>(rng() % 97) - 48;
                px[static_cast<size_t>((i * 3 + c) * plane + p)] =
                    static_cast<uint8_t>(std::clamp(v, 0, 255));
            }
        }
    }
    return std::make_shared<TensorDataset>(Tensor::from_vector(px, Shape{n, 3, 32, 32}),
                                           Tensor::from_vector(y, Shape{n}), 10);
}

const char* kTiny = R"(
name: tiny
arch: cifar_resnet20
dataset: cifar10
original: {weights: tiny_r20.safetensors}
oracle: {recipe: injected.yaml}
cuts: [pre_logits]
classes: [[3], [5]]
methods: [{method: neg_grad_plus, set: {epochs: 3}}, {method: random_labels, set: {epochs: 2}}]
sources: [synthetic, real]
seeds: [0, 1]
samples_per_class: 30
selection: {per_class: 20}
)";
constexpr int kTinyRows = 20;  // 2 sets x (original + oracle + 2 methods x 2 sources x 2 seeds)

// Where the tiny model's final layer is centred: on the penultimate features of the training
// images (predictions on real data spread over the classes), or on those of Gaussian draws at
// last_block (the synthetic sampler there hits every class without its slow targeted phase).
enum class Centre { RealImages, GaussianLastBlock };

// Normalised float images (N, 3, 32, 32) of a u8 dataset.
Tensor normalised(const Dataset& images) {
    const ZooEntry& e = zoo_entry("cifar_resnet20");
    std::vector<int64_t> idx(static_cast<size_t>(images.size()));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    const Batch b = images.batch(idx);
    const std::vector<uint8_t> px = b.x.to_vector<uint8_t>();
    std::vector<float> x(px.size());
    const size_t plane = 32 * 32;
    for (size_t i = 0; i < px.size(); ++i) {
        const size_t c = (i / plane) % 3;
        x[i] = (px[i] / 255.f - e.mean[c]) / e.std[c];
    }
    return Tensor::from_vector(x, b.x.shape());
}

// A random ResNet-20 made usable for fast tests: BatchNorm statistics calibrated on the tiny
// training images (train-mode passes), then the final layer centred and scaled so that its
// predictions spread over the classes (see Centre).
std::shared_ptr<Classifier> tiny_model(Centre centre) {
    std::shared_ptr<Classifier> m = make_model("cifar_resnet20", 10);
    const Tensor x = normalised(*tiny_images(8, 1));
    NoGradGuard no_grad;
    m->train(true);
    for (int pass = 0; pass < 5; ++pass) m->forward(x.slice0(pass * 16 % 64, pass * 16 % 64 + 16));
    m->train(false);
    // Penultimate features (input of the final `linear` stage).
    Tensor f;
    if (centre == Centre::RealImages) {
        f = x;
        for (size_t s = 0; s + 1 < m->stages().size(); ++s) f = m->stages()[s].module->forward(f);
    } else {
        std::mt19937_64 rng(7);
        std::normal_distribution<float> normal;
        std::vector<float> z(static_cast<size_t>(400 * 64 * 8 * 8));
        for (float& v : z) v = normal(rng);
        f = Tensor::from_vector(z, Shape{400, 64, 8, 8});
        const size_t first = m->resolve("last_block");
        for (size_t s = first; s + 1 < m->stages().size(); ++s)
            f = m->stages()[s].module->forward(f);
    }
    const std::vector<float> fv = f.to_vector<float>();
    const int64_t n = f.size(0), d = f.size(1);
    Tensor w, b;
    for (auto& [name, t] : m->named_parameters()) {
        if (name == "linear.weight") w = t;
        if (name == "linear.bias") b = t;
    }
    float* wp = w.f32();
    float* bp = b.f32();
    auto at = [&](int64_t i, int64_t j) {
        return static_cast<double>(fv[static_cast<size_t>(i * d + j)]);
    };
    if (centre == Centre::RealImages) {
        // Nearest class mean as a linear layer: logit_k = s (mu_k . f - |mu_k|^2 / 2), with s
        // making the mean logit gap between two class means 8 (labels are i % 10).
        std::vector<double> mu(static_cast<size_t>(10 * d), 0.0);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < d; ++j)
                mu[static_cast<size_t>((i % 10) * d + j)] += at(i, j) / static_cast<double>(n / 10);
        double gap = 0;
        for (int64_t k = 0; k < 10; ++k)
            for (int64_t l = 0; l < k; ++l)
                for (int64_t j = 0; j < d; ++j) {
                    const double e =
                        mu[static_cast<size_t>(k * d + j)] - mu[static_cast<size_t>(l * d + j)];
                    gap += 0.5 * e * e / 45.0;
                }
        const double scale = 8.0 / gap;
        for (int64_t k = 0; k < 10; ++k) {
            double norm = 0;
            for (int64_t j = 0; j < d; ++j) {
                const double v = mu[static_cast<size_t>(k * d + j)];
                wp[k * d + j] = static_cast<float>(scale * v);
                norm += v * v;
            }
            bp[k] = static_cast<float>(-0.5 * scale * norm);
        }
    } else {
        // Random directions scaled to the spread of the features, centred on their mean.
        std::vector<double> mean(static_cast<size_t>(d), 0.0), sq(static_cast<size_t>(d), 0.0);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < d; ++j) {
                mean[static_cast<size_t>(j)] += at(i, j) / n;
                sq[static_cast<size_t>(j)] += at(i, j) * at(i, j) / n;
            }
        double spread = 0;
        for (int64_t j = 0; j < d; ++j) {
            const double m2 = mean[static_cast<size_t>(j)];
            spread += std::sqrt(std::max(1e-12, sq[static_cast<size_t>(j)] - m2 * m2)) / d;
        }
        for (int64_t i = 0; i < w.numel(); ++i) wp[i] = static_cast<float>(wp[i] * 3.0 / spread);
        for (int64_t k = 0; k < 10; ++k) {
            double acc = 0;
            for (int64_t j = 0; j < d; ++j) acc += wp[k * d + j] * mean[static_cast<size_t>(j)];
            bp[k] = static_cast<float>(-acc);
        }
    }
    return m;
}

// Everything a run of kTiny needs, rooted in `dir` (models/, out/).
struct TinySetup {
    std::string dir;
    ExperimentConfig cfg = parse_experiment(kTiny, "tiny.yaml");
    RunOptions options(std::vector<std::string>* log = nullptr) const {
        RunOptions o;
        o.models_dir = dir + "/models";
        o.out_dir = dir + "/out";
        o.log = [log](const std::string& line) {
            if (log) log->push_back(line);
        };
        o.open_data = [](const std::string&, DataSplit split) {
            return split == DataSplit::Train ? tiny_images(8, 1) : tiny_images(6, 2);
        };
        // The "oracle" of a class set: the original with those classes' logits pushed down.
        const std::string model_file = o.models_dir + "/tiny_r20.safetensors";
        o.make_oracle = [model_file](const std::vector<int>& classes) {
            std::shared_ptr<Classifier> m = load_zoo_model(model_file, "cifar_resnet20").model;
            for (auto& [name, t] : m->named_parameters())
                if (name == "linear.bias")
                    for (int c : classes) t.f32()[c] -= 3.f;
            return m;
        };
        return o;
    }
    std::string results() const { return dir + "/out/tiny/results.jsonl"; }
    void write_model(Centre centre = Centre::RealImages) const {
        fs::create_directories(dir + "/models");
        static std::map<Centre, std::shared_ptr<Classifier>> made;  // built once per process
        if (!made.count(centre)) made[centre] = tiny_model(centre);
        made[centre]->save_safetensors(dir + "/models/tiny_r20.safetensors",
                                       {{"arch", "cifar_resnet20"}, {"num_classes", "10"}});
    }
};

// Top-1 predictions of the full model on normalised images (the direct path, not the runner's).
std::vector<int64_t> direct_predictions(Classifier& model, const Dataset& images) {
    model.train(false);
    NoGradGuard g;
    return argmax(model.forward(normalised(images)), 1).to_vector<int64_t>();
}

void expect_complete(const std::string& path, const std::set<std::string>& want) {
    const ResultsFile f(path);  // parses every line; throws on a torn complete line or duplicate
    std::multiset<std::string> got;
    for (const ResultRow& r : f.rows()) got.insert(r.row_id);
    EXPECT_EQ(got.size(), want.size());
    for (const std::string& id : want) EXPECT_EQ(got.count(id), 1u) << id;
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text.back(), '\n') << "no torn tail left";
}

TEST(RunnerRun, TinyRunMeasuresAndResumes) {
    test::TempDir dir("runner_tiny");
    TinySetup s{dir.path()};
    s.write_model();
    std::vector<std::string> log;
    RunOptions opt = s.options(&log);

    // Dry run: lists the rows, writes nothing.
    opt.dry_run = true;
    RunSummary d = run_experiment(s.cfg, opt);
    EXPECT_EQ(d.rows, kTinyRows);
    EXPECT_EQ(d.skipped, 0);
    EXPECT_FALSE(fs::exists(s.results()));
    EXPECT_THAT(log.back(), HasSubstr("20/20 todo  unlearn random_labels{epochs=2} real"));

    // Stop after 3 rows, then finish.
    opt.dry_run = false;
    opt.stop_after_rows = 3;
    RunSummary a = run_experiment(s.cfg, opt);
    EXPECT_TRUE(a.stopped);
    EXPECT_EQ(a.ran, 3);
    EXPECT_EQ(a.failed, 0);
    opt.stop_after_rows = -1;
    log.clear();
    RunSummary b = run_experiment(s.cfg, opt);
    EXPECT_EQ(b.skipped, 3);
    EXPECT_EQ(b.ran, kTinyRows - 3);
    EXPECT_EQ(b.failed, 0) << ::testing::PrintToString(log);
    EXPECT_THAT(log.back(), HasSubstr("[20/20]"));
    EXPECT_THAT(log.back(), HasSubstr("ETA"));
    const std::set<std::string> want = ids_of(expand_rows(s.cfg));
    expect_complete(s.results(), want);
    // A third run has nothing to do.
    RunSummary c = run_experiment(s.cfg, opt);
    EXPECT_EQ(c.ran, 0);
    EXPECT_EQ(c.skipped, kTinyRows);

    // Embedding cache: the original's train/test at its last stage (= pre_logits), and each
    // oracle's.
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path() + "/out/cache/embeddings"))
        files += e.path().extension() == ".safetensors";
    EXPECT_EQ(files, 2 + 2 * 2);

    // Values: the original row against a direct forward pass over the images.
    const ResultsFile f(s.results());
    std::map<std::string, const ResultRow*> by_kind;
    for (const ResultRow& r : f.rows())
        if (r.classes == std::vector<int>{3})
            by_kind[r.kind + "/" + r.source + "/" + r.method] = &r;
    const ResultRow& orig = *by_kind.at("original//");
    std::shared_ptr<Classifier> model =
        load_zoo_model(dir.path() + "/models/tiny_r20.safetensors", "cifar_resnet20").model;
    auto test = tiny_images(6, 2);
    const std::vector<int64_t> pred = direct_predictions(*model, *test);
    int64_t fc = 0, fn = 0, rc = 0, rn = 0;
    for (int64_t i = 0; i < test->size(); ++i) {
        const bool forget = test->label(i) == 3;
        (forget ? fc : rc) += pred[static_cast<size_t>(i)] == test->label(i);
        (forget ? fn : rn) += 1;
    }
    EXPECT_DOUBLE_EQ(orig.metrics.at("A_f_test"), static_cast<double>(fc) / fn);
    EXPECT_DOUBLE_EQ(orig.metrics.at("A_r_test"), static_cast<double>(rc) / rn);
    EXPECT_DOUBLE_EQ(orig.metrics.at("AUS"), 1.0 / (1.0 + orig.metrics.at("A_f_test")));
    for (const char* k : {"A_r_train", "A_f_train", "MIA_I", "MIA_II_mean", "MIA_II_std",
                          "probe_forget", "JS_oracle"})
        EXPECT_TRUE(orig.metrics.count(k)) << k;
    EXPECT_GT(orig.metrics.at("JS_oracle"), 0.0);
    EXPECT_EQ(orig.config_hash.size(), 16u);

    const ResultRow& oracle = *by_kind.at("oracle//");
    EXPECT_FALSE(oracle.metrics.count("JS_oracle"));
    EXPECT_TRUE(oracle.metrics.count("probe_forget"));
    // Its forget logit is pushed down by 3: forget accuracy cannot rise.
    EXPECT_LE(oracle.metrics.at("A_f_test"), orig.metrics.at("A_f_test"));

    for (const std::string source : {"synthetic", "real"}) {
        const ResultRow& u = *by_kind.at("unlearn/" + source + "/neg_grad_plus{epochs=3}");
        EXPECT_EQ(u.cut, "pre_logits");
        EXPECT_FALSE(u.stop_reason.empty());
        EXPECT_FALSE(u.curve.empty());
        for (const CurvePoint& p : u.curve) {
            EXPECT_GE(p.real_forget, 0.0);
            EXPECT_LE(p.real_forget, 1.0);
        }
        for (const char* k : {"sampling_s", "training_s", "selection_s", "total_s"})
            EXPECT_TRUE(u.timing.count(k)) << k;
        EXPECT_GE(u.timing.at("total_s"), u.timing.at("training_s"));
        for (const char* k : {"A_r_test", "A_f_test", "A_r_train", "A_f_train", "AUS", "MIA_I",
                              "MIA_II_mean", "JS_oracle"})
            EXPECT_TRUE(u.metrics.count(k)) << source << " " << k;
        // pre_logits: the head is one stage, the cut's features are the original's (probe is
        // reported on the original row).
        EXPECT_FALSE(u.metrics.count("probe_forget"));
        // AUS from the row's own accuracies and the original's A_r.
        EXPECT_DOUBLE_EQ(
            u.metrics.at("AUS"),
            aus(orig.metrics.at("A_r_test"), u.metrics.at("A_r_test"), u.metrics.at("A_f_test")));
        bool has_sampler = false;
        for (const auto& [k, v] : u.config)
            if (k == "sampler.per_class") has_sampler = v == "30";
        EXPECT_EQ(has_sampler, source == "synthetic");
    }
    const ResultRow& rl = *by_kind.at("unlearn/synthetic/random_labels{epochs=2}");
    EXPECT_EQ(rl.curve.size(), 2u) << "trace runs the whole (2-epoch) budget";
}

TEST(RunnerRun, TornLastLineIsRepairedOnResume) {
    test::TempDir dir("runner_torn");
    TinySetup s{dir.path()};
    s.write_model();
    RunOptions opt = s.options();
    opt.only = {{"classes", "3"}, {"seed", "0"}, {"method", "neg_grad_plus"}};
    ASSERT_EQ(run_experiment(s.cfg, opt).ran, 2);
    // Drop the last row and leave half of it, as a kill in the middle of the write would.
    std::ifstream in(s.results(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    in.close();
    const size_t last = text.rfind('\n', text.size() - 2) + 1;
    const std::string torn = text.substr(0, last) + text.substr(last, (text.size() - last) / 2);
    { std::ofstream(s.results(), std::ios::binary | std::ios::trunc) << torn; }
    EXPECT_EQ(ResultsFile(s.results()).rows().size(), 1u);
    RunSummary r = run_experiment(s.cfg, opt);
    EXPECT_EQ(r.ran, 1);
    EXPECT_EQ(r.skipped, 1);
    std::set<std::string> want;
    for (const RowSpec& row : filter_rows(expand_rows(s.cfg), opt.only)) want.insert(row.row_id);
    expect_complete(s.results(), want);
}

TEST(RunnerRun, ProbeOnPenultimateOutputForMultiStageHeads) {
    test::TempDir dir("runner_probe");
    TinySetup s{dir.path()};
    s.write_model(Centre::GaussianLastBlock);
    s.cfg.cuts = {"last_block"};
    s.cfg.samples_per_class = 10;
    s.cfg.methods = {{"neg_grad_plus", {{"epochs", "2"}}}};
    RunOptions opt = s.options();
    opt.only = {{"classes", "3"}, {"seed", "0"}, {"method", "neg_grad_plus"}, {"source", "real"}};
    std::vector<std::string> log;
    opt.log = [&](const std::string& l) { log.push_back(l); };
    const RunSummary r = run_experiment(s.cfg, opt);
    ASSERT_EQ(r.ran, 1) << ::testing::PrintToString(log);
    const ResultsFile f(s.results());
    const ResultRow& u = f.rows().at(0);
    EXPECT_EQ(u.cut, "last_block");
    ASSERT_TRUE(u.metrics.count("probe_forget"));
    EXPECT_GE(u.metrics.at("probe_forget"), 0.0);
    EXPECT_LE(u.metrics.at("probe_forget"), 1.0);
}

TEST(RunnerRun, ErrorsBeforeAnyRow) {
    test::TempDir dir("runner_errors");
    TinySetup s{dir.path()};
    RunOptions opt = s.options();
    try {  // the weights file is not there yet
        run_experiment(s.cfg, opt);
        FAIL();
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("tiny_r20.safetensors not found"));
    }
    s.write_model();
    s.cfg.cuts = {"pre_logits", "layer9"};
    try {
        run_experiment(s.cfg, opt);
        FAIL();
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("layer9"));
    }
    EXPECT_FALSE(fs::exists(s.results()));
}

TEST(RunnerRun, DivergedModelRecordsOnlyTheNonFiniteShare) {
    test::TempDir dir("runner_nan");
    TinySetup s{dir.path()};
    s.write_model();
    // Poison one class's bias: every logit row holds a NaN.
    const std::string file = dir.path() + "/models/tiny_r20.safetensors";
    std::shared_ptr<Classifier> m = load_zoo_model(file, "cifar_resnet20").model;
    for (auto& [name, t] : m->named_parameters())
        if (name == "linear.bias") t.f32()[7] = std::nanf("");
    m->save_safetensors(file, {{"arch", "cifar_resnet20"}, {"num_classes", "10"}});
    RunOptions opt = s.options();
    opt.only = {{"kind", "original"}, {"classes", "3"}};
    ASSERT_EQ(run_experiment(s.cfg, opt).ran, 1);
    const ResultsFile f(s.results());
    const ResultRow& r = f.rows().at(0);
    EXPECT_EQ(r.metrics, (std::map<std::string, double>{{"nonfinite_logits", 1.0}}));
}

TEST(RunnerRun, RecipeImageSizeMustMatchTheExperiment) {
    test::TempDir dir("runner_recipe");
    // fmnist_cnn.yaml trains on native 28x28 images; an experiment embedding at 32x32 would feed
    // the model images it never saw: refused before any training.
    ExperimentConfig cfg = parse_experiment(
        "name: fm\narch: fmnist_cnn\ndataset: fmnist\ninput_size: 32\n"
        "original: {recipe: fmnist_cnn.yaml}\nclasses: [[0]]\nmethods: [delete]\n",
        "fm.yaml");
    RunOptions opt;
    opt.out_dir = dir.path();
    opt.recipes_dir =
        (fs::path(__FILE__).parent_path().parent_path().parent_path() / "experiments" / "recipes")
            .string();
    opt.log = [](const std::string&) {};
    opt.open_data = [](const std::string&, DataSplit) {
        std::vector<int64_t> y(20);
        for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int64_t>(i % 10);
        return std::make_shared<TensorDataset>(Tensor::zeros(Shape{20, 1, 28, 28}, DType::U8),
                                               Tensor::from_vector(y, Shape{20}), 10);
    };
    try {
        run_experiment(cfg, opt);
        FAIL() << "a 28x28 recipe under a 32x32 experiment must be refused";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(),
                    HasSubstr("trains on 28x28 images but the experiment embeds at 32x32"));
    }
    EXPECT_FALSE(fs::exists(dir.path() + "/cache/models"));
}

// ---- kill and resume with real processes -------------------------------------------------------

// The child: runs kTiny in the directory named by OBL_RUNNER_KILL_DIR (only when the parent test
// below starts this binary with that variable set).
TEST(RunnerKillChild, Run) {
    const char* dir = std::getenv("OBL_RUNNER_KILL_DIR");
    if (!dir) GTEST_SKIP() << "child of RunnerKill.SigkillAtRandomPointsThenResume only";
    TinySetup s{dir};
    run_experiment(s.cfg, s.options());
}

std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

int64_t complete_lines(const std::string& path) {
    const std::string text = file_text(path);
    return std::count(text.begin(), text.end(), '\n');
}

TEST(RunnerKill, SigkillAtRandomPointsThenResume) {
    test::TempDir dir("runner_kill");
    TinySetup s{dir.path()};
    s.write_model();
    const std::set<std::string> want = ids_of(expand_rows(s.cfg));
    const unsigned seed = std::random_device{}();
    std::mt19937 rng(seed);
    std::printf("kill schedule seed %u\n", seed);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const std::string log_path = dir.path() + "/child.log";
    // Everything the child needs is prepared before fork(): between fork and exec it only makes
    // async-signal-safe calls (this process has other threads).
    std::vector<std::string> env_text;
    for (char** e = environ; *e; ++e) env_text.push_back(*e);
    env_text.push_back("OBL_RUNNER_KILL_DIR=" + dir.path());
    std::vector<char*> envp;
    for (std::string& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string filter = "--gtest_filter=RunnerKillChild.Run";
    char* argv[] = {const_cast<char*>(self.c_str()), filter.data(), nullptr};
    int64_t before = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        // Kill once the file has `target` complete rows, plus a random delay of up to 1.5 times
        // the time a row takes (measured from this child's rows), so the kill lands anywhere:
        // inside a row, between rows, or in the middle of an append.
        const int64_t target =
            std::min<int64_t>(before + 1 + static_cast<int64_t>(rng() % 4), kTinyRows - 8);
        const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ASSERT_GE(log_fd, 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
            ::execve(argv[0], argv, envp.data());
            ::_exit(127);
        }
        ::close(log_fd);
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::chrono::steady_clock::time_point> changes;  // when a row was added
        int64_t seen = complete_lines(s.results());
        int status = 0;
        bool exited = false;
        while (seen < target) {
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                exited = true;
                break;
            }
            ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(120))
                << "child made no progress; see " << log_path;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            const int64_t now = complete_lines(s.results());
            if (now != seen) changes.push_back(std::chrono::steady_clock::now());
            seen = now;
        }
        ASSERT_FALSE(exited) << "child exited early (status " << status << ")";
        double row_ms = 200;  // until two rows have been seen
        if (changes.size() >= 2)
            row_ms = std::chrono::duration<double, std::milli>(changes.back() - changes.front())
                         .count() /
                     static_cast<double>(changes.size() - 1);
        const int delay_ms = static_cast<int>(rng() % static_cast<unsigned>(1 + 1.5 * row_ms));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ::kill(pid, SIGKILL);
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        const ResultsFile f(s.results());  // every complete line parses, no duplicate id
        const int64_t now = static_cast<int64_t>(f.rows().size());
        std::printf("kill %d (a row takes ~%.0f ms): target %lld rows + %d ms -> %lld rows%s\n",
                    attempt, row_ms, static_cast<long long>(target), delay_ms,
                    static_cast<long long>(now),
                    file_text(s.results()).back() == '\n' ? "" : " + a torn tail");
        EXPECT_GE(now, before);
        EXPECT_LT(now, kTinyRows) << "the kill should land before the end";
        for (const ResultRow& r : f.rows()) EXPECT_TRUE(want.count(r.row_id)) << r.row_id;
        before = now;
    }
    // Resume in-process: every row present exactly once.
    RunSummary r = run_experiment(s.cfg, s.options());
    EXPECT_EQ(r.failed, 0);
    EXPECT_EQ(r.skipped + r.ran, kTinyRows);
    expect_complete(s.results(), want);
}

}  // namespace
}  // namespace obl
