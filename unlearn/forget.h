// The library-level forget driver behind `oblivio forget` (experiments/cmd_forget.cpp):
//   split the classifier at the cut -> sample synthetic embeddings from the head (source-free) ->
//   run the method on the head with the data-free SelectionMonitor (unlearn/selection.h) ->
//   reassemble the full classifier (same parameter names as the input) -> a report.
// Optional real evaluation (reporting only, never used to choose anything): real test embeddings
// are computed ONCE at the cut (body forward under NoGradGuard) and the head is evaluated on them
// before and after.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/classifier.h"
#include "unlearn/method.h"
#include "unlearn/selection.h"
#include "unlearn/synthetic.h"

namespace obl {

struct ForgetRequest {
    std::vector<int> classes;  // the forget classes
    // Sequential requests: classes an EARLIER request already removed (oblivio forget reads them
    // from the input model's 'forgotten_classes' metadata). They get no synthetic draws (the head
    // no longer predicts them), stay forgotten (the method sees them as forget classes, so no
    // relabelling sends a sample to them) and are left out of the retain agreement. Must not
    // overlap `classes`.
    std::vector<int> previously_forgotten;
    std::string method;   // a methods() name
    Overrides overrides;  // method key=value settings
    std::string cut = "pre_logits";
    SamplerConfig sampler;  // per_class, distribution, ...
    uint64_t seed = 0;
    SelectionConfig selection;
    Device device = Device::cpu();
    // The training source. Null (the default): synthetic draws from the head (source-free). Set:
    // real embeddings at the cut with their true labels (embed_at_cut on a TRAIN split), used
    // instead of synthetic draws, for the paper's real-vs-synthetic comparison. The method is
    // the same; the data-free monitor still records every epoch on held-out SYNTHETIC draws,
    // but a real-source run trains the method's whole epoch budget and keeps its last epoch
    // (stop reason "budget (real source)"), as the paper's real-data baselines do (the
    // synthetic signals say little about a head trained on real embeddings); only a non-finite
    // last epoch falls back to the monitor's selection.
    std::shared_ptr<const Dataset> real_train;
    // Tracing (calibration, unlearning curves): run the method's whole epoch budget. The monitor
    // still records every epoch and selects what the rule would have selected without tracing
    // (the first epoch that stopped it), so the output model is the same; with eval embeddings,
    // real accuracy is also measured after every epoch (ForgetReport::eval_trace, reporting only).
    bool trace = false;
    // One line per epoch ("epoch 3  loss ...  synF ...  margin ...  synR ...").
    std::function<void(const std::string&)> progress;
};

// Real test embeddings at the cut (labels included), computed once.
struct RealEmbeddings {
    std::shared_ptr<TensorDataset> data;
    std::string dataset;  // name, for the report
};
// Runs `body` over `images` (raw uint8 images with input_shape[0] channels; resized to the
// input_shape's H x W and normalised with mean/std) under NoGradGuard.
RealEmbeddings embed_real(Module& body, std::shared_ptr<const Dataset> images,
                          const Shape& input_shape, const std::vector<float>& mean,
                          const std::vector<float>& stddev, Device device, const std::string& name);

struct HeadAccuracy {
    std::vector<int64_t> correct, count;  // per class
    double forget = 0, retain = 0;        // pooled accuracy on forget / retain samples
};
HeadAccuracy evaluate_head(Module& head, const TensorDataset& embeddings,
                           const std::vector<int>& forget_classes, Device device);

struct ForgetReport {
    std::string arch, method, cut, cut_stage, config_hash;
    std::vector<FieldInfo> config;
    std::vector<int> classes;
    std::vector<int> previously_forgotten;
    uint64_t seed = 0;
    SamplerConfig sampler;
    SampleStats sample_stats;
    SelectionConfig selection;
    std::vector<EpochStats> epochs;
    std::vector<SelectionStats> selection_history;
    SelectionStats original, selected;
    std::string stop_reason;
    double sampling_seconds = 0, training_seconds = 0, selection_seconds = 0;
    bool has_eval = false;
    std::string eval_dataset;
    HeadAccuracy before, after;
    std::vector<HeadAccuracy> eval_trace;  // with trace and eval: after each epoch, in order
    std::string source = "synthetic";      // "synthetic" | "real"
    std::string head;                      // HeadStructure::describe() of the trained head
    // Caveats the user must read (one sentence each), e.g. that the data-free rule's
    // "forgotten" is not calibrated for deep heads (unlearn/head_defaults.h).
    std::vector<std::string> warnings;

    std::string to_json() const;
};

struct ForgetResult {
    std::shared_ptr<Classifier> model;  // the full classifier, unlearned head stages
    ForgetReport report;
    bool admissible() const { return report.selected.admissible; }
};

// Throws obl::Error when `req` cannot run on `original`: unknown method, bad method/selection/
// sampler settings, classes out of range, duplicated or all of them. Cheap (no model forward).
void check_forget_request(const Classifier& original, const ForgetRequest& req);

// embed_real on the body of `model` split at `cut` (a copy of the model on `device`).
RealEmbeddings embed_at_cut(const Classifier& model, const Shape& input_shape,
                            const std::string& cut, std::shared_ptr<const Dataset> images,
                            const std::vector<float>& mean, const std::vector<float>& stddev,
                            Device device, const std::string& name);

// Throws obl::Error for a bad request (unknown method / cut, bad classes, bad --set values).
// `input_shape`: one sample's shape, e.g. (3, 32, 32). `eval_embeddings` (optional): real test
// embeddings at the same cut (embed_at_cut), used only to report accuracy before and after.
ForgetResult run_forget(const Classifier& original, const Shape& input_shape,
                        const ForgetRequest& request,
                        const std::shared_ptr<TensorDataset>& eval_embeddings = nullptr,
                        const std::string& eval_name = "");

}  // namespace obl
