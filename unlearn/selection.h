// Data-free model selection and guard rail (DESIGN.md §O): the monitor a forget run passes as
// RunContext::monitor. It never sees real data: every signal comes from a HELD-OUT synthetic set,
// drawn once from the ORIGINAL head with a seed derived from (but different from) the training
// seed, labelled by the original head's argmax, with a balanced per-class quota.
//
// Signals, computed after every epoch on the held-out set (F = the forget classes, z_i a held-out
// draw with original label y_i, l(z) the current head's logits):
//   forget_agreement  synF: share of draws with y_i in F whose current argmax is still in F;
//   confident_agreement synFconf: the same on the `confident_share` (10%) of those draws with the
//                     highest ORIGINAL softmax confidence p(y_i | z_i);
//   margin            mean over the confident forget draws of
//                         max_{c in F} l_c(z_i) - max_{c not in F} l_c(z_i)
//                     (for one forget class: forget logit minus best other logit);
//   retain_agreement  synR: share of draws with y_i not in F whose current argmax is y_i.
//
// The rule (why: notes/datafree-selection.md, measured on the shared CIFAR-10 ResNet-20 at
// pre_logits: synF reaches ~0 epochs before real forget accuracy does, e.g. random_labels lr 0.01
// has synF 0.010 while real A_f is 0.38, so "synF <= 1%" alone stops far too early; the margin on
// the confident forget draws tracks real forgetting: real A_f <= 1% whenever margin <= ~-5 and
// far from 0 at -2; synR falls before real retain accuracy does (boundary_shrink: synR 0.80 at
// real A_r 0.929) but also falls ahead of a real collapse (random_labels lr 0.05, no retain term:
// synR 0.68 one epoch before real A_r drops from 0.92 to 0.35), so 0.99 is unreachable and a floor
// of 0.85 separates "forgot something" from "collapsing"):
//   - an epoch is FORGOTTEN when margin <= margin_threshold (-6) and synF <= tau_f (0.01);
//   - an epoch is ADMISSIBLE when synR >= tau_r (0.85);
//   - stop at the first epoch that is both: stop reason "forgotten", that epoch is selected;
//   - stop as soon as an epoch is not admissible: stop reason "retain_floor"; the selected epoch
//     is the best admissible one seen so far (if any);
//   - otherwise run the method's epoch budget: stop reason "max_epochs"; selected = the admissible
//     epoch with the lowest margin (ties: the earlier epoch); with no admissible epoch, the one
//     with the highest synR;
//   - a method that runs no epoch (delete, ...) or never calls the monitor: stop reason
//     "no_epochs", the method's output is measured once and is the selection.
// The caller refuses to write a selection that is not admissible (oblivio forget: unless --force)
// and reports whether it is forgotten.
//
// Calibration of the defaults (ONE setting for every model; no per-model tuning). Protocol: the
// shared CIFAR-10 ResNet-20 and ResNet-32 (shared/models/cifar10-resnet-akamaster), cut
// pre_logits, every class 0..9 forgotten alone, methods neg_grad_plus, boundary_shrink, scrub,
// delete, random_labels at their defaults (unlearn/configs.h), 5,000 N(0, I) draws per class,
// seed 0, held-out set 1,000 draws per class; real CIFAR-10 test accuracy computed only to
// REPORT. The bar: real A_f <= 1% and real A_r >= the original's A_r - 1 pt. Runs meeting it,
// out of 100 (2 models x 10 classes x 5 methods), by margin_threshold (tau_f 0.01, tau_r 0.85):
//   -5 (the note's value): 98/100. The two misses are ResNet-20 neg_grad_plus, classes 0 and 6,
//        stopped at epoch 3 with margin -5.06 / -5.48 and real A_f 2.1% / 2.3%;
//   -6 (the default):      100/100, every run stops "forgotten" at the first epoch meeting the
//        rule (selected margin -6.1 to -31, synF and synFconf 0, synR 0.868-0.993, lowest for
//        random_labels at epoch 1); real A_f <= 0.2% in every run (ResNet-20 neg_grad_plus
//        classes 0 and 6 now stop at epoch 4: margin -10.7 / -11.2, A_f 0.0%); real A_r after
//        minus before: +0.0 to +1.3 pt;
//   -7:                    100/100 on the real bar, but only 1/20 random_labels runs is still
//        certified: their epoch-1 margin is -6.3 to -7.0, and later epochs either break the
//        0.85 floor (11 runs, "retain_floor") or end the 3-epoch budget short of -7 (8 runs,
//        "max_epochs"); the epoch-1 model is still selected, but marked not forgotten. So -6 is
//        the loosest value meeting the bar everywhere and the tightest keeping random_labels
//        certified.
// tau_r 0.85: the lowest synR of any selected epoch at -6 was 0.868 (random_labels), the highest
// synR at a real collapse in the note 0.68; the 0.99 would refuse 90 of the 100 models
// above (only 10 selected epochs, all delete, reached 0.99). tau_f 0.01 never binds once the
// margin criterion holds (synF is 0 at every selected epoch).
// Less well covered (defaults unchanged, to revisit):
//   - two classes {3, 5} (margin = best forget logit - best retain logit): 8/10 runs (2 models x
//     5 methods) meet the bar. Misses: ResNet-32 neg_grad_plus stops "forgotten" at margin -6.23
//     with real A_f 1.1%; ResNet-20 random_labels never reaches -6 in its 3 epochs ("max_epochs",
//     margin -3.83, A_f 5.3%: correctly reported as not forgotten).
//   - last_block cuts: ResNet-20 class 3, neg_grad_plus at its defaults (lr 0.05, tuned for a
//     linear head) with 1,000 draws per class: epoch 0 already has synR 0.37, margin -110, so the
//     guard rail stops ("retain_floor") and oblivio forget refuses to write the model. Sampling
//     N(0, I) at a 64x8x8 feature map took 138 s on 2 CPU cores (generic path). Not calibrated.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/modules/module.h"
#include "nn/tensor.h"
#include "unlearn/method.h"
#include "unlearn/synthetic.h"

namespace obl {

struct SelectionConfig {
    int64_t per_class = 1000;        // held-out draws per class
    double confident_share = 0.1;    // share of forget draws used for margin / synFconf
    double margin_threshold = -6.0;  // forgotten when margin <= this ...
    double tau_f = 0.01;             // ... and synF <= this
    double tau_r = 0.85;             // admissible when synR >= this
    int64_t batch = 2048;            // held-out draws per forward pass
};
template <class V>
void fields(SelectionConfig& c, V&& v) {
    v("per_class", c.per_class, "held-out synthetic draws per class", at_least(10));
    v("confident_share", c.confident_share,
      "share of the most confident held-out forget draws used for the margin", between(0.001, 1));
    v("margin_threshold", c.margin_threshold,
      "forgotten when the mean (forget logit - best retain logit) on confident draws <= this");
    v("tau_f", c.tau_f, "forgotten also needs held-out forget agreement <= this", kUnitInterval);
    v("tau_r", c.tau_r, "retain agreement floor (admissible epochs)", kUnitInterval);
    v("batch", c.batch, "held-out draws per forward pass", at_least(1));
}

struct SelectionStats {
    int epoch = -1;  // -1: the original head / a model measured outside the epoch loop
    double forget_agreement = 0;
    double confident_agreement = 0;
    double margin = 0;
    double retain_agreement = 0;
    bool forgotten = false;
    bool admissible = false;
};

class SelectionMonitor {
   public:
    // `original_head` is run forward (eval mode, no grad) to label the held-out set and is not
    // changed. The held-out seed is derived from `seed` (never equal to the training set's).
    SelectionMonitor(Module& original_head, const Shape& embedding_shape,
                     const std::vector<int>& forget_classes, const SamplerConfig& sampler,
                     uint64_t seed, const SelectionConfig& cfg = {});

    // The signals of `head` on the held-out set (does not record anything).
    SelectionStats measure(Module& head) const;
    // The RunContext::monitor body: measures, records, keeps a snapshot of a new best epoch and
    // returns true to stop (rule at the top of this file).
    bool on_epoch(int epoch, Module& model);
    std::function<bool(int, Module&)> as_monitor() {
        return [this](int epoch, Module& model) { return on_epoch(epoch, model); };
    }
    // After the method returned its model: fixes the stop reason and returns the selected model
    // (the best snapshot, or `returned` itself when it is the selection / nothing was recorded).
    std::unique_ptr<Module> finish(std::unique_ptr<Module> returned);

    const std::vector<SelectionStats>& history() const { return history_; }
    const SelectionStats& original() const { return original_; }
    const SelectionStats& selected() const { return selected_; }
    const std::string& stop_reason() const { return stop_reason_; }
    const SampleStats& heldout_stats() const { return heldout_stats_; }
    const SelectionConfig& config() const { return cfg_; }
    uint64_t heldout_seed() const { return heldout_seed_; }

   private:
    bool better(const SelectionStats& a, const SelectionStats& b) const;  // a preferred over b

    SelectionConfig cfg_;
    std::vector<int> forget_classes_;
    int num_classes_ = 0;
    uint64_t heldout_seed_ = 0;
    Tensor z_;                     // held-out draws (N, shape...) on the head's device
    std::vector<int64_t> label_;   // original argmax
    std::vector<char> confident_;  // forget draw among the confident share
    std::vector<char> is_forget_;  // per class
    SampleStats heldout_stats_;
    SelectionStats original_;
    std::vector<SelectionStats> history_;
    std::unique_ptr<Module> best_;  // snapshot of the best admissible/fallback epoch
    SelectionStats best_stats_;
    bool have_best_ = false;
    bool stopped_ = false;
    std::string stop_reason_;
    SelectionStats selected_;
};

}  // namespace obl
