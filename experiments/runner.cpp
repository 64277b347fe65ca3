// The resumable experiment runner (experiments/runner.h).
#include "experiments/runner.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <set>

#include "data/catalog.h"
#include "data/embed.h"
#include "experiments/train.h"
#include "kernels/common/check.h"
#include "models/split.h"
#include "models/zoo.h"
#include "nn/io/hash.h"
#include "nn/modules/sequential.h"
#include "unlearn/forget.h"
#include "unlearn/methods.h"
#include "unlearn/metrics.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string duration_text(double s) {
    char buf[32];
    const long long t = static_cast<long long>(std::llround(std::max(0.0, s)));
    if (t >= 3600)
        std::snprintf(buf, sizeof(buf), "%lldh%02lldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof(buf), "%lldm%02llds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof(buf), "%llds", t);
    return buf;
}

std::string classes_text(const std::vector<int>& classes, const char* sep) {
    std::string s;
    for (int c : classes) s += (s.empty() ? "" : sep) + std::to_string(c);
    return s;
}

std::string fnv_hex(const std::string& text, int digits) {
    return hex16(fnv1a(text)).substr(0, static_cast<size_t>(digits));
}

std::string settings_text(const Overrides& set) {
    std::string s;
    for (const auto& [k, v] : set) s += (s.empty() ? "" : ",") + k + "=" + v;
    return s;
}

// ---- row expansion ------------------------------------------------------------------------------

// The text a row's hash covers: every setting that changes the row's numbers.
std::string definition(const ExperimentConfig& cfg, const RowSpec& r) {
    std::string d = "experiment=" + cfg.name + ";arch=" + cfg.arch + ";dataset=" + cfg.dataset +
                    ";original=" + cfg.original.describe() + ";kind=" + r.kind +
                    ";classes=" + classes_text(r.classes, ",") +
                    ";val_per_class=" + std::to_string(cfg.val_per_class);
    if (cfg.input_size > 0) d += ";input_size=" + std::to_string(cfg.input_size);
    if (r.kind == "oracle") d += ";oracle=" + cfg.oracle.describe();
    if (r.kind == "unlearn") {
        d += ";method=" + r.method + ";config=" + r.config_hash + ";source=" + r.source +
             ";cut=" + r.cut + ";seed=" + std::to_string(r.seed) + ";dist=" + r.dist +
             ";sigma=" + detail::format_field(r.sigma) +
             ";selection=" + settings_text(cfg.selection);
        if (r.source == "synthetic")
            d += ";samples_per_class=" + std::to_string(r.samples_per_class);
    }
    for (const auto& [k, v] : r.axes) d += ";axis." + k + "=" + v;
    return d;
}

std::string readable_id(const RowSpec& r) {
    std::string s = r.dataset + "/" + r.kind;
    if (r.kind == "unlearn") s += "/" + r.method_label + "/" + r.source + "/" + r.cut;
    s += "/c" + classes_text(r.classes, "-");
    if (r.kind == "unlearn") s += "/s" + std::to_string(r.seed);
    for (const auto& [k, v] : r.axes) s += "/" + k + "=" + v;
    return s;
}

std::string describe_row(const RowSpec& r) {
    std::string s = r.kind;
    if (r.kind == "unlearn") s += " " + r.method_label + " " + r.source + " " + r.cut;
    s += " classes " + classes_text(r.classes, ",");
    if (r.kind == "unlearn") s += " seed " + std::to_string(r.seed);
    for (const auto& [k, v] : r.axes) s += " " + k + "=" + v;
    return s + " (" + r.dataset + ")";
}

// ---- metrics helpers ----------------------------------------------------------------------------

// Logits of `head` on every row of `data` (eval mode, no grad), in order.
LogitSet head_logits(Module& head, const TensorDataset& data, Device device) {
    LogitSet s;
    s.num_classes = data.num_classes();
    s.labels.reserve(static_cast<size_t>(data.size()));
    head.train(false);
    for_each_prediction(head, data, 512, device, [&](const Batch& b, const Tensor& logits) {
        OBL_CHECK(logits.dim() == 2 && logits.size(1) == s.num_classes, "runner: the head gives ",
                  logits.describe(), " for ", s.num_classes, " classes");
        const std::vector<float> v = logits.to_vector<float>();
        s.logits.insert(s.logits.end(), v.begin(), v.end());
        const std::vector<int64_t> y = b.y.to_vector<int64_t>();
        s.labels.insert(s.labels.end(), y.begin(), y.end());
    });
    return s;
}

// Row-major features of `part` applied to `data` (the probe reads them flattened: N x dim).
struct Features {
    std::vector<float> x;
    std::vector<int64_t> y;
    Shape sample;  // one row's shape, e.g. [64]
    int64_t dim = 0;
};
Features features_of(Module* part, const TensorDataset& data, Device device) {
    Features f;
    if (!part) {  // the embeddings themselves
        const Tensor x = data.x();
        f.sample = data.sample_shape();
        f.dim = f.sample.numel();
        f.x = x.to_vector<float>();
        f.y = data.y().to_vector<int64_t>();
        return f;
    }
    part->train(false);
    for_each_prediction(*part, data, 512, device, [&](const Batch& b, const Tensor& out) {
        f.sample = out.shape();
        f.sample[0] = 1;
        f.dim = f.sample.numel();
        const std::vector<float> v = out.to_vector<float>();
        f.x.insert(f.x.end(), v.begin(), v.end());
        const std::vector<int64_t> y = b.y.to_vector<int64_t>();
        f.y.insert(f.y.end(), y.begin(), y.end());
    });
    return f;
}

// Features as a dataset, to run the rest of a head on them.
std::shared_ptr<TensorDataset> as_dataset(const Features& f, int num_classes) {
    const int64_t n = static_cast<int64_t>(f.y.size());
    Shape shape = f.sample;
    shape[0] = n;
    return std::make_shared<TensorDataset>(Tensor::from_vector(f.x, shape),
                                           Tensor::from_vector(f.y, Shape{n}), num_classes);
}

// Share of rows with a non-finite logit (a diverged model).
double nonfinite_share(const LogitSet& s) {
    int64_t bad = 0;
    for (int64_t i = 0; i < s.rows(); ++i)
        for (int k = 0; k < s.num_classes; ++k)
            if (!std::isfinite(s.logits[static_cast<size_t>(i * s.num_classes + k)])) {
                ++bad;
                break;
            }
    return s.rows() ? static_cast<double>(bad) / static_cast<double>(s.rows()) : 0.0;
}

bool is_forget(int64_t label, const std::vector<int>& classes) {
    return std::find(classes.begin(), classes.end(), static_cast<int>(label)) != classes.end();
}

// Everything one row's metrics need.
struct MeasureInput {
    const LogitSet* train = nullptr;
    const LogitSet* test = nullptr;
    std::vector<int> classes;
    double original_retain_test = -1;  // A_or, -1: unknown
    const LogitSet* oracle_test = nullptr;
    const Features* probe_train = nullptr;  // null: no probe
    const Features* probe_test = nullptr;
    uint64_t seed = 0;
};

// Records a metric; a non-finite value (JSON cannot hold it) is left out with a warning.
void put(ResultRow& row, const std::string& key, double v,
         const std::function<void(const std::string&)>& log) {
    if (std::isfinite(v))
        row.metrics[key] = v;
    else
        log("  warning: " + key + " is " + std::to_string(v) + ": left out of the row");
}

void measure(const ExperimentConfig& cfg, const MeasureInput& in, ResultRow& row,
             const std::function<void(const std::string&)>& log) {
    // A metric that cannot be computed (e.g. too few forget rows for 5 folds) is left out and
    // said so; the row keeps the others.
    auto guarded = [&](const char* name, const std::function<void()>& fn) {
        try {
            fn();
        } catch (const std::exception& e) {
            log(std::string("  warning: ") + name + " not computed: " + e.what());
        }
    };
    // A model whose logits are not finite has diverged: its argmax (and every metric built on
    // it) means nothing, so the row records only the share of such test rows.
    const double bad = std::max(nonfinite_share(*in.test), nonfinite_share(*in.train));
    if (bad > 0) {
        log("  warning: the model's logits are not finite on " + std::to_string(100 * bad) +
            "% of rows (diverged): metrics left out");
        row.metrics["nonfinite_logits"] = nonfinite_share(*in.test);
        return;
    }
    const SplitAccuracy test = split_accuracy(*in.test, in.classes);
    const SplitAccuracy train = split_accuracy(*in.train, in.classes);
    if (cfg.wants("accuracy")) {
        put(row, "A_r_test", test.retain, log);
        put(row, "A_f_test", test.forget, log);
        put(row, "A_r_train", train.retain, log);
        put(row, "A_f_train", train.forget, log);
    }
    if (cfg.wants("aus") && in.original_retain_test >= 0)
        guarded("AUS", [&] {
            put(row, "AUS", aus(in.original_retain_test, test.retain, test.forget), log);
        });
    if (cfg.wants("mia")) {
        guarded("MIA-I", [&] {
            const std::vector<double> conf_train = true_class_confidence(*in.train);
            std::vector<double> members, targets;
            for (size_t i = 0; i < conf_train.size(); ++i)
                (is_forget(in.train->labels[i], in.classes) ? targets : members)
                    .push_back(conf_train[i]);
            MiaSvcConfig mc;
            mc.seed = in.seed;
            put(row, "MIA_I",
                mia_svc(members, true_class_confidence(*in.test), targets, mc).non_member_share,
                log);
        });
        guarded("MIA-II", [&] {
            const std::vector<double> loss_train = per_sample_loss(*in.train);
            const std::vector<double> loss_test = per_sample_loss(*in.test);
            std::vector<double> pos, neg;
            for (size_t i = 0; i < loss_train.size(); ++i)
                if (is_forget(in.train->labels[i], in.classes)) pos.push_back(loss_train[i]);
            for (size_t i = 0; i < loss_test.size(); ++i)
                if (is_forget(in.test->labels[i], in.classes)) neg.push_back(loss_test[i]);
            const CvResult cv = mia_loss_logreg(pos, neg, 5, in.seed);
            put(row, "MIA_II_mean", cv.mean, log);
            put(row, "MIA_II_std", cv.std, log);
        });
    }
    if (cfg.wants("probe") && in.probe_train && in.probe_test)
        guarded("probe leakage", [&] {
            ProbeConfig pc;
            pc.seed = in.seed;
            const ProbeResult p =
                probe_leakage(in.probe_train->x, in.probe_train->y, in.probe_test->x,
                              in.probe_test->y, in.probe_train->dim, in.classes, pc);
            put(row, "probe_forget", p.forget_accuracy, log);
            put(row, "probe_balanced", p.balanced_accuracy, log);
        });
    if (cfg.wants("js") && in.oracle_test)
        guarded("JS distance",
                [&] { put(row, "JS_oracle", js_distance(*in.test, *in.oracle_test), log); });
}

// ---- the run ------------------------------------------------------------------------------------

// A model with the cached embeddings at its penultimate features (input of its last stage) and
// the logits / probe features measured there.
struct Measured {
    std::shared_ptr<Classifier> model;
    std::string digest;
    LogitSet train, test;
    Features probe_train, probe_test;
};

class Runner {
   public:
    // `cfg`: the experiment restricted to one dataset (for_dataset); `oracle_rows`: the class
    // sets ("3,5") whose oracle row is among the selected rows.
    Runner(ExperimentConfig cfg, const RunOptions& opt, std::set<std::string> oracle_rows,
           std::function<void(const std::string&)> log)
        : cfg_(std::move(cfg)),
          opt_(opt),
          entry_(zoo_entry(cfg_.arch)),
          log_(std::move(log)),
          oracle_selected_(std::move(oracle_rows)) {
        exp_dir_ = (fs::path(opt.out_dir) / cfg_.name).string();
        cache_dir_ = (fs::path(opt.out_dir) / "cache" / "embeddings").string();
        recipes_ = opt.recipes_dir.empty() ? recipes_dir(cfg_) : opt.recipes_dir;
        input_size_ = cfg_.input_size > 0 ? cfg_.input_size : entry_.input_size;
    }

    // Loads (or trains) the original and checks the cuts; measures it on the dataset.
    void prepare() {
        num_classes_ = config_num_classes(cfg_);
        std::shared_ptr<Classifier> original;
        if (!cfg_.original.weights.empty())
            original = load_zoo_model(models_file(cfg_.original.weights), cfg_.arch).model;
        else
            original = recipe_model(cfg_.original, "original", {});
        OBL_CHECK(original->num_classes() == num_classes_, "the original model has ",
                  original->num_classes(), " classes, ", cfg_.dataset, " has ", num_classes_);
        for (const std::string& cut : cfg_.cuts) original->resolve(cut);  // unknown -> error
        original_ = measured(original, true);
    }

    ResultRow run_row(const RowSpec& r) {
        ResultRow row = base_row(r);
        MeasureInput in;
        in.classes = r.classes;
        in.seed = static_cast<uint64_t>(r.seed);
        in.original_retain_test = split_accuracy(original_.test, r.classes).retain;
        if (r.kind == "original" || r.kind == "oracle") {
            const Measured* m = &original_;
            if (r.kind == "oracle") {
                m = oracle(r.classes, true);
                row.config = {{"model", cfg_.oracle.describe()},
                              {"exclude_classes", classes_text(r.classes, ",")}};
                if (oracle_training_s_ >= 0) row.timing["training_s"] = oracle_training_s_;
            } else {
                row.config = {{"model", cfg_.original.describe()}};
            }
            row.config_hash = m->digest;
            in.train = &m->train;
            in.test = &m->test;
            in.probe_train = &m->probe_train;
            in.probe_test = &m->probe_test;
            if (r.kind == "original" && cfg_.wants("js"))
                if (const Measured* o = optional_oracle(r.classes)) in.oracle_test = &o->test;
            measure(cfg_, in, row, log_);
            return row;
        }
        return run_unlearn(r, row, in);
    }

   private:
    // ---- models and data ----

    // One sample's shape as the model sees it: (channels, input_size, input_size).
    Shape input_shape() const { return Shape{entry_.in_channels, input_size_, input_size_}; }

    std::string data_root() const {
        auto it = opt_.data_roots.find(cfg_.dataset);
        if (it != opt_.data_roots.end()) return it->second;
        if (!opt_.data_root.empty()) return opt_.data_root;
        const std::string root = default_dataset_root(cfg_.dataset);
        OBL_CHECK(!root.empty(), "dataset ", cfg_.dataset, " has no default location: pass --root");
        return root;
    }

    std::shared_ptr<const Dataset> images(DataSplit split) {
        std::shared_ptr<const Dataset>& slot =
            split == DataSplit::Train ? train_images_ : test_images_;
        if (slot) return slot;
        std::shared_ptr<const Dataset> d = opt_.open_data
                                               ? opt_.open_data(cfg_.dataset, split)
                                               : open_dataset(cfg_.dataset, data_root(), split);
        OBL_CHECK(d != nullptr, "runner: no ", split_name(split), " data for ", cfg_.dataset);
        OBL_CHECK(d->num_classes() == num_classes_, "runner: ", cfg_.dataset, " ",
                  split_name(split), " has ", d->num_classes(), " classes, the model ",
                  num_classes_);
        if (split == DataSplit::Train && cfg_.val_per_class > 0)
            d = split_train_val(d, cfg_.val_per_class).train;
        slot = d;
        return slot;
    }

    std::string models_file(const std::string& name) const {
        OBL_CHECK(!opt_.models_dir.empty(), "the experiment names the model file ", name,
                  ": pass --models DIR (the folder holding it)");
        const std::string path = (fs::path(opt_.models_dir) / name).string();
        OBL_CHECK(fs::exists(path), "model file ", path, " not found (--models ", opt_.models_dir,
                  ")");
        return path;
    }

    // A recipe model (original or oracle). The recipe gives the training settings; the
    // experiment fixes arch and dataset (and, for an oracle, exclude_classes). Trained models are
    // cached in <out>/cache/models/, named by the recipe hash (and the init file), so every
    // experiment under the same --out shares them; an interrupted training resumes from its
    // oblivio train checkpoint.
    // With `train` false, a model that is not in the cache yet is not trained: null instead.
    std::shared_ptr<Classifier> recipe_model(const ModelSpec& spec, const std::string& role,
                                             const std::vector<int>& exclude, bool train = true) {
        const std::string path = (fs::path(recipes_) / spec.recipe).string();
        OBL_CHECK(fs::exists(path), role, " recipe ", path, " not found (recipes are file names ",
                  "in the recipes/ folder next to the experiment file)");
        Overrides set = spec.set;
        set.push_back({"arch", cfg_.arch});
        set.push_back({"dataset", cfg_.dataset});
        set.push_back({"exclude_classes", classes_text(exclude, ",")});
        const TrainRecipe recipe = load_recipe(path, set);
        // The embeddings must see images as the model saw them in training.
        const int64_t trained_size =
            recipe.resize > 0 ? recipe.resize : images(DataSplit::Train)->sample_shape()[1];
        OBL_CHECK(trained_size == input_size_, role, " recipe ", path, " trains on ", trained_size,
                  "x", trained_size, " images but the experiment embeds at ", input_size_, "x",
                  input_size_, ": set 'input_size: ", trained_size,
                  "' in the experiment or resize in the recipe");
        std::string name = cfg_.arch + "_" + cfg_.dataset + "_" + recipe_hash(recipe);
        std::string init;
        if (!spec.init.empty()) {
            init = models_file(spec.init);
            name += "_init" + fnv_hex(spec.init + ":" + std::to_string(fs::file_size(init)), 8);
        }
        const std::string out =
            (fs::path(opt_.out_dir) / "cache" / "models" / (name + ".safetensors")).string();
        if (fs::exists(out)) return load_zoo_model(out, cfg_.arch).model;
        if (!train) return nullptr;
        fs::create_directories(fs::path(out).parent_path());
        log_("training the " + role + " (" + spec.describe() +
             (exclude.empty() ? "" : ", without classes " + classes_text(exclude, ",")) + ") -> " +
             out);
        TrainOptions to;
        to.device = opt_.device;
        to.init_weights = init;
        to.progress = [this](const std::string& line, bool epoch_done) {
            if (epoch_done) log_("  " + line);
        };
        const TrainOutcome t = train_model(recipe, data_root(), out, to);
        last_training_s_ = t.seconds;
        return t.model;
    }

    // The cached embeddings of `model` (digest) at `cut` for one split. The original's are also
    // kept in memory for the whole run (`remember`); an oracle's are read once.
    std::shared_ptr<TensorDataset> embeddings(const Classifier& model, const std::string& digest,
                                              const std::string& cut, DataSplit split,
                                              bool remember) {
        const std::string stage = model.stages()[model.resolve(cut)].name;
        const std::string split_text = split_name(split);
        const std::string memo = digest + "|" + stage + "|" + split_text;
        auto it = memo_.find(memo);
        if (it != memo_.end()) return it->second;
        EmbedKey key;
        key.model_digest = digest;
        key.arch = cfg_.arch;
        key.cut = stage;
        key.dataset = cfg_.dataset;
        key.split = split_text;
        key.val_per_class = split == DataSplit::Train ? cfg_.val_per_class : 0;
        key.input_size = input_size_;
        const CachedEmbeddings c = cached_embeddings(
            cache_dir_, key,
            [&] {
                log_("  embedding " + cfg_.dataset + " " + split_text + " at " + stage + " ...");
                Split sp = split_copy(model, cut);
                EmbedOptions eo;
                eo.input_size = input_size_;
                eo.mean = entry_.mean;
                eo.std = entry_.std;
                eo.device = opt_.device;
                return embed(*sp.body, images(split), eo);
            },
            log_);
        if (remember) memo_[memo] = c.data;
        return c.data;
    }

    // split() of a copy of `model` on the run's device (the caller's model stays where it is).
    Split split_copy(const Classifier& model, const std::string& cut) {
        std::shared_ptr<Classifier> copy = model.clone_classifier();
        copy->to(opt_.device);
        copy->train(false);
        return split(*copy, cut, input_shape());
    }

    Measured measured(std::shared_ptr<Classifier> model, bool remember) {
        Measured m;
        m.model = model;
        m.digest = state_digest(*model);
        const std::string last = model->stages().back().name;
        const auto train = embeddings(*model, m.digest, last, DataSplit::Train, remember);
        const auto test = embeddings(*model, m.digest, last, DataSplit::Test, remember);
        Split sp = split_copy(*model, last);
        m.train = head_logits(*sp.head, *train, opt_.device);
        m.test = head_logits(*sp.head, *test, opt_.device);
        if (cfg_.wants("probe")) {
            m.probe_train = features_of(nullptr, *train, opt_.device);
            m.probe_test = features_of(nullptr, *test, opt_.device);
        }
        return m;
    }

    // The oracle of a class set, when the experiment has one and it is available (see
    // runner.h: trained in this run or an earlier one).
    const Measured* oracle(const std::vector<int>& classes, bool for_row) {
        if (cfg_.oracle.empty()) return nullptr;
        const std::string key = classes_text(classes, ",");
        if (oracle_ && oracle_key_ == key) return oracle_.get();
        // Train it only for its own row or when that row is part of this run; otherwise use it
        // only if an earlier run left it in the cache.
        const bool may_train = for_row || oracle_selected_.count(key) > 0;
        if (!may_train && opt_.make_oracle) return nullptr;
        last_training_s_ = -1;
        std::shared_ptr<Classifier> model =
            opt_.make_oracle ? opt_.make_oracle(classes)
                             : recipe_model(cfg_.oracle, "oracle", classes, may_train);
        if (!model) return nullptr;
        oracle_.reset();
        OBL_CHECK(model->num_classes() == num_classes_, "runner: the oracle for classes ", key,
                  " has the wrong class count");
        oracle_ = std::make_unique<Measured>(measured(model, false));
        oracle_key_ = key;
        oracle_training_s_ = last_training_s_;
        return oracle_.get();
    }

    ResultRow base_row(const RowSpec& r) const {
        ResultRow row;
        row.experiment = cfg_.name;
        row.row_id = r.row_id;
        row.table = cfg_.table;
        row.arch = cfg_.arch;
        row.dataset = r.dataset;
        row.kind = r.kind;
        row.method = r.method_label;
        row.source = r.source;
        row.cut = r.cut;
        row.classes = r.classes;
        row.seed = r.seed;
        row.git_sha = build_git_sha();
        row.axes = r.axes;
        return row;
    }

    // The oracle for JS on original/unlearn rows: a failure to get it (a missing recipe, say)
    // leaves JS out of the row instead of failing the row.
    const Measured* optional_oracle(const std::vector<int>& classes) {
        try {
            return oracle(classes, false);
        } catch (const std::exception& e) {
            log_(std::string("  warning: no oracle for JS: ") + e.what());
            return nullptr;
        }
    }

    ResultRow run_unlearn(const RowSpec& r, ResultRow& row, MeasureInput& in) {
        // An unlearning run.
        ForgetRequest req;
        req.classes = r.classes;
        req.method = r.method;
        req.overrides = r.method_set;
        req.cut = r.cut;
        req.sampler.per_class = r.samples_per_class;
        req.sampler.distribution = parse_synth_distribution(r.dist);
        req.sampler.sigma = r.sigma;
        req.seed = static_cast<uint64_t>(r.seed);
        for (const auto& [k, v] : cfg_.selection) set_field(req.selection, "selection", k, v);
        req.device = opt_.device;
        req.trace = true;
        const Classifier& original = *original_.model;
        const auto train = embeddings(original, original_.digest, r.cut, DataSplit::Train, true);
        const auto test = embeddings(original, original_.digest, r.cut, DataSplit::Test, true);
        if (r.source == "real") req.real_train = train;
        const ForgetResult res =
            run_forget(original, input_shape(), req, test, cfg_.dataset + " test");
        const ForgetReport& rep = res.report;

        row.config_hash = rep.config_hash;
        for (const FieldInfo& f : rep.config) row.config.push_back({f.name, f.value});
        if (r.source == "synthetic") {
            row.config.push_back({"sampler.per_class", std::to_string(r.samples_per_class)});
            row.config.push_back({"sampler.dist", r.dist});
            row.config.push_back({"sampler.sigma", detail::format_field(r.sigma)});
        }
        for (const FieldInfo& f : describe_fields(req.selection))
            row.config.push_back({"selection." + f.name, f.value});
        row.stop_reason = rep.stop_reason;
        row.selected_epoch = rep.selected.epoch;
        row.timing["sampling_s"] = rep.sampling_seconds;
        row.timing["training_s"] = rep.training_seconds;
        row.timing["selection_s"] = rep.selection_seconds;
        bool non_finite = false;
        auto finite = [&](double v, double fallback) {
            if (std::isfinite(v)) return v;
            non_finite = true;
            return fallback;
        };
        for (size_t i = 0; i < rep.epochs.size(); ++i) {
            CurvePoint p;
            p.epoch = rep.epochs[i].epoch;
            for (const SelectionStats& s : rep.selection_history)
                if (s.epoch == p.epoch) {
                    p.synthetic_forget = finite(s.forget_agreement, 0);
                    p.synthetic_retain = finite(s.retain_agreement, 0);
                    p.margin = finite(s.margin, 0);
                }
            if (i < rep.eval_trace.size()) {
                p.real_forget = finite(rep.eval_trace[i].forget, -1);
                p.real_retain = finite(rep.eval_trace[i].retain, -1);
            }
            row.curve.push_back(p);
        }
        if (non_finite)  // JSON has no NaN: such points are written as 0 (synthetic) / -1 (real)
            log_("  warning: non-finite values in the per-epoch curve were written as 0 / -1");

        // Measure the selected model through its head on the cached embeddings.
        res.model->to(opt_.device);
        res.model->train(false);
        Split sp = split(*res.model, r.cut, input_shape());
        LogitSet train_logits, test_logits;
        Features probe_train, probe_test;
        if (sp.head->size() > 1) {
            // One pass through the head: its penultimate output (every stage but the last, the
            // probe's features), then the last stage on it.
            std::vector<std::shared_ptr<Module>> stages(sp.head->modules().begin(),
                                                        sp.head->modules().end() - 1);
            Sequential part(stages);
            Module& last = *sp.head->modules().back();
            probe_train = features_of(&part, *train, opt_.device);
            probe_test = features_of(&part, *test, opt_.device);
            train_logits = head_logits(last, *as_dataset(probe_train, num_classes_), opt_.device);
            test_logits = head_logits(last, *as_dataset(probe_test, num_classes_), opt_.device);
            in.probe_train = &probe_train;
            in.probe_test = &probe_test;
        } else {
            train_logits = head_logits(*sp.head, *train, opt_.device);
            test_logits = head_logits(*sp.head, *test, opt_.device);
        }
        in.train = &train_logits;
        in.test = &test_logits;
        if (cfg_.wants("js"))
            if (const Measured* o = optional_oracle(r.classes)) in.oracle_test = &o->test;
        measure(cfg_, in, row, log_);
        return row;
    }

   public:
    static std::string summary_of(const ResultRow& row) {
        std::string s;
        char buf[48];
        for (const char* k : {"A_f_test", "A_r_test", "AUS", "JS_oracle"}) {
            auto it = row.metrics.find(k);
            if (it == row.metrics.end()) continue;
            std::snprintf(buf, sizeof(buf), "%s%s %.4f", s.empty() ? "" : "  ", k, it->second);
            s += buf;
        }
        if (!row.stop_reason.empty()) s += "  stop " + row.stop_reason;
        return s.empty() ? "done" : s;
    }

   private:
    const ExperimentConfig cfg_;
    const RunOptions& opt_;
    const ZooEntry& entry_;
    std::function<void(const std::string&)> log_;
    std::string exp_dir_, cache_dir_, recipes_;
    int num_classes_ = 0;
    int64_t input_size_ = 0;
    std::shared_ptr<const Dataset> train_images_, test_images_;
    std::map<std::string, std::shared_ptr<TensorDataset>> memo_;
    Measured original_;
    std::unique_ptr<Measured> oracle_;
    std::string oracle_key_;
    std::set<std::string> oracle_selected_;
    double last_training_s_ = -1, oracle_training_s_ = -1;
};

}  // namespace

std::string RowSpec::field(const std::string& key) const {
    if (key == "dataset") return dataset;
    if (key == "kind") return kind;
    if (key == "method") return method_label;
    if (key == "source") return source;
    if (key == "cut") return cut;
    if (key == "classes") return classes_text(classes, ",");
    if (key == "seed") return kind == "unlearn" ? std::to_string(seed) : "";
    for (const auto& [k, v] : axes)
        if (k == key) return v;
    return "";
}

const std::vector<std::string>& row_filter_keys() {
    static const std::vector<std::string> keys = {
        "dataset",           "kind", "method", "source", "cut", "classes", "seed", "k",
        "samples_per_class", "dist", "sigma"};
    return keys;
}

namespace {

void expand_dataset(const ExperimentConfig& cfg, std::vector<RowSpec>& rows) {
    const int num_classes = config_num_classes(cfg);
    // The synthetic ablation values: one per value of the axis, or the base settings.
    struct Variant {
        int64_t samples_per_class;
        std::string dist;
        double sigma;
        std::vector<std::pair<std::string, std::string>> axes;
    };
    std::vector<Variant> variants;
    if (cfg.ablation.axis.empty()) {
        variants.push_back({cfg.samples_per_class, cfg.dist, cfg.sigma, {}});
    } else {
        for (const std::string& v : cfg.ablation.values) {
            Variant var{cfg.samples_per_class, cfg.dist, cfg.sigma, {{cfg.ablation.axis, v}}};
            if (cfg.ablation.axis == "samples_per_class")
                detail::parse_field(v, &var.samples_per_class);
            if (cfg.ablation.axis == "dist") var.dist = v;
            if (cfg.ablation.axis == "sigma") detail::parse_field(v, &var.sigma);
            variants.push_back(var);
        }
    }
    auto add = [&](RowSpec r) {
        r.row_id = readable_id(r) + "#" + fnv_hex(definition(cfg, r), 12);
        rows.push_back(std::move(r));
    };
    for (const ClassSet& set : expand_class_sets(cfg, num_classes)) {
        RowSpec base;
        base.dataset = cfg.dataset;
        base.classes = set.classes;
        base.axes = set.axes;
        base.kind = "original";
        add(base);
        if (!cfg.oracle.empty()) {
            base.kind = "oracle";
            add(base);
        }
        base.kind = "unlearn";
        for (const std::string& cut : cfg.cuts)
            for (const MethodSpec& m : cfg.methods) {
                const MethodInfo& info = find_method(m.method);
                const std::string hash = config_hash(info.name, info.resolve(m.set));
                for (const std::string& source : cfg.sources)
                    for (int64_t seed : cfg.seeds) {
                        const bool synthetic = source == "synthetic";
                        for (size_t v = 0; v < (synthetic ? variants.size() : 1); ++v) {
                            RowSpec r = base;
                            r.method = m.method;
                            r.method_label = m.label();
                            r.method_set = m.set;
                            r.config_hash = hash;
                            r.source = source;
                            r.cut = cut;
                            r.seed = seed;
                            const Variant& var =
                                synthetic ? variants[v]
                                          : Variant{cfg.samples_per_class, cfg.dist, cfg.sigma, {}};
                            r.samples_per_class = var.samples_per_class;
                            r.dist = var.dist;
                            r.sigma = var.sigma;
                            r.axes.insert(r.axes.end(), var.axes.begin(), var.axes.end());
                            add(r);
                        }
                    }
            }
    }
}

}  // namespace

std::vector<RowSpec> expand_rows(const ExperimentConfig& cfg) {
    std::vector<RowSpec> rows;
    for (const std::string& d : cfg.datasets) expand_dataset(for_dataset(cfg, d), rows);
    std::set<std::string> ids;
    for (const RowSpec& r : rows)
        OBL_ASSERT(ids.insert(r.row_id).second);  // the definition covers every loop variable
    return rows;
}

std::vector<RowSpec> filter_rows(const std::vector<RowSpec>& rows, const RowFilter& only) {
    std::map<std::string, std::set<std::string>> wanted;
    const auto& keys = row_filter_keys();
    for (const auto& [k, v] : only) {
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
            std::string list;
            for (const std::string& x : keys) list += (list.empty() ? "" : ", ") + x;
            OBL_THROW("--only: unknown key '", k, "'; valid keys: ", list);
        }
        wanted[k].insert(v);
    }
    std::vector<RowSpec> out;
    for (const RowSpec& r : rows) {
        bool keep = true;
        for (const auto& [k, values] : wanted) {
            const std::string v = r.field(k);
            bool match = !v.empty() && values.count(v);
            if (k == "method" && !match) match = values.count(r.method) > 0 && r.kind == "unlearn";
            keep = keep && match;
        }
        if (keep) out.push_back(r);
    }
    return out;
}

namespace {

// Row times for the ETA. Rows of one kind take similar times, and the kinds differ by orders of
// magnitude (an "original" or "oracle" row may train a model for an hour, an unlearning row at a
// linear cut takes seconds), so a remaining row is expected to take the mean of the rows of its
// group run so far (kind; for unlearning rows also cut and source), or the mean over all rows
// when its group has not run yet.
class RowTimes {
   public:
    void add(const RowSpec& r, double seconds) {
        auto& [sum, n] = groups_[group(r)];
        sum += seconds;
        ++n;
        total_ += seconds;
        ++count_;
    }
    double expected(const RowSpec& r) const {
        const auto it = groups_.find(group(r));
        if (it != groups_.end()) return it->second.first / static_cast<double>(it->second.second);
        return count_ > 0 ? total_ / static_cast<double>(count_) : 0.0;
    }

   private:
    static std::string group(const RowSpec& r) {
        return r.kind == "unlearn" ? r.kind + "/" + r.cut + "/" + r.source : r.kind;
    }
    std::map<std::string, std::pair<double, int64_t>> groups_;
    double total_ = 0;
    int64_t count_ = 0;
};

}  // namespace

RunSummary run_experiment(const ExperimentConfig& cfg, const RunOptions& opt) {
    const std::function<void(const std::string&)> log =
        opt.log ? opt.log : [](const std::string& line) {
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
        };
    const std::vector<RowSpec> rows = filter_rows(expand_rows(cfg), opt.only);
    RunSummary sum;
    sum.rows = static_cast<int64_t>(rows.size());
    sum.results_path = (fs::path(opt.out_dir) / cfg.name / "results.jsonl").string();
    ResultsFile results(sum.results_path);
    std::vector<char> done(rows.size(), 0);
    for (size_t i = 0; i < rows.size(); ++i) {
        done[i] = results.has(rows[i].row_id);
        sum.skipped += done[i];
    }
    log(cfg.name + ": " + std::to_string(rows.size()) + " rows (" + std::to_string(sum.skipped) +
        " done, " + std::to_string(sum.rows - sum.skipped) + " to run) -> " + sum.results_path);
    if (opt.dry_run) {
        for (size_t i = 0; i < rows.size(); ++i) {
            char head[48];
            std::snprintf(head, sizeof(head), "%4zu/%zu %s  ", i + 1, rows.size(),
                          done[i] ? "done" : "todo");
            log(head + describe_row(rows[i]) + "  [" + rows[i].row_id + "]");
        }
        return sum;
    }

    const auto start = Clock::now();
    int64_t ran_here = 0;
    RowTimes times;  // the ETA extrapolates row times (not the one-off preparation)
    // Datasets one after another (rows are grouped by dataset), each with its own Runner.
    for (const std::string& d : cfg.datasets) {
        std::set<std::string> oracle_rows;
        bool todo = false;
        for (size_t i = 0; i < rows.size(); ++i) {
            if (rows[i].dataset != d) continue;
            if (rows[i].kind == "oracle") oracle_rows.insert(classes_text(rows[i].classes, ","));
            todo = todo || !done[i];
        }
        if (!todo) continue;
        Runner runner(for_dataset(cfg, d), opt, oracle_rows, log);
        runner.prepare();
        for (size_t i = 0; i < rows.size(); ++i) {
            if (done[i] || rows[i].dataset != d) continue;
            const RowSpec& r = rows[i];
            const auto t0 = Clock::now();
            std::string outcome;
            try {
                ResultRow row = runner.run_row(r);
                row.timing["total_s"] = seconds_since(t0);
                results.append(row);
                ++sum.ran;
                outcome = Runner::summary_of(row);
            } catch (const std::exception& e) {
                ++sum.failed;
                outcome = std::string("FAILED: ") + e.what();
            }
            done[i] = 1;
            ++ran_here;
            times.add(r, seconds_since(t0));
            const double elapsed = seconds_since(start);
            int64_t left = 0;
            double eta = 0;
            for (size_t j = 0; j < rows.size(); ++j)
                if (!done[j]) {
                    ++left;
                    eta += times.expected(rows[j]);
                }
            char line[160];
            std::snprintf(line, sizeof(line), "  (%.1f s; elapsed %s, ETA %s)", seconds_since(t0),
                          duration_text(elapsed).c_str(), duration_text(eta).c_str());
            log("[" + std::to_string(i + 1) + "/" + std::to_string(rows.size()) + "] " +
                describe_row(r) + ": " + outcome + line);
            if (opt.stop_after_rows >= 0 && ran_here >= opt.stop_after_rows) {
                sum.stopped = left > 0;
                return sum;
            }
        }
    }
    return sum;
}

}  // namespace obl
