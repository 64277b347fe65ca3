// The forget driver (unlearn/forget.h): split -> synthetic sampling -> method + data-free monitor
// -> reassembled classifier + report.
#include "unlearn/forget.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "data/embed.h"
#include "kernels/common/check.h"
#include "models/split.h"
#include "nn/autograd.h"
#include "nn/io/json.h"
#include "nn/ops.h"
#include "unlearn/head_defaults.h"
#include "unlearn/methods.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    return buf;
}

template <class T>
std::string int_list(const std::vector<T>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

std::string stats_json(const SelectionStats& s) {
    return "{\"epoch\": " + std::to_string(s.epoch) +
           ", \"forget_agreement\": " + num(s.forget_agreement) +
           ", \"confident_forget_agreement\": " + num(s.confident_agreement) +
           ", \"margin\": " + num(s.margin) + ", \"relative_margin\": " + num(s.relative_margin) +
           ", \"retain_agreement\": " + num(s.retain_agreement) +
           ", \"forgotten\": " + (s.forgotten ? "true" : "false") +
           ", \"admissible\": " + (s.admissible ? "true" : "false") +
           ", \"finite\": " + (s.finite ? "true" : "false") + "}";
}

std::string accuracy_json(const HeadAccuracy& a) {
    std::string per = "[";
    for (size_t c = 0; c < a.count.size(); ++c)
        per += (c ? ", " : "") +
               num(a.count[c] ? static_cast<double>(a.correct[c]) / static_cast<double>(a.count[c])
                              : 0.0);
    per += "]";
    return "{\"forget\": " + num(a.forget) + ", \"retain\": " + num(a.retain) +
           ", \"per_class\": " + per + ", \"correct\": " + int_list(a.correct) +
           ", \"count\": " + int_list(a.count) + "}";
}

}  // namespace

RealEmbeddings embed_real(Module& body, std::shared_ptr<const Dataset> images,
                          const Shape& input_shape, const std::vector<float>& mean,
                          const std::vector<float>& stddev, Device device,
                          const std::string& name) {
    OBL_CHECK(input_shape.size() == 3, "forget: input shape must be (C, H, W), got ",
              input_shape.str());
    const Shape sample = images->sample_shape();
    OBL_CHECK(sample.size() == 3 && sample[0] == input_shape[0], "forget: the model takes ",
              input_shape[0], "-channel images; ", name, " samples are ", sample.str());
    EmbedOptions options;  // data/embed.h: resize, normalise, body forward in eval mode
    options.input_size = input_shape[1];
    options.mean = mean;
    options.std = stddev;
    options.device = device;
    RealEmbeddings r;
    r.data = embed(body, std::move(images), options);
    OBL_CHECK(r.data->size() > 0, "forget: evaluation set ", name, " is empty");
    r.dataset = name;
    return r;
}

HeadAccuracy evaluate_head(Module& head, const TensorDataset& embeddings,
                           const std::vector<int>& forget_classes, Device device) {
    const int k = embeddings.num_classes();
    HeadAccuracy a;
    a.correct.assign(static_cast<size_t>(k), 0);
    a.count.assign(static_cast<size_t>(k), 0);
    const bool was_training = head.is_training();
    head.train(false);
    for_each_prediction(head, embeddings, 1024, device, [&](const Batch& b, const Tensor& logits) {
        const std::vector<int64_t> pred = argmax(logits, 1).to_vector<int64_t>();
        const std::vector<int64_t> y = b.y.to(Device::cpu()).to_vector<int64_t>();
        for (size_t i = 0; i < y.size(); ++i) {
            a.count[static_cast<size_t>(y[i])] += 1;
            a.correct[static_cast<size_t>(y[i])] += pred[i] == y[i];
        }
    });
    head.train(was_training);
    int64_t fc = 0, fn = 0, rc = 0, rn = 0;
    for (int c = 0; c < k; ++c) {
        const bool f =
            std::find(forget_classes.begin(), forget_classes.end(), c) != forget_classes.end();
        (f ? fc : rc) += a.correct[static_cast<size_t>(c)];
        (f ? fn : rn) += a.count[static_cast<size_t>(c)];
    }
    a.forget = fn ? static_cast<double>(fc) / static_cast<double>(fn) : 0.0;
    a.retain = rn ? static_cast<double>(rc) / static_cast<double>(rn) : 0.0;
    return a;
}

void check_forget_request(const Classifier& original, const ForgetRequest& req) {
    find_method(req.method).resolve(req.overrides);
    check_config(req.selection, "selection");
    SamplerConfig sampler = req.sampler;
    if (sampler.distribution == SynthDistribution::Matched && sampler.matched_mean.empty())
        sampler.matched_mean = sampler.matched_std = {1.f};  // filled from the body in run_forget
    check_sampler_config(sampler);
    UnlearnData probe;
    probe.num_classes = original.num_classes();
    probe.forget_classes = req.classes;
    for (int c : req.previously_forgotten) {
        OBL_CHECK(std::find(req.classes.begin(), req.classes.end(), c) == req.classes.end(),
                  "class ", c, " was already forgotten by an earlier request (the model's ",
                  "forgotten_classes metadata)");
        probe.forget_classes.push_back(c);
    }
    probe.forget = probe.retain = std::make_shared<TensorDataset>(
        Tensor::zeros(Shape{1, 1}), Tensor::zeros(Shape{1}, DType::I64), original.num_classes());
    check_unlearn_data(probe);  // classes in range, no duplicates, not all
    original.resolve(req.cut);  // unknown split point -> obl::Error listing the valid ones
}

RealEmbeddings embed_at_cut(const Classifier& model, const Shape& input_shape,
                            const std::string& cut, std::shared_ptr<const Dataset> images,
                            const std::vector<float>& mean, const std::vector<float>& stddev,
                            Device device, const std::string& name) {
    std::shared_ptr<Classifier> work = model.clone_classifier();
    work->to(device);
    work->train(false);
    Split sp = split(*work, cut, input_shape);
    return embed_real(*sp.body, std::move(images), input_shape, mean, stddev, device, name);
}

ForgetResult run_forget(const Classifier& original, const Shape& input_shape,
                        const ForgetRequest& req,
                        const std::shared_ptr<TensorDataset>& eval_embeddings,
                        const std::string& eval_name) {
    const MethodInfo& method = find_method(req.method);
    ForgetReport rep;
    rep.config = method.resolve(req.overrides);  // validates the --set values
    rep.config_hash = config_hash(method.name, rep.config);
    rep.arch = original.arch();
    rep.method = method.name;
    rep.cut = req.cut;
    rep.classes = req.classes;
    rep.previously_forgotten = req.previously_forgotten;
    rep.seed = req.seed;
    rep.sampler = req.sampler;
    rep.selection = req.selection;
    check_config(req.selection, "selection");
    check_forget_request(original, req);

    // Work on a copy: the caller's model is never touched.
    std::shared_ptr<Classifier> work = original.clone_classifier();
    work->to(req.device);
    work->train(false);
    Split sp = split(*work, req.cut, input_shape);
    rep.cut_stage = sp.point;
    // Method settings for this head's structure (unlearn/head_defaults.h), before the user's.
    const Overrides overrides = with_head_defaults(method.name, *sp.head, req.overrides);
    const HeadStructure structure = head_structure(*sp.head);
    rep.head = structure.describe();
    if (structure.deep() && !req.real_train)
        rep.warnings.push_back(
            "the data-free stopping rule is calibrated on linear heads only; at a deep head "
            "(this cut) real forgetting has been measured to lag the synthetic one (see "
            "unlearn/head_defaults.h): check A_f on a validation split (--eval-split val)");
    rep.config = method.resolve(overrides);
    rep.config_hash = config_hash(method.name, rep.config);

    // Every class that must end up forgotten: this request's and the earlier ones'.
    std::vector<int> all_forgotten = req.classes;
    all_forgotten.insert(all_forgotten.end(), req.previously_forgotten.begin(),
                         req.previously_forgotten.end());
    // Earlier requests' classes get no draws (training or held-out): the head no longer
    // predicts them.
    SamplerConfig sampler = req.sampler;
    if (!req.previously_forgotten.empty()) {
        if (sampler.quotas.empty())
            sampler.quotas.assign(static_cast<size_t>(original.num_classes()), sampler.per_class);
        for (int c : req.previously_forgotten) sampler.quotas.at(static_cast<size_t>(c)) = 0;
    }
    // "matched" without explicit statistics: the ones the body stores (synthetic.h).
    if (sampler.distribution == SynthDistribution::Matched && sampler.matched_mean.empty()) {
        MatchedStats ms = matched_stats(*sp.body, sp.embedding_shape);
        sampler.matched_mean = std::move(ms.mean);
        sampler.matched_std = std::move(ms.stddev);
    }

    std::shared_ptr<TensorDataset> eval_data = eval_embeddings;
    if (eval_data) {
        OBL_CHECK(eval_data->num_classes() == original.num_classes(), "forget: ", eval_name,
                  " has ", eval_data->num_classes(), " classes but the model has ",
                  original.num_classes());
        rep.has_eval = true;
        rep.eval_dataset = eval_name;
        rep.before = evaluate_head(*sp.head, *eval_data, all_forgotten, req.device);
    }

    // Training set: synthetic draws from the head labelled by its argmax (source-free), or the
    // caller's real embeddings.
    auto t_sample = std::chrono::steady_clock::now();
    std::shared_ptr<const Dataset> train_set;
    if (req.real_train) {
        OBL_CHECK(req.real_train->num_classes() == original.num_classes(), "forget: real training ",
                  "embeddings have ", req.real_train->num_classes(), " classes, the model ",
                  original.num_classes());
        OBL_CHECK(req.real_train->sample_shape() == sp.embedding_shape, "forget: real training ",
                  "embeddings have shape ", req.real_train->sample_shape(), ", the cut ",
                  sp.embedding_shape);
        train_set = req.real_train;
        rep.source = "real";
    } else {
        SyntheticSet set = sample_embeddings(*sp.head, sp.embedding_shape, sampler, req.seed);
        rep.sample_stats = set.stats;
        train_set = as_dataset(set);
    }
    ClassSplit cs = split_by_classes(train_set, all_forgotten);
    UnlearnData data;
    data.forget = cs.forget;
    data.retain = cs.retain;
    data.num_classes = original.num_classes();
    data.forget_classes = all_forgotten;
    SelectionMonitor monitor(*sp.head, sp.embedding_shape, req.classes, sampler, req.seed,
                             req.selection);
    rep.sampling_seconds = seconds_since(t_sample);
    rep.original = monitor.original();

    // The method, with the data-free monitor.
    RunContext ctx;
    ctx.seed = req.seed;
    double monitor_seconds = 0;
    ctx.on_epoch_end = [&](int, const EpochStats& s) { rep.epochs.push_back(s); };
    ctx.monitor = [&](int epoch, Module& model) {
        const auto t = std::chrono::steady_clock::now();
        const bool stop = monitor.on_epoch(epoch, model);
        monitor_seconds += seconds_since(t);
        if (req.trace && eval_data)
            rep.eval_trace.push_back(evaluate_head(model, *eval_data, all_forgotten, req.device));
        const SelectionStats& s = monitor.history().back();
        if (req.progress) {
            char line[256];
            const double loss = rep.epochs.empty() ? 0.0 : rep.epochs.back().loss;
            std::snprintf(line, sizeof(line),
                          "epoch %d  loss %.4f  synF %.3f  synFconf %.3f  margin %+.2f (%+.2fx)  "
                          "synR %.3f%s",
                          epoch, loss, s.forget_agreement, s.confident_agreement, s.margin,
                          s.relative_margin, s.retain_agreement, stop ? "  -> stop" : "");
            req.progress(line);
        }
        // Real-source runs train the method's whole epoch budget, as the paper's real-data
        // baselines do: the synthetic held-out signals say little about a head trained on
        // real embeddings (they stopped e.g. scrub on real CIFAR-10 embeddings at epoch 0
        // with test A_f 78.9%), so they are recorded but decide nothing.
        return stop && !req.trace && !req.real_train;
    };
    auto t_train = std::chrono::steady_clock::now();
    std::unique_ptr<Module> trained = method.run(*sp.head, data, overrides, ctx);
    const bool last_finite = !monitor.history().empty() && monitor.history().back().finite;
    std::unique_ptr<Module> selected;
    if (req.real_train && last_finite) {  // the budget's last epoch (see ctx.monitor above)
        selected = std::move(trained);
        rep.selected = monitor.history().back();
        rep.stop_reason = "budget (real source)";
    } else {
        selected = monitor.finish(std::move(trained));
        rep.selected = monitor.selected();
        rep.stop_reason = monitor.stop_reason();
    }
    rep.training_seconds = seconds_since(t_train) - monitor_seconds;
    rep.selection_seconds = monitor_seconds;
    rep.selection_history = monitor.history();

    // Reassemble: the selected head's state into the working copy's head stages.
    sp.head->load_state_dict(selected->state_dict(), true);
    if (eval_data) rep.after = evaluate_head(*sp.head, *eval_data, all_forgotten, req.device);
    work->to(Device::cpu());
    work->train(false);
    ForgetResult result;
    result.model = work;
    result.report = std::move(rep);
    return result;
}

std::string ForgetReport::to_json() const {
    std::ostringstream o;
    o << "{\n  \"arch\": " << json::quote(arch) << ",\n  \"method\": " << json::quote(method)
      << ",\n  \"source\": " << json::quote(source) << ",\n  \"classes\": " << int_list(classes)
      << ",\n  \"previously_forgotten\": " << int_list(previously_forgotten)
      << ",\n  \"cut\": " << json::quote(cut) << ",\n  \"cut_stage\": " << json::quote(cut_stage)
      << ",\n  \"head\": " << json::quote(head) << ",\n  \"warnings\": [";
    for (size_t i = 0; i < warnings.size(); ++i) o << (i ? ", " : "") << json::quote(warnings[i]);
    o << "],\n  \"seed\": " << seed << ",\n  \"config_hash\": " << json::quote(config_hash)
      << ",\n  \"config\": {";
    for (size_t i = 0; i < config.size(); ++i)
        o << (i ? ", " : "") << json::quote(config[i].name) << ": " << json::quote(config[i].value);
    o << "},\n  \"sampler\": {\"distribution\": "
      << json::quote(synth_distribution_name(sampler.distribution))
      << ", \"sigma\": " << num(sampler.sigma) << ", \"per_class\": " << sampler.per_class
      << ", \"path\": " << json::quote(sample_stats.path) << ", \"draws\": " << sample_stats.draws
      << ", \"targeted_draws\": " << sample_stats.targeted_draws
      << ", \"acceptance_rate\": " << num(sample_stats.acceptance_rate()) << ", \"classes\": [";
    for (size_t c = 0; c < sample_stats.classes.size(); ++c) {
        const ClassSampleStats& s = sample_stats.classes[c];
        o << (c ? ", " : "") << "{\"class\": " << c << ", \"quota\": " << s.quota
          << ", \"hits\": " << s.hits << ", \"accepted\": " << s.accepted
          << ", \"hit_rate\": " << num(sample_stats.hit_rate(static_cast<int>(c)))
          << ", \"targeted_draws\": " << s.targeted_draws
          << ", \"targeted_accepted\": " << s.targeted_accepted << "}";
    }
    o << "]},\n  \"selection\": {\"per_class\": " << selection.per_class
      << ", \"confident_share\": " << num(selection.confident_share)
      << ", \"margin_ratio\": " << num(selection.margin_ratio)
      << ", \"tau_f\": " << num(selection.tau_f) << ", \"tau_r\": " << num(selection.tau_r)
      << "},\n  \"stop_reason\": " << json::quote(stop_reason)
      << ",\n  \"synthetic_original\": " << stats_json(original)
      << ",\n  \"synthetic_selected\": " << stats_json(selected) << ",\n  \"epochs\": [";
    for (size_t i = 0; i < epochs.size(); ++i) {
        const EpochStats& e = epochs[i];
        o << (i ? "," : "") << "\n    {\"epoch\": " << e.epoch << ", \"loss\": " << num(e.loss)
          << ", \"steps\": " << e.steps << ", \"seconds\": " << num(e.seconds);
        for (const SelectionStats& s : selection_history)
            if (s.epoch == e.epoch) o << ", \"synthetic\": " << stats_json(s);
        if (i < eval_trace.size()) o << ", \"real\": " << accuracy_json(eval_trace[i]);
        o << "}";
    }
    o << "],\n  \"epochs_run\": " << epochs.size() << ",\n  \"selected_epoch\": " << selected.epoch
      << ",\n  \"wall_seconds\": {\"sampling\": " << num(sampling_seconds)
      << ", \"training\": " << num(training_seconds)
      << ", \"selection\": " << num(selection_seconds) << "}";
    if (has_eval)
        o << ",\n  \"eval\": {\"dataset\": " << json::quote(eval_dataset)
          << ", \"before\": " << accuracy_json(before) << ", \"after\": " << accuracy_json(after)
          << "}";
    o << "\n}\n";
    return o.str();
}

}  // namespace obl
