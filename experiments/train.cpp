// `oblivio train`: recipes, the training loop, checkpoints (experiments/train.h).
//
// One SGD step on a batch (x, y) of B images, model in training mode (BatchNorm normalises with
// the batch statistics and updates its running statistics):
//     loss = (1 - eps) * mean_n CE(f(x_n), y_n) + eps * mean_n mean_k -log_softmax(f(x_n))_k
//          = cross_entropy(f(x), y, label_smoothing = eps)          (PyTorch's rule, fused op)
//     g = grad + wd * w;  buf = mu * buf + g;  w -= lr_epoch * (nesterov ? g + mu * buf : buf)
// lr_epoch comes from the per-epoch schedule (nn/optim/schedule.h), behind an optional linear
// warm-up from lr / 10. Initialisation: make_model, then reinitialise(model, seed) (PyTorch's
// default init per module type, unlearn/train_loop.h). Data: DataLoader seeded with
// derive_seed(seed, kDataStream), so epoch e's order and augmentation depend on (seed, e) only.
#include "experiments/train.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "data/catalog.h"
#include "data/loader.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "nn/io/atomic_file.h"
#include "nn/io/json.h"
#include "nn/io/safetensors.h"
#include "nn/ops.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace {

constexpr uint64_t kDataStream = 101;  // derive_seed stream of the training DataLoader
constexpr const char* kCheckpointFormat = "oblivio-train-checkpoint-1";
constexpr const char* kModelPrefix = "model.";
constexpr const char* kMomentumPrefix = "momentum.";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string join_ints(const std::vector<int>& v) { return detail::format_field(v); }

std::string valid_keys() {
    std::string s;
    for (const FieldInfo& f : describe_fields(TrainRecipe{})) s += (s.empty() ? "" : ", ") + f.name;
    return s;
}

std::string expected_text(const char* type, const FieldRange& range) {
    const std::string t = type;
    if (t == "bool") return "true/false";
    if (t == "string") return "text";
    const std::string kind = t == "int list" ? "comma-separated integers" : "a finite " + t;
    return range.describe() == "any" ? kind : kind + ", " + range.describe();
}

// "1:05:03" / "5:03".
std::string clock_text(double seconds) {
    const long s = static_cast<long>(std::max(0.0, seconds) + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
    return buf;
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), format, v);
    return buf;
}

// "epoch 2/3  step 120/469  loss 0.3412  acc 87.71%  lr 0.075  480 img/s  ETA 4:10"
std::string status_line(int epoch, int epochs, int64_t step, int64_t steps, double loss,
                        double accuracy, double lr, double rate, double eta_seconds) {
    return "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs) + "  step " +
           std::to_string(step) + "/" + std::to_string(steps) + "  loss " + fmt("%.4f", loss) +
           "  acc " + fmt("%.2f%%", 100 * accuracy) + "  lr " + fmt("%.4g", lr) + "  " +
           fmt("%.0f", rate) + " img/s  ETA " + clock_text(eta_seconds);
}

// ---- schedule ---------------------------------------------------------------------------------

std::shared_ptr<const LrSchedule> make_schedule(const TrainRecipe& r) {
    const int64_t after = r.epochs - r.warmup_epochs;  // epochs the main schedule spans
    std::shared_ptr<const LrSchedule> s;
    if (r.schedule == "cosine") {
        s = std::make_shared<CosineAnnealingLR>(r.lr, std::max<int64_t>(after, 1));
    } else if (r.schedule == "step") {
        s = std::make_shared<StepLR>(r.lr, r.step_size, r.gamma);
    } else if (r.schedule == "multistep") {
        s = std::make_shared<MultiStepLR>(
            r.lr, std::vector<int64_t>(r.milestones.begin(), r.milestones.end()), r.gamma);
    } else {
        s = std::make_shared<StepLR>(r.lr, int64_t(1) << 40, 1.0);  // constant
    }
    if (r.warmup_epochs > 0) s = std::make_shared<LinearWarmup>(s, r.warmup_epochs, 0.1);
    return s;
}

// ---- checkpoints ------------------------------------------------------------------------------

std::string history_json(const std::vector<TrainEpoch>& history) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < history.size(); ++i) {
        const TrainEpoch& e = history[i];
        s << (i ? "," : "") << "{\"epoch\":" << e.epoch << ",\"lr\":" << fmt("%.17g", e.lr)
          << ",\"loss\":" << fmt("%.17g", e.loss) << ",\"train_acc\":" << fmt("%.17g", e.train_acc)
          << ",\"val_acc\":" << fmt("%.17g", e.val_acc) << ",\"images\":" << e.images
          << ",\"seconds\":" << fmt("%.17g", e.seconds)
          << ",\"images_per_second\":" << fmt("%.17g", e.images_per_second) << "}";
    }
    s << "]";
    return s.str();
}

std::vector<TrainEpoch> parse_history(const std::string& text, const std::string& what) {
    const json::Value v = json::parse(text.data(), text.size(), what);
    OBL_CHECK(v.kind == json::Value::Kind::Array, what, ": history is not a JSON array");
    auto number = [&](const json::Value& o, const char* key) {
        const json::Value* f = o.find(key);
        OBL_CHECK(f && f->kind == json::Value::Kind::Number, what, ": history entry without '", key,
                  "'");
        return std::strtod(f->text.c_str(), nullptr);
    };
    std::vector<TrainEpoch> out;
    for (const json::Value& o : v.items) {
        OBL_CHECK(o.kind == json::Value::Kind::Object, what, ": history entry is not an object");
        TrainEpoch e;
        e.epoch = static_cast<int>(number(o, "epoch"));
        e.lr = number(o, "lr");
        e.loss = number(o, "loss");
        e.train_acc = number(o, "train_acc");
        e.val_acc = number(o, "val_acc");
        e.images = static_cast<int64_t>(number(o, "images"));
        e.seconds = number(o, "seconds");
        e.images_per_second = number(o, "images_per_second");
        out.push_back(e);
    }
    return out;
}

// Sgd creates a parameter's momentum buffer on its first step (as a copy of the gradient). To
// put saved buffers back, take one step that cannot move anything (lr 0: w - 0 * g == w exactly,
// the kernel computes in double) so that the buffers exist, then overwrite them.
// TODO(lead): an Sgd::set_momentum_buffer(i, t) would make this a plain assignment.
void restore_momentum(Sgd& opt, const std::vector<std::string>& names,
                      const std::map<std::string, Tensor>& saved, const std::string& what) {
    const std::vector<Tensor>& params = opt.params();
    std::vector<const Tensor*> source(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
        auto it = saved.find(kMomentumPrefix + names[i]);
        if (it == saved.end()) continue;
        OBL_CHECK(it->second.shape() == params[i].shape(), what, ": momentum of '", names[i],
                  "' has shape ", it->second.shape(), ", the parameter ", params[i].shape());
        source[i] = &it->second;
    }
    const double lr = opt.lr();
    opt.zero_grad();
    for (size_t i = 0; i < params.size(); ++i)
        if (source[i])
            Tensor(params[i]).set_grad(
                Tensor::zeros(params[i].shape(), params[i].dtype(), params[i].device()));
    opt.set_lr(0);
    opt.step();
    opt.set_lr(lr);
    opt.zero_grad();
    for (size_t i = 0; i < params.size(); ++i) {
        if (!source[i]) continue;
        Tensor buf = opt.momentum_buffer(i);
        OBL_ASSERT(buf.defined());
        buf.copy_(source[i]->to(buf.dtype()).to(buf.device()));
    }
}

void save_checkpoint(const std::string& path, const Classifier& model, const Sgd& opt,
                     const std::vector<std::string>& param_names, int epochs_done,
                     const std::string& hash, const std::string& init,
                     const std::vector<TrainEpoch>& history) {
    std::map<std::string, Tensor> tensors;
    for (const auto& [name, t] : model.state_dict()) tensors[kModelPrefix + name] = t;
    for (size_t i = 0; i < param_names.size(); ++i)
        if (opt.momentum_buffer(i).defined())
            tensors[kMomentumPrefix + param_names[i]] = opt.momentum_buffer(i);
    write_safetensors(path, tensors,
                      {{"format", kCheckpointFormat},
                       {"recipe_hash", hash},
                       {"epochs_done", std::to_string(epochs_done)},
                       {"arch", model.arch()},
                       {"init", init},
                       {"history", history_json(history)}});
}

// Loads `path` into model and opt; returns the number of epochs it holds.
int load_checkpoint(const std::string& path, Classifier& model, Sgd& opt,
                    const std::vector<std::string>& param_names, const std::string& hash,
                    const std::string& init, std::vector<TrainEpoch>& history) {
    SafetensorsFile f = read_safetensors(path);
    auto meta = [&](const char* key) {
        auto it = f.metadata.find(key);
        OBL_CHECK(it != f.metadata.end(), path, ": not an oblivio training checkpoint (no '", key,
                  "' in its metadata); remove it to start afresh");
        return it->second;
    };
    OBL_CHECK(meta("format") == kCheckpointFormat, path, ": checkpoint format '", meta("format"),
              "', expected '", kCheckpointFormat, "'");
    const std::string saved_hash = meta("recipe_hash");
    OBL_CHECK(saved_hash == hash, path, " was written by a different recipe (recipe hash ",
              saved_hash, ", this run's is ", hash,
              "): rerun with the same recipe and --set values, or delete the checkpoint to "
              "start afresh");
    OBL_CHECK(meta("init") == init, path, " started from initial weights '", meta("init"),
              "' but this run from '", init, "'; delete it to start afresh");
    int64_t done = 0;
    OBL_CHECK(detail::parse_field(meta("epochs_done"), &done) && done >= 1, path,
              ": bad epochs_done '", meta("epochs_done"), "'");
    StateDict state;
    for (const auto& [name, t] : f.tensors)
        if (name.rfind(kModelPrefix, 0) == 0)
            state[name.substr(std::string(kModelPrefix).size())] = t;
    try {
        model.load_state_dict(state, /*strict=*/true);
    } catch (const Error& e) {
        OBL_THROW(path, ": ", e.what());
    }
    restore_momentum(opt, param_names, f.tensors, path);
    history = parse_history(meta("history"), path);
    OBL_CHECK(static_cast<int64_t>(history.size()) == done, path, ": ", history.size(),
              " history entries for ", done, " epochs");
    return static_cast<int>(done);
}

// --init: every tensor by name (missing / unexpected names are errors); a tensor of another
// shape keeps its fresh value and is listed in the note.
void load_init_weights(Classifier& model, const std::string& path,
                       const std::function<void(const std::string&, bool)>& progress) {
    SafetensorsFile f = read_safetensors(path);
    std::string note = "initial weights from " + path;
    auto arch = f.metadata.find("arch");
    if (arch != f.metadata.end() && arch->second != model.arch())
        note += " (arch '" + arch->second + "', loaded by tensor name into " + model.arch() + ")";
    StateDict state;
    std::vector<std::string> fresh;
    for (const auto& [name, t] : model.state_dict()) {
        auto it = f.tensors.find(name);
        if (it != f.tensors.end() && it->second.shape() != t.shape()) {
            fresh.push_back(name + " " + it->second.shape().str() + " -> " + t.shape().str());
            state[name] = t.clone();
        } else if (it == f.tensors.end() && name.size() > 20 &&
                   name.compare(name.size() - 20, 20, ".num_batches_tracked") == 0) {
            state[name] = Tensor::zeros({}, DType::I64);  // PyTorch < 0.4.1 checkpoints
        }
    }
    for (const auto& [name, t] : f.tensors)
        if (!state.count(name)) state[name] = t;
    try {
        model.load_state_dict(state, /*strict=*/true);
    } catch (const Error& e) {
        OBL_THROW("--init ", path, ": ", e.what());
    }
    if (!fresh.empty()) {
        note += "; tensors of another shape keep their fresh values:";
        for (const std::string& n : fresh) note += " " + n + ";";
        note.pop_back();
    }
    if (progress) progress(note, true);
}

// ---- the numerical guard ----------------------------------------------------------------------

// The model's floating-point state: parameters and buffers (BatchNorm running statistics).
NamedTensors float_state(const Classifier& model) {
    NamedTensors out;
    for (const NamedTensors& group : {model.named_parameters(), model.named_buffers()})
        for (const auto& [name, t] : group)
            if (is_floating(t.dtype())) out.push_back({name, t});
    return out;
}

// The name of the first tensor of `state` holding a NaN or an infinity, or "" when all are
// finite. Cheap on every step: one sum per tensor on its device and a single host sync (a sum is
// finite whenever every term is, unless the terms are so large that it overflows); only a
// non-finite total pays for the exact element-by-element scan that names the tensor.
std::string first_non_finite(const NamedTensors& state) {
    NoGradGuard no_grad;
    Tensor total;
    for (const auto& [name, t] : state) {
        const Tensor s = sum_all(t);
        total = total.defined() ? add(total, s) : s;
    }
    if (!total.defined() || std::isfinite(total.item())) return "";
    for (const auto& [name, t] : state)
        for (double v : t.to_vector<double>())
            if (!std::isfinite(v)) return name;
    return "";  // finite values whose sum overflowed: not divergence by this test
}

}  // namespace

// ---- recipes ----------------------------------------------------------------------------------

void set_recipe_field(TrainRecipe& recipe, const std::string& key, const std::string& text,
                      const std::string& where) {
    bool found = false;
    fields(recipe,
           [&](const char* name, auto& value, const char*, const FieldRange& range = kAnyValue) {
               using T = std::decay_t<decltype(value)>;
               if (found || key != name) return;
               found = true;
               T parsed{};
               OBL_CHECK(detail::parse_field(text, &parsed) && detail::field_ok(parsed, range),
                         where, ": bad value '", text, "' for '", key, "' (expected ",
                         expected_text(detail::field_type_name<T>(), range), ")");
               value = parsed;
           });
    OBL_CHECK(found, where, ": unknown key '", key, "'; valid keys: ", valid_keys());
}

void check_recipe(const TrainRecipe& recipe) {
    TrainRecipe copy = recipe;
    fields(copy,
           [&](const char* name, auto& value, const char*, const FieldRange& range = kAnyValue) {
               using T = std::decay_t<decltype(value)>;
               OBL_CHECK(detail::field_ok(value, range), "recipe: bad value '",
                         detail::format_field(value), "' for '", name, "' (expected ",
                         expected_text(detail::field_type_name<T>(), range), ")");
           });
    try {
        zoo_entry(recipe.arch);
    } catch (const Error& e) {
        OBL_THROW("recipe: arch: ", e.what());
    }
    const std::vector<std::string>& names = dataset_names();
    if (std::find(names.begin(), names.end(), recipe.dataset) == names.end()) {
        std::string valid;
        for (const std::string& n : names) valid += (valid.empty() ? "" : ", ") + n;
        OBL_THROW("recipe: unknown dataset '", recipe.dataset, "'; valid datasets: ", valid);
    }
    const std::set<std::string> schedules{"cosine", "step", "multistep", "constant"};
    OBL_CHECK(schedules.count(recipe.schedule), "recipe: unknown schedule '", recipe.schedule,
              "'; valid schedules: cosine, step, multistep, constant");
    OBL_CHECK(recipe.interpolation == "bilinear" || recipe.interpolation == "bicubic",
              "recipe: unknown interpolation '", recipe.interpolation,
              "'; valid: bilinear, bicubic");
    OBL_CHECK(!recipe.nesterov || recipe.momentum > 0,
              "recipe: nesterov needs momentum > 0 (momentum is ", recipe.momentum, ")");
    OBL_CHECK(recipe.schedule != "multistep" || !recipe.milestones.empty(),
              "recipe: schedule multistep needs milestones (e.g. milestones: [100, 150])");
    OBL_CHECK(recipe.warmup_epochs < recipe.epochs, "recipe: warmup_epochs (", recipe.warmup_epochs,
              ") must be less than epochs (", recipe.epochs, ")");
    std::set<int> seen;
    for (int c : recipe.exclude_classes) {
        OBL_CHECK(seen.insert(c).second, "recipe: exclude_classes lists class ", c, " twice");
        OBL_CHECK(recipe.num_classes == 0 || c < recipe.num_classes,
                  "recipe: exclude_classes: ", "class ", c, " is outside [0, ", recipe.num_classes,
                  ")");
    }
    OBL_CHECK(recipe.num_classes == 0 || static_cast<int>(seen.size()) < recipe.num_classes,
              "recipe: exclude_classes leaves no class to train");
}

TrainRecipe load_recipe(const std::string& yaml_path, const Overrides& overrides) {
    TrainRecipe recipe;
    YAML::Node root;
    try {
        root = YAML::LoadFile(yaml_path);
    } catch (const YAML::BadFile&) {
        OBL_THROW("cannot read recipe file ", yaml_path);
    } catch (const YAML::Exception& e) {
        OBL_THROW(yaml_path, ": not valid YAML: ", e.what());
    }
    OBL_CHECK(root.IsNull() || root.IsMap(), yaml_path,
              ": a recipe is a flat map of `key: value` lines");
    if (root.IsMap()) {
        for (const auto& kv : root) {
            const std::string where = yaml_path + ":" + std::to_string(kv.first.Mark().line + 1);
            OBL_CHECK(kv.first.IsScalar(), where, ": keys must be plain names");
            const std::string key = kv.first.Scalar();
            const YAML::Node& v = kv.second;
            std::string text;
            if (v.IsScalar()) {
                text = v.Scalar();
            } else if (v.IsSequence()) {
                for (const auto& item : v) {
                    OBL_CHECK(item.IsScalar(), where, ": '", key, "' must be a list of numbers");
                    text += (text.empty() ? "" : ",") + item.Scalar();
                }
            } else if (!v.IsNull()) {
                OBL_THROW(where, ": '", key, "' is a nested map; a recipe is a flat map");
            }
            set_recipe_field(recipe, key, text, where);
        }
    }
    for (const auto& [key, text] : overrides)
        set_recipe_field(recipe, key, text, "--set " + key + "=" + text);
    try {
        check_recipe(recipe);
    } catch (const Error& e) {
        OBL_THROW(yaml_path, ": ", e.what());
    }
    return recipe;
}

std::string recipe_hash(const TrainRecipe& recipe) {
    std::vector<FieldInfo> f = describe_fields(recipe);
    f.erase(
        std::remove_if(f.begin(), f.end(), [](const FieldInfo& i) { return i.name == "workers"; }),
        f.end());
    return config_hash("train_recipe", f);
}

std::string recipe_json(const TrainRecipe& recipe) {
    std::string s = "{";
    for (const FieldInfo& f : describe_fields(recipe)) {
        std::string v = f.value;
        if (f.type == "string") v = json::quote(v);
        if (f.type == "int list") v = "[" + v + "]";
        s += (s.size() > 1 ? ", " : "") + json::quote(f.name) + ": " + v;
    }
    return s + "}";
}

// ---- inputs -----------------------------------------------------------------------------------

namespace {
InterpMode interp_mode(const TrainRecipe& r) {
    return r.interpolation == "bicubic" ? InterpMode::Bicubic : InterpMode::Bilinear;
}
}  // namespace

std::shared_ptr<const Compose> eval_transforms(const TrainRecipe& recipe) {
    const ZooEntry& e = zoo_entry(recipe.arch);
    std::vector<TransformPtr> t;
    if (recipe.resize > 0) t.push_back(resize(recipe.resize, recipe.resize, interp_mode(recipe)));
    t.push_back(normalize(e.mean, e.std));
    return std::make_shared<Compose>(t);
}

std::shared_ptr<const Compose> train_transforms(const TrainRecipe& recipe, const Shape& sample) {
    const ZooEntry& e = zoo_entry(recipe.arch);
    OBL_CHECK(sample.size() == 3, "training samples must be (C, H, W) images, got ", sample);
    std::vector<TransformPtr> t;
    if (recipe.augment) {
        t.push_back(random_crop(sample[1], sample[2], recipe.crop_padding));
        t.push_back(horizontal_flip(0.5));
    }
    if (recipe.rotation > 0) t.push_back(random_rotation(recipe.rotation));
    if (recipe.resize > 0) t.push_back(resize(recipe.resize, recipe.resize, interp_mode(recipe)));
    t.push_back(normalize(e.mean, e.std));
    return std::make_shared<Compose>(t);
}

double Accuracy::per_class(int c) const {
    const size_t i = static_cast<size_t>(c);
    return count[i] ? static_cast<double>(correct[i]) / static_cast<double>(count[i]) : 0.0;
}

Accuracy evaluate_accuracy(Classifier& model, std::shared_ptr<const Dataset> data,
                           std::shared_ptr<const Compose> transforms, Device device,
                           int64_t batch_size, int num_workers) {
    LoaderOptions o;
    o.batch_size = batch_size;
    o.shuffle = false;
    o.num_workers = num_workers;
    o.transforms = std::move(transforms);
    DataLoader loader(data, o);
    const size_t k = static_cast<size_t>(model.num_classes());
    Accuracy acc;
    acc.correct.assign(k, 0);
    acc.count.assign(k, 0);
    model.eval();
    NoGradGuard no_grad;
    loader.start_epoch(0);
    Batch b;
    int64_t hits = 0, total = 0;
    while (loader.next(b)) {
        const std::vector<int64_t> pred =
            argmax(model.forward(b.x.to(device)), 1).to_vector<int64_t>();
        const std::vector<int64_t> y = b.y.to_vector<int64_t>();
        for (size_t i = 0; i < y.size(); ++i) {
            OBL_CHECK(y[i] >= 0 && static_cast<size_t>(y[i]) < k, "label ", y[i],
                      " outside the model's ", k, " classes");
            acc.count[static_cast<size_t>(y[i])] += 1;
            acc.correct[static_cast<size_t>(y[i])] += pred[i] == y[i];
            hits += pred[i] == y[i];
        }
        total += static_cast<int64_t>(y.size());
    }
    acc.top1 = total ? static_cast<double>(hits) / static_cast<double>(total) : 0.0;
    return acc;
}

// ---- training ---------------------------------------------------------------------------------

TrainOutcome train_on(const TrainRecipe& recipe_in, std::shared_ptr<const Dataset> train,
                      std::shared_ptr<const Dataset> val, const std::string& out,
                      const TrainOptions& options) {
    const auto start = Clock::now();
    OBL_CHECK(train != nullptr, "train_on: no training set");
    TrainRecipe recipe = recipe_in;
    if (recipe.num_classes == 0) recipe.num_classes = train->num_classes();
    check_recipe(recipe);
    OBL_CHECK(recipe.num_classes >= train->num_classes(), "recipe: num_classes ",
              recipe.num_classes, " is smaller than the dataset's ", train->num_classes(),
              " classes");
    const ZooEntry& entry = zoo_entry(recipe.arch);
    const Shape sample = train->sample_shape();
    OBL_CHECK(sample.size() == 3 && sample[0] == entry.in_channels, recipe.arch, " takes ",
              entry.in_channels, "-channel (C, H, W) images; the training samples are ", sample);
    if (!recipe.exclude_classes.empty()) {
        train = filter_classes(train, recipe.exclude_classes, /*keep=*/false);
        if (val) val = filter_classes(val, recipe.exclude_classes, /*keep=*/false);
    }
    OBL_CHECK(train->size() > 0, "no training images left (after exclude_classes ",
              join_ints(recipe.exclude_classes), ")");
    const std::string hash = recipe_hash(recipe);
    const std::string ckpt = out + ".ckpt";
    auto say = [&](const std::string& line, bool keep) {
        if (options.progress) options.progress(line, keep);
    };

    // The model: the zoo's structure, the recipe seed's values (then --init, if any).
    std::shared_ptr<Classifier> model = make_model(recipe.arch, recipe.num_classes);
    reinitialise(*model, static_cast<uint64_t>(recipe.seed));
    if (!options.init_weights.empty()) load_init_weights(*model, options.init_weights, say);
    model->to(options.device);
    std::vector<std::string> param_names;
    std::vector<Tensor> params;
    for (const auto& [name, p] : model->named_parameters()) {
        if (!p.requires_grad()) continue;
        param_names.push_back(name);
        params.push_back(p);
    }
    SgdOptions so;
    so.lr = recipe.lr;
    so.momentum = recipe.momentum;
    so.weight_decay = recipe.weight_decay;
    so.nesterov = recipe.nesterov;
    Sgd opt(params, so);
    const std::shared_ptr<const LrSchedule> schedule = make_schedule(recipe);

    TrainOutcome outcome;
    outcome.recipe_hash = hash;
    int first_epoch = 0;
    if (std::filesystem::exists(ckpt)) {
        first_epoch = load_checkpoint(ckpt, *model, opt, param_names, hash, options.init_weights,
                                      outcome.history);
        OBL_CHECK(first_epoch <= recipe.epochs, ckpt, " holds ", first_epoch,
                  " epochs, more than the recipe's ", recipe.epochs);
        outcome.resumed_from_epoch = first_epoch;
        say("resuming from " + ckpt + " after epoch " + std::to_string(first_epoch) + " of " +
                std::to_string(recipe.epochs),
            true);
    }

    LoaderOptions lo;
    lo.batch_size = recipe.batch_size;
    lo.shuffle = true;
    lo.seed = derive_seed(static_cast<uint64_t>(recipe.seed), kDataStream);
    lo.num_workers = recipe.workers;
    lo.transforms = train_transforms(recipe, sample);
    DataLoader loader(train, lo);
    const int64_t steps_per_epoch = loader.num_batches();
    const std::shared_ptr<const Compose> val_inputs = eval_transforms(recipe);
    // Divergence stops the run before anything is saved: a NaN/Inf loss before the step, a
    // NaN/Inf weight or running statistic after it. The output is never written (an existing one
    // stays as it was) and the checkpoint keeps the last good epoch.
    const NamedTensors state = float_state(*model);
    auto diverged = [&](int epoch, int64_t step, double lr, const std::string& what) {
        OBL_THROW("training diverged at epoch ", epoch + 1, " step ", step + 1, " of ",
                  steps_per_epoch, ": ", what, " (lr ", lr,
                  "); lower lr or add a warm-up (warmup_epochs). ", out, " was not written",
                  std::filesystem::exists(ckpt) ? "; " + ckpt + " keeps the last good epoch" : "");
    };

    int epochs_this_call = 0;
    for (int epoch = first_epoch; epoch < recipe.epochs; ++epoch) {
        if (options.stop_after_epochs >= 0 && epochs_this_call >= options.stop_after_epochs) break;
        const auto epoch_start = Clock::now();
        const double lr = schedule->lr_at(epoch);
        opt.set_lr(lr);
        model->train();
        loader.start_epoch(epoch);
        double loss_sum = 0;
        int64_t correct = 0, seen = 0, step = 0;
        auto last_report = Clock::now();
        Batch b;
        while (loader.next(b)) {
            const Tensor x = b.x.to(options.device);
            const Tensor y = b.y.to(options.device);
            opt.zero_grad();
            const Tensor logits = model->forward(x);
            const Tensor loss = cross_entropy(logits, y, recipe.label_smoothing);
            const double l = loss.item();
            if (!std::isfinite(l)) diverged(epoch, step, lr, "loss is " + fmt("%g", l));
            backward(loss);
            opt.step();
            const std::string bad = first_non_finite(state);
            if (!bad.empty())
                diverged(epoch, step, lr, "'" + bad + "' is not finite after the step");
            const std::vector<int64_t> pred = argmax(logits.detach(), 1).to_vector<int64_t>();
            const std::vector<int64_t> labels = b.y.to_vector<int64_t>();
            for (size_t i = 0; i < labels.size(); ++i) correct += pred[i] == labels[i];
            seen += static_cast<int64_t>(labels.size());
            loss_sum += l;
            ++step;
            if (options.progress && (seconds_since(last_report) >= 0.5 || step == 1)) {
                last_report = Clock::now();
                const double t = seconds_since(epoch_start);
                const double rate = t > 0 ? static_cast<double>(seen) / t : 0.0;
                const double per_step = t / static_cast<double>(step);
                const double eta =
                    per_step * static_cast<double>((steps_per_epoch - step) +
                                                   (recipe.epochs - epoch - 1) * steps_per_epoch);
                say(status_line(epoch, recipe.epochs, step, steps_per_epoch,
                                loss_sum / static_cast<double>(step),
                                static_cast<double>(correct) / static_cast<double>(seen), lr, rate,
                                eta),
                    false);
            }
        }
        TrainEpoch e;
        e.epoch = epoch;
        e.lr = lr;
        e.loss = step ? loss_sum / static_cast<double>(step) : 0.0;
        e.train_acc = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0.0;
        e.images = seen;
        e.seconds = seconds_since(epoch_start);
        e.images_per_second = e.seconds > 0 ? static_cast<double>(seen) / e.seconds : 0.0;
        if (val && val->size() > 0)
            e.val_acc = evaluate_accuracy(*model, val, val_inputs, options.device, 256,
                                          std::min(recipe.workers, 1))
                            .top1;
        model->eval();
        outcome.history.push_back(e);
        ++epochs_this_call;
        say("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(recipe.epochs) + "  loss " +
                fmt("%.4f", e.loss) + "  train acc " + fmt("%.2f%%", 100 * e.train_acc) +
                (e.val_acc >= 0 ? "  val acc " + fmt("%.2f%%", 100 * e.val_acc) : "") + "  lr " +
                fmt("%.4g", lr) + "  " + fmt("%.1f", e.seconds) + " s  " +
                fmt("%.0f", e.images_per_second) + " img/s",
            true);
        if (epoch + 1 < recipe.epochs)
            save_checkpoint(ckpt, *model, opt, param_names, epoch + 1, hash, options.init_weights,
                            outcome.history);
    }

    model->eval();
    model->to(Device::cpu());
    outcome.model = model;
    const int done = outcome.history.empty() ? 0 : outcome.history.back().epoch + 1;
    outcome.finished = done == recipe.epochs;
    if (outcome.finished) {
        model->save_safetensors(out, {{"arch", recipe.arch},
                                      {"num_classes", std::to_string(recipe.num_classes)},
                                      {"dataset", recipe.dataset},
                                      {"recipe_hash", hash},
                                      {"recipe", recipe_json(recipe)},
                                      {"exclude_classes", join_ints(recipe.exclude_classes)},
                                      {"epochs", std::to_string(recipe.epochs)},
                                      {"init", options.init_weights},
                                      {"source", "oblivio train"}});
        std::error_code ec;
        std::filesystem::remove(ckpt, ec);
        remove_stale_temporaries(ckpt);  // of checkpoint writes cut short by a kill
    }
    outcome.seconds = seconds_since(start);
    return outcome;
}

TrainOutcome train_model(const TrainRecipe& recipe, const std::string& data_root,
                         const std::string& out, const TrainOptions& options) {
    check_recipe(recipe);
    const std::string root = data_root.empty() ? default_dataset_root(recipe.dataset) : data_root;
    OBL_CHECK(!root.empty(), "dataset ", recipe.dataset,
              " has no default root: pass the data directory (--root DIR)");
    std::shared_ptr<const Dataset> train = open_dataset(recipe.dataset, root, DataSplit::Train);
    std::shared_ptr<const Dataset> val;
    if (recipe.val_per_class > 0) {
        TrainValSplit s = split_train_val(train, recipe.val_per_class);
        train = s.train;
        val = s.val;
    }
    return train_on(recipe, train, val, out, options);
}

}  // namespace obl
