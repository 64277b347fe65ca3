// Experiment results: one JSON object per line in `<out>/<experiment>/results.jsonl`, appended
// by `oblivio run` (experiments/runner.h) and read by `oblivio report` (experiments/report.h).
//
// A row is identified by `row_id`, a stable key built from everything that defines the row
// (experiment, kind, method, source, cut, classes, seed, axes, config hash): rerunning a sweep
// skips ids already present, so a killed sweep resumes with no lost and no duplicated rows.
//
// Crash safety: a row is appended with ONE write() of the whole line (O_APPEND) followed by
// fsync. A reader ignores a last line without its '\n' (a write cut by a kill), and the next
// append first truncates the file back to the last complete line, so a torn row never survives.
// A complete line that does not parse is an error naming the file and line (never skipped).
//
// Field names (the report's columns depend on them):
//   kind     "original" | "oracle" | "unlearn"
//   source   "synthetic" | "real" ("" for original / oracle rows)
//   metrics  A_r_test, A_f_test, A_r_train, A_f_train (accuracies in [0, 1]), AUS, MIA_I,
//            MIA_II_mean, MIA_II_std, probe_forget, JS_oracle (absent when not computed)
//   timing   sampling_s, training_s, selection_s, total_s (seconds)
//   axes     the swept variable(s) of an ablation, e.g. samples_per_class=500, dist=laplace, k=5
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nn/io/json.h"

namespace obl {

// One epoch of an unlearning run: the data-free signals and, for reporting only, real accuracies
// (-1 when not measured).
struct CurvePoint {
    int epoch = 0;
    double synthetic_forget = 0, synthetic_retain = 0, margin = 0;
    double real_forget = -1, real_retain = -1;
};

struct ResultRow {
    std::string experiment;  // the YAML's name
    std::string row_id;      // stable identity (see above)
    std::string table;       // which table of the experiment the row belongs to ("main", ...)
    std::string arch, dataset, kind, method, source, cut;
    std::vector<int> classes;
    int64_t seed = 0;
    std::string git_sha, config_hash;
    std::vector<std::pair<std::string, std::string>> config;  // resolved method fields, in order
    std::vector<std::pair<std::string, std::string>> axes;    // ablation variables, in order
    std::map<std::string, double> metrics;
    std::map<std::string, double> timing;
    std::string stop_reason;  // unlearn rows: the data-free rule's stop reason
    int selected_epoch = -1;
    std::vector<CurvePoint> curve;

    // One line, no '\n'; doubles as %.17g (they read back bit-identical). Throws obl::Error for
    // a non-finite number (JSON has none: leave an uncomputed metric out) or a repeated key in
    // config / axes.
    std::string to_json() const;
    // Every field to_json writes is required. Throws obl::Error (prefixed by `where`, e.g.
    // "results.jsonl:7") when one is missing or mistyped, a field is unknown, or kind is not one
    // of original / oracle / unlearn.
    static ResultRow from_json(const json::Value& v, const std::string& where);
};

class ResultsFile {
   public:
    // Reads `path` when it exists (see crash safety above); creates nothing yet.
    explicit ResultsFile(std::string path);
    const std::string& path() const { return path_; }
    const std::vector<ResultRow>& rows() const { return rows_; }
    bool has(const std::string& row_id) const;
    // Appends one row durably (creating the directory and file if needed). Throws if the id is
    // already present.
    void append(const ResultRow& row);

   private:
    std::string path_;
    std::vector<ResultRow> rows_;
    std::set<std::string> ids_;  // the row_ids of rows_
    int64_t valid_bytes_ = 0;    // length of the complete lines
};

// The current git commit of the source tree the binary was built from ("unknown" outside git).
std::string build_git_sha();

}  // namespace obl
