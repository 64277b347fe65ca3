// Data-free selection monitor (unlearn/selection.h; DESIGN.md §O; notes/datafree-selection.md).
#include "unlearn/selection.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/common/check.h"
#include "nn/autograd.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace {

// Stream index of the held-out set: far from the training streams of train_loop.h.
constexpr uint64_t kHeldOutStream = 0x5e1ec7;

// Logits (N, K) of `head` on z, in row-major host floats, batch by batch.
std::vector<float> host_logits(Module& head, const Tensor& z, int64_t batch, int* k_out) {
    const bool was_training = head.is_training();
    head.train(false);
    const int64_t n = z.size(0);
    std::vector<float> out;
    int k = 0;
    for (int64_t first = 0; first < n; first += batch) {
        const int64_t count = std::min(batch, n - first);
        const Tensor logits = no_grad_forward(head, z.slice0(first, first + count));
        OBL_CHECK(logits.dim() == 2 && logits.size(0) == count,
                  "selection: the head must map (N, ...) to logits (N, K); got ",
                  logits.shape().str());
        k = static_cast<int>(logits.size(1));
        const std::vector<float> v = logits.to(Device::cpu()).to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
    }
    head.train(was_training);
    *k_out = k;
    return out;
}

}  // namespace

SelectionMonitor::SelectionMonitor(Module& original_head, const Shape& embedding_shape,
                                   const std::vector<int>& forget_classes,
                                   const SamplerConfig& sampler, uint64_t seed,
                                   const SelectionConfig& cfg)
    : cfg_(cfg), forget_classes_(forget_classes) {
    check_config(cfg_, "selection");
    OBL_CHECK(!forget_classes_.empty(), "selection: no forget class");
    SamplerConfig s = sampler;
    s.per_class = cfg_.per_class;
    // A class the training sampler skips (quota 0: an earlier request's forgotten class) is
    // skipped here too; every other class gets per_class held-out draws.
    for (int64_t& q : s.quotas) q = q == 0 ? 0 : cfg_.per_class;
    heldout_seed_ = derive_seed(seed, kHeldOutStream);
    SyntheticSet set = sample_embeddings(original_head, embedding_shape, s, heldout_seed_);
    z_ = set.z;
    num_classes_ = set.num_classes;
    heldout_stats_ = set.stats;
    label_ = set.y.to(Device::cpu()).to_vector<int64_t>();
    is_forget_.assign(static_cast<size_t>(num_classes_), 0);
    for (int c : forget_classes_) {
        OBL_CHECK(c >= 0 && c < num_classes_, "selection: forget class ", c, " outside [0, ",
                  num_classes_, ")");
        is_forget_[static_cast<size_t>(c)] = 1;
    }

    // Original confidence p(y_i | z_i) of every forget draw; the top share of EACH forget class's
    // draws is "confident" (so every forget class has its own margin, see measure()).
    int k = 0;
    const std::vector<float> logits = host_logits(original_head, z_, cfg_.batch, &k);
    OBL_CHECK(k == num_classes_, "selection: head has ", k, " outputs, sampler ", num_classes_);
    confident_.assign(label_.size(), 0);
    for (int f : forget_classes_) {
        std::vector<std::pair<double, int64_t>> conf;
        for (size_t i = 0; i < label_.size(); ++i) {
            if (label_[i] != f) continue;
            const float* l = &logits[i * static_cast<size_t>(k)];
            const float mx = *std::max_element(l, l + k);
            double sum = 0;
            for (int c = 0; c < k; ++c) sum += std::exp(static_cast<double>(l[c] - mx));
            conf.push_back({1.0 / sum, static_cast<int64_t>(i)});  // l[y] == mx: y is the argmax
        }
        OBL_CHECK(!conf.empty(), "selection: the held-out set has no draw of forget class ", f);
        std::stable_sort(conf.begin(), conf.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        const size_t top =
            std::max<size_t>(1, static_cast<size_t>(std::ceil(cfg_.confident_share *
                                                              static_cast<double>(conf.size()))));
        for (size_t j = 0; j < top; ++j) confident_[static_cast<size_t>(conf[j].second)] = 1;
    }
    original_ = measure(original_head);
    // Each forget class's original margin (> 0: its confident draws are argmax-labelled).
    original_margin_ = original_.class_margins;
}

SelectionStats SelectionMonitor::measure(Module& head) const {
    int k = 0;
    const std::vector<float> logits = host_logits(head, z_, cfg_.batch, &k);
    OBL_CHECK(k == num_classes_, "selection: head has ", k, " outputs, expected ", num_classes_);
    if (!std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); })) {
        SelectionStats bad;  // a diverged head: neither forgotten nor admissible
        bad.finite = false;
        bad.margin = bad.relative_margin = std::nan("");
        bad.forget_agreement = bad.confident_agreement = bad.retain_agreement = 0;
        return bad;
    }
    // Per forget class: draws, draws still predicted as a forget class, confident draws, confident
    // draws still forget, margin sum over the confident draws.
    const size_t nk = static_cast<size_t>(k);
    std::vector<int64_t> nf(nk, 0), kf(nk, 0), nc(nk, 0), kc(nk, 0);
    std::vector<double> margin_sum(nk, 0.0);
    int64_t nr = 0, kr = 0;
    for (size_t i = 0; i < label_.size(); ++i) {
        const float* l = &logits[i * static_cast<size_t>(k)];
        const int pred = static_cast<int>(std::max_element(l, l + k) - l);
        const int64_t y = label_[i];
        if (!is_forget_[static_cast<size_t>(y)]) {
            ++nr;
            kr += pred == y;
            continue;
        }
        const size_t yc = static_cast<size_t>(y);
        const bool still = is_forget_[static_cast<size_t>(pred)] != 0;
        ++nf[yc];
        kf[yc] += still;
        if (!confident_[i]) continue;
        float best_f = -INFINITY, best_r = -INFINITY;
        for (int c = 0; c < k; ++c) {
            if (is_forget_[static_cast<size_t>(c)])
                best_f = std::max(best_f, l[c]);
            else
                best_r = std::max(best_r, l[c]);
        }
        ++nc[yc];
        kc[yc] += still;
        margin_sum[yc] += static_cast<double>(best_f) - static_cast<double>(best_r);
    }
    // The worst forget class decides: every forget class must be forgotten.
    const auto share = [](int64_t a, int64_t b) {
        return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
    };
    SelectionStats s;
    for (size_t j = 0; j < forget_classes_.size(); ++j) {
        const size_t c = static_cast<size_t>(forget_classes_[j]);
        const double m = nc[c] ? margin_sum[c] / static_cast<double>(nc[c]) : 0.0;
        s.class_margins.push_back(m);
        // Relative margin: m / (the class's original margin); 1 for the original head.
        const double rel = original_margin_.empty() ? 1.0 : m / original_margin_[j];
        s.forget_agreement = std::max(j ? s.forget_agreement : 0.0, share(kf[c], nf[c]));
        s.confident_agreement = std::max(j ? s.confident_agreement : 0.0, share(kc[c], nc[c]));
        s.margin = j ? std::max(s.margin, m) : m;
        s.relative_margin = j ? std::max(s.relative_margin, rel) : rel;
    }
    s.retain_agreement = nr ? static_cast<double>(kr) / static_cast<double>(nr) : 1.0;
    s.forgotten = s.relative_margin <= -cfg_.margin_ratio && s.forget_agreement <= cfg_.tau_f;
    s.admissible = s.retain_agreement >= cfg_.tau_r;
    return s;
}

bool SelectionMonitor::better(const SelectionStats& a, const SelectionStats& b) const {
    const bool a_ok = a.forgotten && a.admissible, b_ok = b.forgotten && b.admissible;
    if (a_ok != b_ok) return a_ok;
    if (a.admissible != b.admissible) return a.admissible;
    if (a.admissible) return a.epoch > b.epoch;  // neither forgotten: the latest admissible
    return a.retain_agreement > b.retain_agreement;
}

bool SelectionMonitor::on_epoch(int epoch, Module& model) {
    SelectionStats s = measure(model);
    s.epoch = epoch;
    history_.push_back(s);
    if (stopped_) return true;  // a traced run after the stop: record only
    if (!have_best_ || better(s, best_stats_)) {
        best_ = model.clone();
        best_stats_ = s;
        have_best_ = true;
    }
    if (!s.finite) {
        stop_reason_ = "non_finite";
        stopped_ = true;
    } else if (s.forgotten && s.admissible) {
        stop_reason_ = "forgotten";
        stopped_ = true;
    } else if (!s.admissible) {
        stop_reason_ = "retain_floor";
        stopped_ = true;
    }
    return stopped_;
}

std::unique_ptr<Module> SelectionMonitor::finish(std::unique_ptr<Module> returned) {
    if (!have_best_) {
        stop_reason_ = "no_epochs";
        selected_ = measure(*returned);
        return returned;
    }
    if (!stopped_) stop_reason_ = "max_epochs";
    selected_ = best_stats_;
    best_->train(returned->is_training());
    return std::move(best_);
}

}  // namespace obl
