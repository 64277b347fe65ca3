// Data-free model selection and guard rail (DESIGN.md §O): the monitor a forget run passes as
// RunContext::monitor. It never sees real data: every signal comes from a HELD-OUT synthetic set,
// drawn once from the ORIGINAL head with a seed derived from (but different from) the training
// seed, labelled by the original head's argmax, with a balanced per-class quota.
//
// Signals, computed after every epoch on the held-out set (F = the forget classes, z_i a held-out
// draw with original label y_i, l(z) the current head's logits). The three forget signals are
// computed per forget class f (over the draws with y_i = f) and the WORST class is reported, so
// with several forget classes every one of them must be forgotten (a pooled mean let one class's
// very negative margin hide another's: {1, 9} on ResNet-20 stopped at a pooled margin of -6.05
// with 10% of the validation images still recognised):
//   forget_agreement  synF: share of draws of f whose current argmax is still in F;
//   confident_agreement synFconf: the same on the `confident_share` (10%) of the draws of f with
//                     the highest ORIGINAL softmax confidence p(f | z_i);
//   margin            mean over those confident draws of
//                         max_{c in F} l_c(z_i) - max_{c not in F} l_c(z_i)
//                     (for one forget class: forget logit minus best other logit);
//   retain_agreement  synR: share of draws with y_i not in F whose current argmax is y_i.
//
// The rule (why: notes/datafree-selection.md, measured on the shared CIFAR-10 ResNet-20 at
// pre_logits: synF reaches ~0 epochs before real forget accuracy does, e.g. random_labels lr 0.01
// has synF 0.010 while real A_f is 0.38, so "synF <= 1%" alone stops far too early; the margin on
// the confident forget draws tracks real forgetting; synR falls before real retain accuracy does
// (boundary_shrink: synR 0.80 at real A_r 0.929) but also falls ahead of a real collapse
// (random_labels lr 0.05, no retain term: synR 0.68 one epoch before real A_r drops from 0.92 to
// 0.35), so 0.99 is unreachable and a floor of 0.85 separates "forgot something" from
// "collapsing"):
//   - an epoch is FORGOTTEN when relative_margin <= -margin_ratio (-1.0: every forget class's
//     confident draws now sit at least as far BELOW the best retain class as they originally sat
//     above it) and synF <= tau_f (0.01). The margin is taken relative to the class's original
//     margin so that the rule does not depend on a model's logit scale (an absolute threshold of
//     -6 logits fitted the two shared models, whose original margins are 5.9-8.0, but would be
//     too loose for a sharper model and unreachable for a flatter one);
//   - an epoch is ADMISSIBLE when synR >= tau_r (0.85);
//   - stop at the first epoch that is both: stop reason "forgotten", that epoch is selected;
//   - stop as soon as an epoch is not admissible: stop reason "retain_floor"; the selected epoch
//     is the latest admissible one (if any);
//   - otherwise run the method's epoch budget: stop reason "max_epochs"; selected = the latest
//     admissible epoch (the method's full budget, as far as the floor allows); with no admissible
//     epoch, the one with the highest synR;
//   - stop as soon as the head's logits on the held-out set are not finite (a diverged run, e.g.
//     a learning rate far too high): stop reason "non_finite"; selected as for "retain_floor";
//   - a method that runs no epoch or never calls the monitor: stop reason "no_epochs", the
//     method's output is measured once and is the selection.
// The caller refuses to write a selection that is not admissible (oblivio forget: unless --force)
// and reports whether it is forgotten.
//
// Calibration (ONE setting for every model; no per-model tuning; NO test data). Protocol: the
// shared CIFAR-10 ResNet-20 and ResNet-32 (shared/models/cifar10-resnet-akamaster), cut
// pre_logits, methods neg_grad_plus, boundary_shrink, scrub, delete, random_labels at their
// defaults (unlearn/configs.h), 5,000 N(0, I) draws per class, seed 0, held-out set 1,000 draws
// per class, every run traced over its whole epoch budget (ForgetRequest::trace) with real
// accuracy after every epoch on the DECLARED VALIDATION SPLIT: the last 500 training images of
// each class (split_train_val). Command: tools/calibrate_selection.py (one traced `oblivio forget
// ... --eval-split val --trace` per run, then the rule replayed per margin_ratio; --sets for the
// pairs). The bar: validation A_f <= 1% and A_r >= the original's
// A_r - 1 pt. (These models were trained on those images: the forget class starts at 99.4-100%
// and is more confidently recognised than unseen images, so the bar is, if anything, harder
// there than on test data.) The rule was then replayed on the traces for each threshold:
//   - one class at a time (classes 0..9 x 2 models x 5 methods = 100 runs): the most negative
//     relative margin at which any run still had validation A_f > 1% was -0.76 (ResNet-20
//     neg_grad_plus, class 6, epoch 3: A_f 2.8%); an absolute margin of -5 (the note's value)
//     would have stopped 2 runs there. With margin_ratio 1.0: 100/100 meet the bar (A_f 0.0% at
//     every selected epoch, selected synR 0.851-0.993); 90 stop "forgotten", the other 10 are
//     random_labels runs whose retain agreement reaches the floor or whose 3 epochs end first
//     (relative margin -0.74 to -0.99): their model is selected and written, but reported as
//     NOT certified forgotten. Ratio 0.8 certifies all 100, but see the pairs.
//   - two classes at once ({3,5}, {0,8}, {1,9}, {2,6}, {4,7} x 2 models x 5 methods = 50 runs):
//     the worst-class rule matters here: a pooled margin let ResNet-20 neg_grad_plus {1, 9} stop
//     at -6.05 with 10% of the validation images still recognised. The most negative relative
//     margin with A_f > 1% was -0.96 (ResNet-32 neg_grad_plus {3, 5}, epoch 2, A_f 1.9%), so a
//     ratio below 1 would fail pairs. With 1.0 and the epoch budgets of configs.h (boundary_shrink
//     and delete were raised from 3 to 6 epochs for this: with 3, two runs ended the budget at
//     A_f 1.5% / 2.0%): 50/50 meet the bar (A_f <= 0.6%), 24 stop "forgotten", 25 end their
//     budget and 1 stops at the floor, all with A_f <= 0.6% but not certified.
// tau_r 0.85: the lowest synR of any selected epoch above was 0.851; the highest synR at a real
// collapse in the note 0.68; the 0.99 would refuse most models (only delete's selected
// epochs reach 0.99). tau_f 0.01 never binds once the margin criterion holds (synF is 0 at every
// selected epoch).
// Not covered by this calibration: last_block cuts (see unlearn/head_defaults.h).
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
    int64_t per_class = 1000;      // held-out draws per class
    double confident_share = 0.1;  // share of forget draws used for margin / synFconf
    double margin_ratio = 1.0;     // forgotten when margin <= -margin_ratio * original margin
    double tau_f = 0.01;           // ... and synF <= this
    double tau_r = 0.85;           // admissible when synR >= this
    int64_t batch = 2048;          // held-out draws per forward pass
};
template <class V>
void fields(SelectionConfig& c, V&& v) {
    v("per_class", c.per_class, "held-out synthetic draws per class", at_least(10));
    v("confident_share", c.confident_share,
      "share of the most confident held-out forget draws used for the margin", between(0.001, 1));
    v("margin_ratio", c.margin_ratio,
      "forgotten when the worst forget class's margin <= -margin_ratio x its original margin",
      kPositive);
    v("tau_f", c.tau_f, "forgotten also needs held-out forget agreement <= this", kUnitInterval);
    v("tau_r", c.tau_r, "retain agreement floor (admissible epochs)", kUnitInterval);
    v("batch", c.batch, "held-out draws per forward pass", at_least(1));
}

struct SelectionStats {
    int epoch = -1;  // -1: the original head / a model measured outside the epoch loop
    double forget_agreement = 0;
    double confident_agreement = 0;
    double margin = 0;                  // the worst forget class's margin (logit units)
    double relative_margin = 1;         // the worst forget class's margin / its original margin
    std::vector<double> class_margins;  // every forget class's margin (request order)
    double retain_agreement = 0;
    bool forgotten = false;
    bool admissible = false;
    bool finite = true;  // false: the head produced NaN/Inf logits (diverged); never selected
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
    // returns true to stop (rule at the top of this file). Called again after it said stop (a
    // traced run goes on), it only records: the selection stays the one made when it stopped.
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
    Tensor z_;                             // held-out draws (N, shape...) on the head's device
    std::vector<int64_t> label_;           // original argmax
    std::vector<char> confident_;          // forget draw among the confident share
    std::vector<char> is_forget_;          // per class
    std::vector<double> original_margin_;  // per forget class (forget_classes_ order)
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
