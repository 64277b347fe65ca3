// The unlearning-method interface (DESIGN.md §G).
//
// A method is one function plus one config struct (unlearn/configs.h):
//     std::unique_ptr<Module> neg_grad(const Module& original, const UnlearnData& data,
//                                      const NegGradConfig& cfg, const RunContext& ctx);
// The contract, checked over the whole method table by tests/unlearn/test_methods.cpp:
//   1. it clones `original` (which stays bit-unchanged) and returns the trained clone;
//   2. it trains only parameters with requires_grad; frozen bodies, body BatchNorm buffers and
//      every module's running statistics do not move (models are run in eval mode throughout);
//   3. its device is the model's; 4. its randomness comes from ctx.seed through Philox, so the same
//      seed gives a bit-identical CPU result; 5. it never prints: it reports through
//      ctx.on_epoch_end and asks ctx.monitor whether to stop; 6. it sees no test data and selects
//      no checkpoint itself (DESIGN.md §O: the caller's monitor decides on synthetic data);
//   7. it calls the shared helpers of unlearn/train_loop.h explicitly (no base class).
// The same function runs on synthetic embeddings, real embeddings and images through a FrozenBody.
//
// Configs declare their fields ONCE, through a visitor:
//     template <class V> void fields(NegGradPlusConfig& c, V&& v) {
//         v("lr", c.lr, "learning rate", kPositive); ...
//     }
// and that list drives everything else, generically, here: key=value parsing for `--set` and
// YAML (unknown key -> obl::Error listing the valid keys; NaN, a negative epoch count or any value
// outside the field's range -> obl::Error naming the key and the value), validation of a config
// built in code, the `oblivio methods -v` listing (name, type, default, doc) and the config hash.
// Field types: bool, int, int64_t, float, double, std::string (free text; a range does not apply)
// and std::vector<int> (a list of integers, written "3,5"; empty = "").
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/common/check.h"
#include "nn/modules/module.h"

namespace obl {

class Dataset;  // data/dataset.h; code that reads the datasets includes it

// ---- the request --------------------------------------------------------------------------------

struct UnlearnData {
    std::shared_ptr<const Dataset> forget, retain;  // samples (x, y); x is what `model` consumes
    int num_classes = 0;
    // Every class that must end up forgotten. The retain classes are all the others. For a
    // sequential request (forget A, then B on the result) the second call lists {A, B}: its forget
    // set may hold samples of B only, but methods that relabel or mask must never send a sample to
    // A again.
    std::vector<int> forget_classes;
};

// Throws obl::Error when the request cannot be served: no datasets, classes out of range or
// duplicated, or every class forgotten (nothing would be left to keep).
void check_unlearn_data(const UnlearnData& data);
// The classes not in data.forget_classes, increasing.
std::vector<int> retain_classes(const UnlearnData& data);

// ---- the run ------------------------------------------------------------------------------------

struct EpochStats {
    int epoch = 0;
    double loss = 0;               // mean training loss over the epoch's steps
    int64_t steps = 0;             // optimizer steps in the epoch
    double forget_agreement = -1;  // data-free signals (DESIGN.md §O), -1 when not computed
    double retain_agreement = -1;
    double seconds = 0;  // wall time of the epoch (not part of any result)
};

struct RunContext {
    uint64_t seed = 0;
    // Called after every epoch (epoch = 0, 1, ...), before `monitor`.
    std::function<void(int epoch, const EpochStats&)> on_epoch_end;
    // Data-free monitoring (DESIGN.md §O): called after every epoch with the model being trained
    // (in eval mode). Returns true to stop training now; the method then returns the model as it
    // is. The monitor may run the model forward and clone it (to keep a snapshot) but must not
    // change it. Unset: every method runs its configured number of epochs.
    std::function<bool(int epoch, Module& model)> monitor;
};

// ---- config fields ------------------------------------------------------------------------------

// The allowed values of a numeric field: [lo, hi], with lo excluded when lo_open.
struct FieldRange {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false;

    bool contains(double v) const { return (lo_open ? v > lo : v >= lo) && v <= hi; }
    std::string describe() const;  // "> 0", ">= 1", "in [0, 1]", "any"
};
inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline const FieldRange kAnyValue{};
inline const FieldRange kNonNegative{0, kInf, false};
inline const FieldRange kPositive{0, kInf, true};
inline const FieldRange kUnitInterval{0, 1, false};
inline FieldRange at_least(double lo) { return FieldRange{lo, kInf, false}; }
inline FieldRange between(double lo, double hi) { return FieldRange{lo, hi, false}; }

// One field as listed by `oblivio methods -v` and recorded with a run.
struct FieldInfo {
    std::string name;
    std::string type;   // "float", "int", "bool", ...
    std::string value;  // canonical text (shortest form that parses back to the same value)
    std::string doc;
    std::string range;  // FieldRange::describe(), "" for bool
};

// key=value pairs, in order (a later pair overrides an earlier one with the same key).
using Overrides = std::vector<std::pair<std::string, std::string>>;
// "lr=0.05" -> {"lr", "0.05"}; throws obl::Error when there is no '=' or the key is empty.
std::pair<std::string, std::string> parse_key_value(const std::string& text);

namespace detail {

template <class T>
constexpr const char* field_type_name() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    if constexpr (std::is_same_v<T, int>) return "int";
    if constexpr (std::is_same_v<T, int64_t>) return "int64";
    if constexpr (std::is_same_v<T, float>) return "float";
    if constexpr (std::is_same_v<T, double>) return "double";
    if constexpr (std::is_same_v<T, std::string>) return "string";
    if constexpr (std::is_same_v<T, std::vector<int>>) return "int list";
}

// Canonical text of a value (floats: the shortest decimal that parses back exactly).
std::string format_field(bool v);
std::string format_field(int64_t v);
std::string format_field(float v);
std::string format_field(double v);
inline std::string format_field(int v) { return format_field(static_cast<int64_t>(v)); }
inline std::string format_field(const std::string& v) { return v; }
std::string format_field(const std::vector<int>& v);  // 3,5

// Parse `text` into *out; false when it is not a (finite) value of the type.
bool parse_field(const std::string& text, bool* out);
bool parse_field(const std::string& text, int* out);
bool parse_field(const std::string& text, int64_t* out);
bool parse_field(const std::string& text, float* out);
bool parse_field(const std::string& text, double* out);
bool parse_field(const std::string& text, std::string* out);       // any text
bool parse_field(const std::string& text, std::vector<int>* out);  // "3,5", "[3, 5]", ""

// Whether a value is acceptable: finite and inside the range (bools always are).
template <class T>
bool field_ok(const T& v, const FieldRange& r) {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
        return true;
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
        for (int x : v)
            if (!r.contains(static_cast<double>(x))) return false;
        return true;
    } else {
        const double d = static_cast<double>(v);
        return std::isfinite(d) && r.contains(d);
    }
}

[[noreturn]] void throw_bad_value(const std::string& method, const std::string& key,
                                  const std::string& value, const char* type,
                                  const FieldRange& range);

}  // namespace detail

// Every field of `cfg` with its current value.
template <class Config>
std::vector<FieldInfo> describe_fields(Config cfg) {
    std::vector<FieldInfo> out;
    fields(cfg, [&](const char* name, auto& value, const char* doc,
                    const FieldRange& range = kAnyValue) {
        using T = std::decay_t<decltype(value)>;
        out.push_back({name, detail::field_type_name<T>(), detail::format_field(value), doc,
                       (std::is_same_v<T, bool> || std::is_same_v<T, std::string>)
                           ? std::string()
                           : range.describe()});
    });
    return out;
}

// Throws obl::Error naming the first field whose value is not finite or out of its range.
template <class Config>
void check_config(const Config& cfg, const std::string& method) {
    Config copy = cfg;
    fields(copy,
           [&](const char* name, auto& value, const char*, const FieldRange& range = kAnyValue) {
               using T = std::decay_t<decltype(value)>;
               if (!detail::field_ok(value, range))
                   detail::throw_bad_value(method, name, detail::format_field(value),
                                           detail::field_type_name<T>(), range);
           });
}

// Sets the field `key` of `cfg` from text. Unknown key: obl::Error listing every valid key. Text
// that is not a finite value of the field's type, or is outside its range: obl::Error naming the
// key and the text.
template <class Config>
void set_field(Config& cfg, const std::string& method, const std::string& key,
               const std::string& text) {
    bool found = false;
    std::string valid;
    fields(cfg,
           [&](const char* name, auto& value, const char*, const FieldRange& range = kAnyValue) {
               using T = std::decay_t<decltype(value)>;
               valid += (valid.empty() ? "" : ", ") + std::string(name);
               if (found || key != name) return;
               found = true;
               T parsed{};
               if (!detail::parse_field(text, &parsed) || !detail::field_ok(parsed, range))
                   detail::throw_bad_value(method, key, text, detail::field_type_name<T>(), range);
               value = parsed;
           });
    OBL_CHECK(found, "method '", method, "' has no setting '", key, "'; valid settings: ", valid);
}

// The default config with `overrides` applied in order.
template <class Config>
Config config_from(const std::string& method, const Overrides& overrides) {
    Config cfg{};
    for (const auto& [key, text] : overrides) set_field(cfg, method, key, text);
    return cfg;
}

// A stable 64-bit FNV-1a hash (16 hex digits) of the method name and every "name=value" of the
// resolved config, in declaration order: equal configs hash equal, whatever overrides made them.
std::string config_hash(const std::string& method, const std::vector<FieldInfo>& resolved);

// ---- the method table's entry ---------------------------------------------------------------

struct MethodInfo {
    std::string name;
    std::string summary;            // one line for `oblivio methods`
    std::vector<FieldInfo> fields;  // the defaults
    // Trains a freshly initialised head (retrain_head) instead of adjusting the original: keeps
    // its learning rate at deep heads (unlearn/head_defaults.h explains why).
    bool fresh_head = false;
    // The full config after `overrides` (validated): what a run records next to its hash.
    std::function<std::vector<FieldInfo>(const Overrides& overrides)> resolve;
    // Runs the method with its default config plus `overrides`.
    std::function<std::unique_ptr<Module>(const Module& original, const UnlearnData& data,
                                          const Overrides& overrides, const RunContext& ctx)>
        run;
};

// The table entry of a method `fn(original, data, Config, ctx)`. The defaults are validated here,
// so a default outside its own range is caught by the table tests.
template <class Config, class Fn>
MethodInfo make_method(std::string name, std::string summary, Fn fn) {
    check_config(Config{}, name);
    MethodInfo m;
    m.name = name;
    m.summary = std::move(summary);
    m.fields = describe_fields(Config{});
    m.resolve = [name](const Overrides& overrides) {
        return describe_fields(config_from<Config>(name, overrides));
    };
    m.run = [name, fn](const Module& original, const UnlearnData& data, const Overrides& overrides,
                       const RunContext& ctx) {
        return fn(original, data, config_from<Config>(name, overrides), ctx);
    };
    return m;
}

}  // namespace obl
