// Synthetic embeddings: the sampler of unlearn/synthetic.h (plain phase, cap, targeted phase).
// Kernels: kernels/synth_sample.h. The fused path replaces the paper's generator loop (which
// has no cap and can spin forever on a class the noise never hits).
#include "unlearn/synthetic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>
#include <utility>

#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"
#include "nn/modules/batch_norm.h"
#include "nn/modules/layer_norm.h"
#include "nn/modules/linear.h"
#include "nn/modules/sequential.h"
#include "nn/ops.h"

namespace obl {

namespace {

using kernels::SynthDist;

constexpr uint64_t kRegionElements = uint64_t(1) << kSynthRegionBits;
constexpr int kTargetedRegion0 = 16;  // region of class c's targeted proposals: 16 + c

uint64_t region_offset(uint64_t region) { return region << kSynthRegionBits; }

// ---- small RAII helpers -------------------------------------------------------------------------

// Runs the head in eval mode and restores its flag afterwards.
class EvalModeGuard {
   public:
    explicit EvalModeGuard(Module& m) : m_(m), was_training_(m.is_training()) {
        if (was_training_) m_.eval();
    }
    ~EvalModeGuard() {
        if (was_training_) m_.train(true);
    }
    EvalModeGuard(const EvalModeGuard&) = delete;
    EvalModeGuard& operator=(const EvalModeGuard&) = delete;

   private:
    Module& m_;
    bool was_training_;
};

// Turns graph recording on in its scope (the targeted phase's z-gradients).
class GradEnabledGuard {
   public:
    GradEnabledGuard() : prev_(GradMode::enabled()) { GradMode::set_enabled(true); }
    ~GradEnabledGuard() { GradMode::set_enabled(prev_); }
    GradEnabledGuard(const GradEnabledGuard&) = delete;
    GradEnabledGuard& operator=(const GradEnabledGuard&) = delete;

   private:
    bool prev_;
};

// ---- distributions ------------------------------------------------------------------------------

// Per-value vector of `shape` from `v`: numel values as given, or one per channel broadcast
// (rank 3: dim 0 over H x W; rank 2: the last dim over T).
std::vector<float> expand_per_value(const std::vector<float>& v, const Shape& shape,
                                    const char* what) {
    const int64_t n = shape.numel();
    const int64_t size = static_cast<int64_t>(v.size());
    if (size == n) return v;
    std::vector<float> out(static_cast<size_t>(n));
    if (shape.size() == 3 && size == shape[0]) {
        const int64_t hw = shape[1] * shape[2];
        for (int64_t i = 0; i < n; ++i) out[i] = v[i / hw];
        return out;
    }
    if (shape.size() == 2 && size == shape[1]) {
        for (int64_t i = 0; i < n; ++i) out[i] = v[i % shape[1]];
        return out;
    }
    OBL_THROW("sample_embeddings: ", what, " has ", size, " values; embedding shape ", shape.str(),
              " needs ", n, " (one per value)",
              shape.size() == 3 ? " or " + std::to_string(shape[0]) + " (one per channel)" : "",
              shape.size() == 2 ? " or " + std::to_string(shape[1]) + " (one per feature)" : "");
}

// RMS of the per-dimension std: the length unit of the targeted steps.
double std_unit(const SamplerConfig& cfg, const Shape& shape) {
    if (cfg.distribution != SynthDistribution::Matched) return cfg.sigma;
    const std::vector<float> s = expand_per_value(cfg.matched_std, shape, "matched_std");
    double sq = 0;
    for (float v : s) sq += static_cast<double>(v) * v;
    const double rms = std::sqrt(sq / static_cast<double>(s.size()));
    return rms > 0 ? rms : 1.0;
}

kernels::SynthDistParams params_of(const DrawSpec& spec, Device device, int64_t d) {
    kernels::SynthDistParams p;
    p.kind = spec.kind;
    p.loc0 = spec.loc0;
    p.scale0 = spec.scale0;
    for (const Tensor* t : {&spec.loc, &spec.scale}) {
        if (!t->defined()) continue;
        OBL_CHECK(t->dtype() == DType::F32 && t->numel() == d && t->device() == device,
                  "synthetic draw: per-dimension loc/scale must be f32 with ", d,
                  " values on the sampling device ", device, ", got ", t->describe());
    }
    if (spec.loc.defined()) p.loc = spec.loc.f32();
    if (spec.scale.defined()) p.scale = spec.scale.f32();
    return p;
}

const char* backend_name(Device device) {
    if (device.is_cuda()) return "cuda";
    return use_fast_cpu() ? "fast cpu" : "reference cpu";
}

// ---- the head -----------------------------------------------------------------------------------

// Everything one sampling run needs.
struct Run {
    Run(Module& h, const Shape& s) : head(h), shape(s) {}
    Module& head;
    Shape shape;
    int64_t d = 0, k = 0;
    Device device;
    DrawSpec spec;
    const Linear* linear = nullptr;  // fused path when set
    uint64_t seed = 0;
};

// Logits (n, K) of the head at z (n, D) (generic path), checked.
Tensor head_logits(Module& head, const Tensor& z, const Shape& shape, int64_t k) {
    Tensor logits = head.forward(z.reshape(batch_shape(z.size(0), shape)));
    OBL_CHECK(logits.dim() == 2 && logits.size(0) == z.size(0) && (k < 0 || logits.size(1) == k),
              "sample_embeddings: the head must map (N, ", shape.str(), ") to logits (N, K); got ",
              logits.describe(), " for N = ", z.size(0));
    return logits;
}

struct Labelled {
    Tensor z, label;  // (n, D) f32, (n) i64, on the run's device
};

// Candidates [first, first + n): their z and the head's labels. The fused path labels inside the
// kernel (fast CPU, reference CPU or CUDA, chosen like an op); the generic path draws with the same
// kernels, so both paths see the same z, and runs the head as a black box.
Labelled label_block(const Run& r, int64_t first, int64_t n) {
    if (r.linear) {
        SynthBlock b =
            synth_sample_block(r.linear->weight(), r.linear->bias(), r.spec, first, n, r.seed);
        return {b.z, b.label};
    }
    Tensor z = synth_draw_block(r.spec, r.d, first, n, r.seed, r.device);
    return {z, argmax(head_logits(r.head, z, r.shape, r.k), 1)};
}

// ---- quota --------------------------------------------------------------------------------------

struct QuotaResult {
    std::vector<uint8_t> accept;
    std::vector<int64_t> hits, done_at;
};

// The quota filter on the labels' device; `filled` is updated. On CUDA the labels never leave
// the device: only the accept flags (1 byte per candidate) and the per-class counters come back,
// one small transfer per block, which is also the sync the host needs to decide whether to go on.
QuotaResult apply_quota(const Tensor& label, std::vector<int64_t>& filled,
                        const std::vector<int64_t>& quota) {
    const int64_t n = label.numel(), k = static_cast<int64_t>(quota.size());
    kernels::SynthQuotaDims qd;
    qd.count = n;
    qd.k = k;
    QuotaResult q;
    q.accept.resize(static_cast<size_t>(n));
    q.hits.resize(static_cast<size_t>(k));
    q.done_at.resize(static_cast<size_t>(k));
    switch (label.device().type) {
        case DeviceType::CPU:
            kernels::synth_quota_cpu(q.accept.data(), q.hits.data(), q.done_at.data(),
                                     filled.data(), label.i64(), quota.data(), qd);
            break;
        case DeviceType::CUDA: {
            const Device dev = label.device();
            Tensor accept = Tensor::empty({n}, DType::U8, dev);
            Tensor hits = Tensor::empty({k}, DType::I64, dev);
            Tensor done_at = Tensor::empty({k}, DType::I64, dev);
            Tensor filled_d = Tensor::from_vector(filled, {k}, dev);
            Tensor quota_d = Tensor::from_vector(quota, {k}, dev);
            OBL_CUDA_ONLY(kernels::synth_quota_cuda(accept.u8(), hits.i64(), done_at.i64(),
                                                    filled_d.i64(), label.i64(), quota_d.i64(), qd,
                                                    cuda_context().stream()));
            q.accept = accept.to_vector<uint8_t>();
            q.hits = hits.to_vector<int64_t>();
            q.done_at = done_at.to_vector<int64_t>();
            filled = filled_d.to_vector<int64_t>();
            break;
        }
    }
    return q;
}

bool all_full(const std::vector<int64_t>& filled, const std::vector<int64_t>& quota) {
    for (size_t c = 0; c < quota.size(); ++c)
        if (filled[c] < quota[c]) return false;
    return true;
}

// The early-stop rule of the plain phase (checked at checkpoints): every class still short has
// hit rate hits / draws below quota / cap, the rate it would need to fill by the cap.
bool all_short_rare(const SampleStats& st, const std::vector<int64_t>& filled,
                    const std::vector<int64_t>& quota) {
    for (size_t c = 0; c < quota.size(); ++c) {
        if (filled[c] >= quota[c]) continue;
        const double hits = static_cast<double>(st.classes[c].hits);
        if (hits * static_cast<double>(st.max_draws) >=
            static_cast<double>(quota[c]) * static_cast<double>(st.draws))
            return false;
    }
    return true;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Gathers the accepted rows. On the CPU they are copied straight into the final (total, D) tensor
// (no per-block ops, so no OpenMP fork/join per block); on CUDA they are index_select-ed per block
// and concatenated at the end. index_select is a float op, so CUDA labels travel as f32 (exact
// below 2^24 classes) and become i64 again at the end.
class Collector {
   public:
    Collector(Device device, int64_t total, int64_t d) : device_(device), d_(d) {
        if (device_.is_cpu()) {
            z_ = Tensor::empty({total, d}, DType::F32, device_);
            y_.reserve(static_cast<size_t>(total));
        }
    }

    // Rows `rows` of z (n, D), labelled by `label` (n) i64 on z's device, or all by class `c`
    // when `label` is undefined.
    void add(const Tensor& z, const Tensor& label, int64_t c, const std::vector<int64_t>& rows) {
        if (rows.empty()) return;
        const int64_t m = static_cast<int64_t>(rows.size());
        if (device_.is_cpu()) {
            OBL_ASSERT(rows_ + m <= z_.size(0));
            const float* src = z.f32();
            float* dst = z_.f32() + rows_ * d_;
            for (int64_t t : rows) {
                std::copy(src + t * d_, src + (t + 1) * d_, dst);
                dst += d_;
                y_.push_back(label.defined() ? label.i64()[t] : c);
            }
            rows_ += m;
            return;
        }
        Tensor idx = Tensor::from_vector(rows, {m}, device_);
        z_parts_.push_back(index_select(z, 0, idx));
        y_parts_.push_back(label.defined()
                               ? index_select(label.to(DType::F32), 0, idx)
                               : Tensor::full({m}, static_cast<double>(c), DType::F32, device_));
        rows_ += m;
    }

    int64_t rows() const { return rows_; }

    // (z (N, shape...), y (N) i64) on the device.
    std::pair<Tensor, Tensor> finish(const Shape& shape) {
        Shape zs{rows_};
        for (int64_t v : shape) zs.push_back(v);
        if (device_.is_cpu())
            return {z_.slice0(0, rows_).reshape(zs), Tensor::from_vector(y_, {rows_}, device_)};
        if (z_parts_.empty())
            return {Tensor::empty(zs, DType::F32, device_),
                    Tensor::empty({0}, DType::I64, device_)};
        Tensor z = z_parts_.size() == 1 ? z_parts_[0] : concat(z_parts_, 0);
        Tensor y = y_parts_.size() == 1 ? y_parts_[0] : concat(y_parts_, 0);
        return {z.reshape(zs), y.to(DType::I64)};
    }

   private:
    Device device_;
    int64_t d_;
    int64_t rows_ = 0;
    Tensor z_;                               // CPU: (total, D), filled in order
    std::vector<int64_t> y_;                 // CPU labels
    std::vector<Tensor> z_parts_, y_parts_;  // CUDA
};

// ---- targeted phase -----------------------------------------------------------------------------

// How many of `label` are c.
int64_t count_label(const std::vector<int64_t>& label, int64_t c) {
    return static_cast<int64_t>(std::count(label.begin(), label.end(), c));
}

// `spec` without its rectification: the targeted phase shifts the raw draws first.
DrawSpec unrectified(DrawSpec spec) {
    spec.rectify = false;
    return spec;
}

// The mean-shift search of one class (step 3 at the top of synthetic.h) on a fixed pilot batch.
// The head is the frozen clone: no parameter gradients, eval mode.
class ShiftSearch {
   public:
    ShiftSearch(const Run& r, Module& frozen, const SamplerConfig& cfg, const DrawSpec& spec,
                int64_t c, double unit)
        : r_(r), frozen_(frozen), cfg_(cfg), c_(c), unit_(unit), rectify_(spec.rectify) {
        pilot_ = synth_draw_block(unrectified(spec), r.d, 0, cfg.targeted_pilot, r.seed, r.device);
        shift_.assign(static_cast<size_t>(r.d), 0.0);
        shift_t_ = Tensor::zeros({1, r.d}, DType::F32, r.device);
    }

    // Steps until at least half the pilot rows are labelled c or the step budget is spent.
    void run() {
        while (steps_ < cfg_.targeted_max_steps)
            if (!step(false)) return;
    }
    // One step whatever the pilot says (a weak proposal round); false when the budget is spent.
    bool force_step() { return steps_ < cfg_.targeted_max_steps && step(true); }

    // Unrectified z (n, D) moved by the current shift (then rectified for Rectified draws).
    Tensor shifted(const Tensor& z) const {
        Tensor moved = add(z, broadcast_to(shift_t_, z.shape()));
        return rectify_ ? relu(moved) : moved;
    }
    int steps() const { return steps_; }
    int64_t pilot_rows() const { return pilot_rows_; }
    double eta() const { return eta_; }
    double norm() const {
        double sq = 0;
        for (double v : shift_) sq += v * v;
        return std::sqrt(sq);
    }

   private:
    // Evaluates the pilot at the current shift; unless `force`, returns false without stepping
    // when half of it is already labelled c. Otherwise takes one step and returns true.
    bool step(bool force) {
        const int64_t n = pilot_.size(0);
        Tensor zin = shifted(pilot_).reshape(batch_shape(n, r_.shape)).detach();
        zin.set_requires_grad(true);
        Tensor logits;
        {
            GradEnabledGuard grad_on;
            logits = head_logits(frozen_, zin, r_.shape, r_.k);
        }
        pilot_rows_ += n;
        {
            NoGradGuard no_grad;
            const int64_t hits = count_label(argmax(logits, 1).to_vector<int64_t>(), c_);
            if (!force && 2 * hits >= n) return false;
        }
        {
            GradEnabledGuard grad_on;
            Tensor target = Tensor::full({n}, static_cast<double>(c_), DType::I64, r_.device);
            backward(cross_entropy(logits, target));
        }
        // u = sum of the row-normalised gradients, in double on the host (fixed order).
        const std::vector<float> g = zin.grad().to_vector<float>();
        const int64_t d = r_.d;
        std::vector<double> u(static_cast<size_t>(d), 0.0);
        for (int64_t i = 0; i < n; ++i) {
            const float* gi = g.data() + i * d;
            double sq = 0;
            for (int64_t t = 0; t < d; ++t) sq += static_cast<double>(gi[t]) * gi[t];
            if (sq <= 0) continue;
            const double inv = 1.0 / std::sqrt(sq);
            for (int64_t t = 0; t < d; ++t) u[t] += gi[t] * inv;
        }
        double un = 0;
        for (double v : u) un += v * v;
        un = std::sqrt(un);
        eta_ =
            cfg_.targeted_step * std::ldexp(1.0, std::min(steps_ / 8, cfg_.targeted_max_doublings));
        ++steps_;
        if (un <= 0) return true;  // flat: nothing to follow (the budget still shrinks)
        const double len = eta_ * unit_ / un;
        std::vector<float> sf(static_cast<size_t>(d));
        for (int64_t t = 0; t < d; ++t) {
            shift_[t] -= len * u[t];  // descend the cross-entropy: toward class c
            sf[t] = static_cast<float>(shift_[t]);
        }
        shift_t_ = Tensor::from_vector(sf, {1, d}, r_.device);
        return true;
    }

    const Run& r_;
    Module& frozen_;
    const SamplerConfig& cfg_;
    int64_t c_;
    double unit_;
    bool rectify_;               // Rectified: the shift moves the Gaussian before max(0, .)
    Tensor pilot_;               // (P, D) the class's first P region draws (unrectified)
    std::vector<double> shift_;  // m, accumulated in double
    Tensor shift_t_;             // m as f32 (1, D) on the device
    int steps_ = 0;
    int64_t pilot_rows_ = 0;
    double eta_ = 0;
};

struct TargetedOutcome {
    int64_t draws = 0, accepted = 0, pilot_rows = 0;
    int steps = 0;
    double eta = 0, shift = 0;
};

TargetedOutcome fill_targeted(const Run& r, Module& frozen, const SamplerConfig& cfg, int64_t c,
                              int64_t need, int64_t max_draws, double unit, Collector& out_rows) {
    DrawSpec spec = r.spec;
    spec.offset = region_offset(static_cast<uint64_t>(kTargetedRegion0 + c));
    ShiftSearch search(r, frozen, cfg, spec, c, unit);
    search.run();
    TargetedOutcome out;
    NoGradGuard no_grad;
    while (out.accepted < need && out.draws < max_draws) {
        const int64_t n = std::min(cfg.targeted_batch, max_draws - out.draws);
        const Tensor z = search.shifted(synth_draw_block(
            unrectified(spec), r.d, cfg.targeted_pilot + out.draws, n, r.seed, r.device));
        const std::vector<int64_t> label =
            argmax(head_logits(frozen, z, r.shape, r.k), 1).to_vector<int64_t>();
        std::vector<int64_t> rows;
        int64_t hits = 0;
        for (int64_t t = 0; t < n; ++t) {
            if (label[t] != c) continue;
            ++hits;
            if (out.accepted + static_cast<int64_t>(rows.size()) < need) rows.push_back(t);
        }
        out_rows.add(z, Tensor(), c, rows);
        out.accepted += static_cast<int64_t>(rows.size());
        out.draws += n;
        if (out.accepted < need && 4 * hits < n) search.force_step();
    }
    out.pilot_rows = search.pilot_rows();
    out.steps = search.steps();
    out.eta = search.eta();
    out.shift = search.norm();
    return out;
}

// ---- matched statistics helpers -----------------------------------------------------------------

// Mean and std of relu(X), X ~ N(mu, sigma^2).
void rectified_moments(double mu, double sigma, double* mean, double* stddev) {
    if (sigma <= 0) {
        *mean = std::max(mu, 0.0);
        *stddev = 0;
        return;
    }
    const double a = mu / sigma;
    const double cdf = 0.5 * std::erfc(-a / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * a * a) / std::sqrt(2.0 * 3.14159265358979323846);
    const double m = mu * cdf + sigma * pdf;
    const double m2 = (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf;
    *mean = m;
    *stddev = std::sqrt(std::max(m2 - m * m, 0.0));
}

std::vector<float> values_or(const Tensor& t, int64_t n, float fallback) {
    if (!t.defined()) return std::vector<float>(static_cast<size_t>(n), fallback);
    return t.to_vector<float>();
}

}  // namespace

// The Linear a head consists of (the head itself, or nested single-child Sequentials), or null.
const Linear* as_linear(const Module& m) {
    if (const auto* lin = dynamic_cast<const Linear*>(&m)) return lin;
    if (const auto* seq = dynamic_cast<const Sequential*>(&m); seq && seq->size() == 1)
        return as_linear(*(*seq)[0]);
    return nullptr;
}

Shape batch_shape(int64_t n, const Shape& shape) {
    Shape s{n};
    for (int64_t v : shape) s.push_back(v);
    return s;
}

// ---- names and config ---------------------------------------------------------------------------

const char* synth_distribution_name(SynthDistribution d) {
    switch (d) {
        case SynthDistribution::Gaussian:
            return "gaussian";
        case SynthDistribution::Uniform:
            return "uniform";
        case SynthDistribution::Laplace:
            return "laplace";
        case SynthDistribution::Matched:
            return "matched";
        case SynthDistribution::Rectified:
            return "rectified";
    }
    return "?";
}

SynthDistribution parse_synth_distribution(const std::string& name) {
    for (SynthDistribution d :
         {SynthDistribution::Gaussian, SynthDistribution::Uniform, SynthDistribution::Laplace,
          SynthDistribution::Matched, SynthDistribution::Rectified})
        if (name == synth_distribution_name(d)) return d;
    OBL_THROW("unknown synthetic distribution '", name,
              "'; valid: gaussian, uniform, laplace, matched, rectified");
}

void check_sampler_config(const SamplerConfig& cfg) {
    OBL_CHECK(std::isfinite(cfg.sigma) && cfg.sigma > 0, "SamplerConfig: sigma must be > 0, got ",
              cfg.sigma);
    OBL_CHECK(cfg.per_class >= 0, "SamplerConfig: per_class must be >= 0, got ", cfg.per_class);
    for (size_t c = 0; c < cfg.quotas.size(); ++c)
        OBL_CHECK(cfg.quotas[c] >= 0, "SamplerConfig: quotas[", c, "] must be >= 0, got ",
                  cfg.quotas[c]);
    OBL_CHECK(cfg.block >= 0, "SamplerConfig: block must be >= 0 (0 = auto), got ", cfg.block);
    OBL_CHECK(cfg.max_draws >= 0, "SamplerConfig: max_draws must be >= 0 (0 = auto), got ",
              cfg.max_draws);
    OBL_CHECK(cfg.targeted_batch >= 1, "SamplerConfig: targeted_batch must be >= 1, got ",
              cfg.targeted_batch);
    OBL_CHECK(std::isfinite(cfg.cap_ratio) && cfg.cap_ratio > 0,
              "SamplerConfig: cap_ratio must be > 0, got ", cfg.cap_ratio);
    OBL_CHECK(cfg.targeted_pilot >= 1, "SamplerConfig: targeted_pilot must be >= 1, got ",
              cfg.targeted_pilot);
    OBL_CHECK(cfg.targeted_max_steps >= 1, "SamplerConfig: targeted_max_steps must be >= 1, got ",
              cfg.targeted_max_steps);
    OBL_CHECK(std::isfinite(cfg.targeted_step) && cfg.targeted_step > 0,
              "SamplerConfig: targeted_step must be > 0, got ", cfg.targeted_step);
    OBL_CHECK(cfg.targeted_max_doublings >= 0,
              "SamplerConfig: targeted_max_doublings must be >= 0, got ",
              cfg.targeted_max_doublings);
    OBL_CHECK(cfg.targeted_max_draws >= 0,
              "SamplerConfig: targeted_max_draws must be >= 0 (0 = auto), got ",
              cfg.targeted_max_draws);
    if (cfg.distribution == SynthDistribution::Matched) {
        OBL_CHECK(!cfg.matched_mean.empty() && cfg.matched_mean.size() == cfg.matched_std.size(),
                  "SamplerConfig: the matched distribution needs matched_mean and matched_std of ",
                  "equal, non-zero length (see matched_stats()), got ", cfg.matched_mean.size(),
                  " and ", cfg.matched_std.size());
        for (size_t i = 0; i < cfg.matched_std.size(); ++i)
            OBL_CHECK(std::isfinite(cfg.matched_std[i]) && cfg.matched_std[i] >= 0 &&
                          std::isfinite(cfg.matched_mean[i]),
                      "SamplerConfig: matched_mean/matched_std[", i, "] = ", cfg.matched_mean[i],
                      " / ", cfg.matched_std[i], " (need finite values and std >= 0)");
    }
}

const char* plain_stop_name(PlainStop s) {
    switch (s) {
        case PlainStop::QuotasFull:
            return "quotas full";
        case PlainStop::RareClasses:
            return "rare classes";
        case PlainStop::Cap:
            return "cap";
    }
    return "?";
}

// ---- stats --------------------------------------------------------------------------------------

int64_t SampleStats::accepted() const {
    int64_t n = 0;
    for (const auto& c : classes) n += c.accepted;
    return n;
}

double SampleStats::acceptance_rate() const {
    const int64_t total = draws + targeted_draws;
    return total > 0 ? static_cast<double>(accepted()) / static_cast<double>(total) : 0.0;
}

double SampleStats::hit_rate(int c) const {
    OBL_CHECK(c >= 0 && c < static_cast<int>(classes.size()), "SampleStats: class ", c,
              " outside [0, ", classes.size(), ")");
    return draws > 0 ? static_cast<double>(classes[c].hits) / static_cast<double>(draws) : 0.0;
}

std::vector<int> SampleStats::targeted_classes() const {
    std::vector<int> out;
    for (size_t c = 0; c < classes.size(); ++c)
        if (classes[c].targeted_draws > 0) out.push_back(static_cast<int>(c));
    return out;
}

std::string SampleStats::summary() const {
    std::ostringstream os;
    os << path << ": " << draws << " plain draws (cap " << max_draws
       << ", ended: " << plain_stop_name(plain_stop) << "), " << targeted_draws << " targeted + "
       << pilot_draws << " pilot, acceptance " << acceptance_rate() << ", " << plain_seconds
       << " s + " << targeted_seconds << " s\n";
    for (size_t c = 0; c < classes.size(); ++c) {
        const ClassSampleStats& s = classes[c];
        os << "  class " << c << ": " << s.accepted << "/" << s.quota << " accepted, " << s.hits
           << " hits (rate " << hit_rate(static_cast<int>(c)) << ")";
        if (s.targeted_draws > 0)
            os << ", targeted " << s.targeted_accepted << "/" << s.targeted_draws << " (shift |m| "
               << s.targeted_shift << " after " << s.targeted_steps << " steps)";
        os << "\n";
    }
    return os.str();
}

// ---- building blocks ----------------------------------------------------------------------------

DrawSpec draw_spec(const SamplerConfig& cfg, const Shape& shape, Device device) {
    DrawSpec s;
    switch (cfg.distribution) {
        case SynthDistribution::Gaussian:
            s.kind = SynthDist::Normal;
            s.offset = region_offset(0);
            break;
        case SynthDistribution::Rectified:  // the Gaussian's variates, rectified
            s.kind = SynthDist::Normal;
            s.offset = region_offset(0);
            s.rectify = true;
            break;
        case SynthDistribution::Uniform:
            s.kind = SynthDist::Uniform;
            s.offset = region_offset(1);
            break;
        case SynthDistribution::Laplace:
            s.kind = SynthDist::Laplace;
            s.offset = region_offset(2);
            break;
        case SynthDistribution::Matched: {
            s.kind = SynthDist::Normal;  // the Gaussian's variates, shifted and scaled per value
            s.offset = region_offset(0);
            const Shape d{shape.numel()};
            s.loc = Tensor::from_vector(expand_per_value(cfg.matched_mean, shape, "matched_mean"),
                                        d, device);
            s.scale = Tensor::from_vector(expand_per_value(cfg.matched_std, shape, "matched_std"),
                                          d, device);
            return s;
        }
    }
    s.scale0 = static_cast<float>(cfg.sigma);
    return s;
}

Tensor synth_draw_block(const DrawSpec& spec, int64_t d, int64_t first, int64_t count,
                        uint64_t seed, Device device) {
    OBL_CHECK(d >= 1 && first >= 0 && count >= 0, "synth_draw_block: need D >= 1, first >= 0, ",
              "count >= 0; got D = ", d, ", first = ", first, ", count = ", count);
    Tensor z = Tensor::empty({count, d}, DType::F32, device);
    if (count == 0) return z;
    kernels::SynthDims dims;
    dims.d = d;
    dims.first = first;
    dims.count = count;
    dims.seed = seed;
    dims.offset = spec.offset;
    const kernels::SynthDistParams p = params_of(spec, device, d);
    switch (device.type) {
        case DeviceType::CPU:
            if (use_fast_cpu())
                kernels::synth_draw_fast_cpu(z.f32(), dims, p);
            else
                kernels::synth_draw_cpu<float>(z.f32(), dims, p);
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::synth_draw_cuda(z.f32(), dims, p, cuda_context().stream()));
            break;
    }
    return spec.rectify ? relu(z) : z;
}

SynthBlock synth_sample_block(const Tensor& weight, const Tensor& bias, const DrawSpec& spec,
                              int64_t first, int64_t count, uint64_t seed, bool want_logits) {
    check_defined(weight, "synth_sample_block", "weight");
    OBL_CHECK(weight.dim() == 2 && weight.dtype() == DType::F32,
              "synth_sample_block: weight must be f32 (K, D), got ", weight.describe());
    const int64_t k = weight.size(0), d = weight.size(1);
    const Device device = weight.device();
    if (bias.defined()) {
        OBL_CHECK(bias.dtype() == DType::F32 && bias.dim() == 1 && bias.size(0) == k,
                  "synth_sample_block: bias must be f32 (", k, ") for weight ", weight.describe(),
                  ", got ", bias.describe());
        check_same_device(weight, bias, "synth_sample_block");
    }
    OBL_CHECK(first >= 0 && count >= 0, "synth_sample_block: need first >= 0 and count >= 0, got ",
              first, " and ", count);
    SynthBlock b;
    b.z = Tensor::empty({count, d}, DType::F32, device);
    b.label = Tensor::empty({count}, DType::I64, device);
    b.margin = Tensor::empty({count}, DType::F32, device);
    if (want_logits) b.logits = Tensor::empty({count, k}, DType::F32, device);
    if (count == 0) return b;
    kernels::SynthDims dims;
    dims.d = d;
    dims.k = k;
    dims.first = first;
    dims.count = count;
    dims.seed = seed;
    dims.offset = spec.offset;
    const kernels::SynthDistParams p = params_of(spec, device, d);
    float* logits = want_logits ? b.logits.f32() : nullptr;
    const float* bptr = bias.defined() ? bias.f32() : nullptr;
    switch (device.type) {
        case DeviceType::CPU:
            if (use_fast_cpu())
                kernels::synth_sample_fast_cpu(b.label.i64(), b.margin.f32(), logits, b.z.f32(),
                                               weight.f32(), bptr, dims, p);
            else
                kernels::synth_sample_cpu<float>(b.label.i64(), b.margin.f32(), logits, b.z.f32(),
                                                 weight.f32(), bptr, dims, p);
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::synth_sample_cuda(b.label.i64(), b.margin.f32(), logits,
                                                     b.z.f32(), weight.f32(), bptr, dims, p,
                                                     cuda_context().stream()));
            break;
    }
    return b;
}

// ---- the sampler --------------------------------------------------------------------------------

SyntheticSet sample_embeddings(Module& head, const Shape& shape, const SamplerConfig& cfg,
                               uint64_t seed) {
    check_sampler_config(cfg);
    OBL_CHECK(!shape.empty() && shape.numel() >= 1, "sample_embeddings: empty embedding shape ",
              shape.str());
    // Eval mode: a head's BatchNorm must use (and never update) its running statistics on
    // synthetic inputs (DESIGN.md §F, §M.11).
    EvalModeGuard eval_mode(head);
    NoGradGuard no_grad;

    Run r(head, shape);
    r.d = shape.numel();
    r.device = head.device();
    r.seed = seed;
    r.spec = draw_spec(cfg, shape, r.device);
    // The fused kernel needs a vector cut, a head that is exactly one Linear and unrectified draws.
    r.linear = cfg.allow_fused && shape.size() == 1 && !r.spec.rectify ? as_linear(head) : nullptr;
    if (r.linear) {
        OBL_CHECK(r.linear->in_features() == r.d, "sample_embeddings: the linear head takes ",
                  r.linear->in_features(), " features, the embedding shape is ", shape.str());
        r.k = r.linear->out_features();
    } else {  // probe K with one zero sample
        r.k = head_logits(head, Tensor::zeros({1, r.d}, DType::F32, r.device), shape, -1).size(1);
    }
    OBL_CHECK(cfg.quotas.empty() || static_cast<int64_t>(cfg.quotas.size()) == r.k,
              "sample_embeddings: ", cfg.quotas.size(), " per-class quotas for a head with ", r.k,
              " classes");
    std::vector<int64_t> quota = cfg.quotas.empty()
                                     ? std::vector<int64_t>(static_cast<size_t>(r.k), cfg.per_class)
                                     : cfg.quotas;
    int64_t total_quota = 0;
    for (int64_t q : quota) total_quota += q;

    SyntheticSet out;
    out.num_classes = static_cast<int>(r.k);
    SampleStats& st = out.stats;
    st.path = std::string(r.linear ? "fused linear head" : "generic head") + " (" +
              backend_name(r.device) + ")";
    st.max_draws =
        cfg.max_draws > 0
            ? cfg.max_draws
            : std::max<int64_t>(4096, static_cast<int64_t>(std::ceil(
                                          cfg.cap_ratio * static_cast<double>(total_quota))));
    st.classes.resize(static_cast<size_t>(r.k));
    for (int64_t c = 0; c < r.k; ++c) st.classes[c].quota = quota[c];
    const int64_t block =
        cfg.block > 0 ? cfg.block : std::clamp<int64_t>((int64_t(1) << 22) / r.d, 64, 16384);
    OBL_CHECK(
        static_cast<uint64_t>(r.d) * static_cast<uint64_t>(st.max_draws + block) < kRegionElements,
        "sample_embeddings: D = ", r.d, " times max_draws = ", st.max_draws,
        " exceeds one Philox stream region (2^", kSynthRegionBits, " values)");

    // 1. Plain phase: blocks in candidate order until every quota is full, the cap is hit, or at a
    // checkpoint every short class is rare. Blocks never straddle a checkpoint, so the rule sees
    // the same counts whatever the block size.
    const auto t_plain = std::chrono::steady_clock::now();
    std::vector<int64_t> filled(static_cast<size_t>(r.k), 0);
    Collector kept(r.device, total_quota, r.d);
    st.plain_stop = PlainStop::Cap;
    while (st.draws < st.max_draws) {
        if (all_full(filled, quota)) {
            st.plain_stop = PlainStop::QuotasFull;
            break;
        }
        if (cfg.stop_rare && st.draws > 0 && st.draws % kSynthCheckpoint == 0 &&
            all_short_rare(st, filled, quota)) {
            st.plain_stop = PlainStop::RareClasses;
            break;
        }
        int64_t n = std::min(block, st.max_draws - st.draws);
        if (cfg.stop_rare) n = std::min(n, kSynthCheckpoint - st.draws % kSynthCheckpoint);
        const Labelled b = label_block(r, st.draws, n);
        QuotaResult q = apply_quota(b.label, filled, quota);
        int64_t stop = n;
        if (all_full(filled, quota)) {
            // The run ends inside this block: count hits only up to the candidate that filled
            // the last quota, so the statistics do not depend on the block size either.
            stop = 0;
            for (int64_t c = 0; c < r.k; ++c) stop = std::max(stop, q.done_at[c] + 1);
            const std::vector<int64_t> label = b.label.to_vector<int64_t>();
            std::fill(q.hits.begin(), q.hits.end(), 0);
            for (int64_t t = 0; t < stop; ++t) ++q.hits[label[t]];
        }
        std::vector<int64_t> rows;
        for (int64_t t = 0; t < stop; ++t)
            if (q.accept[t]) rows.push_back(t);
        for (int64_t c = 0; c < r.k; ++c) st.classes[c].hits += q.hits[c];
        kept.add(b.z, b.label, 0, rows);
        st.draws += stop;
    }
    if (all_full(filled, quota)) st.plain_stop = PlainStop::QuotasFull;
    for (int64_t c = 0; c < r.k; ++c) st.classes[c].accepted = filled[c];
    st.plain_seconds = seconds_since(t_plain);

    // 2. Targeted phase for the classes still short. The gradient steps run on a frozen clone,
    // so the caller's head never accumulates parameter gradients.
    const auto t_targeted = std::chrono::steady_clock::now();
    if (cfg.targeted && !all_full(filled, quota)) {
        std::shared_ptr<Module> frozen(head.clone());
        frozen->eval();
        frozen->set_requires_grad(false);
        const double unit = std_unit(cfg, shape);
        for (int64_t c = 0; c < r.k; ++c) {
            if (filled[c] >= quota[c]) continue;
            const int64_t max_t = cfg.targeted_max_draws > 0
                                      ? cfg.targeted_max_draws
                                      : std::max<int64_t>(8 * cfg.targeted_batch, 20 * quota[c]);
            OBL_CHECK(
                static_cast<uint64_t>(r.d) * static_cast<uint64_t>(max_t + cfg.targeted_pilot) <
                    kRegionElements,
                "sample_embeddings: D = ", r.d, " times targeted_max_draws = ", max_t,
                " exceeds one Philox stream region");
            const TargetedOutcome t =
                fill_targeted(r, *frozen, cfg, c, quota[c] - filled[c], max_t, unit, kept);
            ClassSampleStats& cs = st.classes[c];
            cs.targeted_draws = t.draws;
            cs.targeted_accepted = t.accepted;
            cs.targeted_steps = t.steps;
            cs.targeted_shift = t.shift;
            cs.targeted_step = t.eta;
            cs.accepted += t.accepted;
            filled[c] += t.accepted;
            st.targeted_draws += t.draws;
            st.pilot_draws += t.pilot_rows;
        }
    }
    st.targeted_seconds = seconds_since(t_targeted);

    // 3. Classes still short: a clear error, never an endless loop.
    if (!all_full(filled, quota)) {
        std::ostringstream os;
        os << "sample_embeddings: cannot fill the quota of class(es)";
        for (int64_t c = 0; c < r.k; ++c)
            if (filled[c] < quota[c]) os << " " << c;
        os << " after " << st.draws << " plain draws (cap " << st.max_draws
           << (st.plain_stop == PlainStop::RareClasses ? ", stopped early: every short class rare"
                                                       : "")
           << ")" << (cfg.targeted ? " and targeted sampling" : " (targeted sampling off)") << ":";
        for (int64_t c = 0; c < r.k; ++c) {
            if (filled[c] >= quota[c]) continue;
            const ClassSampleStats& cs = st.classes[c];
            os << " class " << c << " has " << filled[c] << " of " << quota[c] << " (" << cs.hits
               << " plain hits";
            if (cfg.targeted)
                os << ", " << cs.targeted_accepted << " of " << cs.targeted_draws
                   << " targeted proposals after " << cs.targeted_steps << " shift steps (|m| "
                   << cs.targeted_shift << ")";
            os << ");";
        }
        os << " the head (almost) never predicts these classes from this distribution: lower "
              "their quotas (SamplerConfig::quotas), raise max_draws / targeted_max_draws, or "
              "use another distribution";
        throw Error(os.str());
    }

    // 4. Assemble: plain acceptances in candidate order, then the targeted ones class by class.
    OBL_ASSERT(kept.rows() == total_quota);
    std::tie(out.z, out.y) = kept.finish(shape);
    return out;
}

std::shared_ptr<TensorDataset> as_dataset(const SyntheticSet& set) {
    return std::make_shared<TensorDataset>(set.z, set.y, set.num_classes);
}

// ---- matched statistics -------------------------------------------------------------------------

MatchedStats matched_stats(const Module& body, const Shape& embedding_shape) {
    const Shape& s = embedding_shape;
    OBL_CHECK(!s.empty(), "matched_stats: empty embedding shape");
    const BatchNorm* bn = nullptr;
    const LayerNorm* ln = nullptr;
    std::string name;
    for (const auto& [n, m] : body.named_modules()) {
        if (const auto* b = dynamic_cast<const BatchNorm*>(m)) {
            if ((s.size() == 1 || s.size() == 3) && b->num_features() == s[0]) {
                bn = b;
                ln = nullptr;
                name = n;
            }
        } else if (const auto* l = dynamic_cast<const LayerNorm*>(m)) {
            if (l->weight().defined() && l->weight().numel() == s.back()) {
                ln = l;
                bn = nullptr;
                name = n;
            }
        }
    }
    OBL_CHECK(bn || ln, "matched_stats: the body has no BatchNorm with ", s[0],
              " channels and no affine LayerNorm with ", s.back(),
              " features to describe embedding shape ", s.str(),
              "; set SamplerConfig::matched_mean / matched_std explicitly");
    MatchedStats out;
    std::vector<float> mean, sd;
    if (bn) {
        const int64_t c = bn->num_features();
        const std::vector<float> gamma = values_or(bn->weight(), c, 1.f);
        const std::vector<float> beta = values_or(bn->bias(), c, 0.f);
        for (int64_t i = 0; i < c; ++i) {
            double m, dev;
            rectified_moments(beta[i], std::fabs(gamma[i]), &m, &dev);
            mean.push_back(static_cast<float>(m));
            sd.push_back(static_cast<float>(dev));
        }
        out.source = "BatchNorm '" + name + "' (rectified)";
    } else {
        const std::vector<float> w = ln->weight().to_vector<float>();
        mean = values_or(ln->bias(), static_cast<int64_t>(w.size()), 0.f);
        for (float v : w) sd.push_back(std::fabs(v));
        out.source = "LayerNorm '" + name + "'";
        // Per feature of the last dim, tiled over the leading dims (tokens, or H x W for Swin).
        const size_t n = static_cast<size_t>(s.numel());
        for (size_t i = mean.size(); i < n; ++i) {
            mean.push_back(mean[i - w.size()]);
            sd.push_back(sd[i - w.size()]);
        }
    }
    out.mean = expand_per_value(mean, s, "matched mean");
    out.stddev = expand_per_value(sd, s, "matched std");
    return out;
}

}  // namespace obl
