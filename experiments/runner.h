// The experiment runner behind `oblivio run <experiment.yaml>` (experiments/cmd_run.cpp).
//
// An experiment (experiments/config.h) expands into ROWS, in this order, for each dataset and
// each class set:
//   original   the original model measured for that class set (A_r, A_f, MIA, probe, ...)
//   oracle     the model retrained without the class set (when the file has an `oracle:`)
//   unlearn    one per cut x method x source x seed x ablation value (synthetic source only;
//              real-source rows have no ablation axis)
// Each row has a stable row_id: a readable part plus a hash of everything that defines it
// (experiment, arch, dataset, model source, kind, method + resolved config hash, source, cut,
// classes, seed, sampler and selection settings, axes). Rows whose id is already in
// <out>/<name>/results.jsonl are skipped, so a killed run resumes with no lost and no duplicated
// rows (experiments/results.h: one fsync'ed line per row, torn last lines repaired).
//
// One unlearn row:
//   1. run_forget (unlearn/forget.h) on the original: synthetic draws from the head, or (source
//      real) the cached real TRAIN embeddings at the cut with ForgetRequest::real_train; trace on,
//      with the cached TEST embeddings, so the per-epoch curve (data-free signals + real
//      accuracy) is recorded for reporting; the model is the one the data-free rule selected.
//   2. metrics through the unlearned head on the cached embeddings (reporting only: nothing is
//      chosen on test data; every metric is in unlearn/metrics.h):
//        A_r_test, A_f_test / A_r_train, A_f_train   accuracy on retain / forget rows
//        AUS        with A_or = the original's retain test accuracy for the class set
//        MIA_I      SVC on true-class confidence: members retain-train, non-members test,
//                   targets forget-train (share of targets judged non-members)
//        MIA_II     logistic regression on per-sample loss, forget-train vs forget-test (5-fold)
//        probe_forget  linear probe ("forget class or not") trained on TRAIN features and tested
//                   on TEST features. Head-only unlearning does not change the features AT the cut,
//                   so the probe reads the head's penultimate output (the input of its last stage)
//                   when the head has more than one stage (last_block cuts); for a one-stage head
//                   (pre_logits) that output is the cut itself, identical to the original's, and
//                   the probe is reported once per model on the original/oracle rows instead.
//        JS_oracle  mean JS distance to the oracle's softmax on the test set, when the oracle row
//                   of the class set is part of this run (the oracle is trained if needed) or an
//                   earlier run left the oracle in the model cache
//   timing: sampling_s, training_s, selection_s (from the forget report), total_s (the whole row).
// Original/oracle rows carry the same metrics for the model itself, measured at its penultimate
// features (the input of the last stage), with probe_forget there.
//
// Embeddings are cached as safetensors in <out>/cache/embeddings/ (data/embed.h), keyed by the
// model's weights, the resolved cut stage, dataset, split, val_per_class and input size. Trained
// originals and oracles are cached in <out>/cache/models/, named by recipe hash (oblivio train
// checkpoints make an interrupted training resumable).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "experiments/config.h"
#include "experiments/results.h"
#include "models/classifier.h"
#include "nn/device.h"

namespace obl {

struct RowSpec {
    std::string row_id;
    std::string dataset;
    std::string kind;          // "original" | "oracle" | "unlearn"
    std::vector<int> classes;  // the forget classes
    // unlearn rows only:
    std::string method, method_label, source, cut;
    Overrides method_set;
    int64_t seed = 0;
    int64_t samples_per_class = 0;
    std::string dist;
    double sigma = 1.0;
    std::string config_hash;                                // the method's resolved config hash
    std::vector<std::pair<std::string, std::string>> axes;  // k, samples_per_class, dist, sigma

    // The value of a --only key for this row ("" when the row has no such field).
    std::string field(const std::string& key) const;
};

// Every row of the experiment, in run order (see the top of this file). Throws on an invalid
// class set.
std::vector<RowSpec> expand_rows(const ExperimentConfig& cfg);

// --only filters: rows kept when, for every key, the row's value equals one of the values given
// for that key (several --only with the same key are alternatives). Keys: dataset, kind, method
// (name or label), source, cut, classes ("3" or "3,5"), seed, k, samples_per_class, dist, sigma.
// An unknown key throws listing the valid ones. Rows lacking a field (original/oracle rows have
// no method) do not match a filter on it.
using RowFilter = std::vector<std::pair<std::string, std::string>>;
std::vector<RowSpec> filter_rows(const std::vector<RowSpec>& rows, const RowFilter& only);
const std::vector<std::string>& row_filter_keys();

struct RunOptions {
    std::string data_root;                          // "" = the dataset's default root
    std::map<std::string, std::string> data_roots;  // per dataset name; before data_root
    std::string models_dir;  // where original.weights / oracle.init are looked up
    std::string out_dir = "runs";
    std::string recipes_dir;  // "" = recipes_dir(cfg) (the recipes/ folder next to the YAML)
    Device device = Device::cpu();
    RowFilter only;
    bool dry_run = false;  // list the rows (done / to do) and run nothing
    // One line per event (progress, warnings). Default: stdout.
    std::function<void(const std::string&)> log;

    // ---- hooks for tests (unset = the real thing) ----
    int stop_after_rows = -1;  // return (as if killed) after this many rows ran in this call
    // Opens a dataset split (default: open_dataset(name, data_root, split)).
    std::function<std::shared_ptr<const Dataset>(const std::string& dataset, DataSplit split)>
        open_data;
    // The oracle for a class set (default: train_model on the oracle recipe with
    // exclude_classes = classes, cached in <out>/cache/models/). Called only when the class
    // set's oracle row is part of the run.
    std::function<std::shared_ptr<Classifier>(const std::vector<int>& classes)> make_oracle;
};

struct RunSummary {
    int64_t rows = 0;      // rows of the experiment after --only
    int64_t skipped = 0;   // already in results.jsonl
    int64_t ran = 0;       // appended by this call
    int64_t failed = 0;    // threw (logged; not appended, so a rerun retries them)
    bool stopped = false;  // stop_after_rows cut the run short
    std::string results_path;
};

// Runs (or with dry_run lists) the experiment. Throws obl::Error for problems found before any
// row runs (unknown cut, missing weights or recipe, bad data); a row that fails later is logged
// and counted in `failed`.
RunSummary run_experiment(const ExperimentConfig& cfg, const RunOptions& options);

}  // namespace obl
