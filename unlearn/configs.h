// Every unlearning method's config struct, its field list, and the method function
// (DESIGN.md §G). One method per file: unlearn/<method>.cpp opens with the paper, the loss, the
// data it uses and any deviation from the paper. The table is unlearn/methods.cpp.
//
// Units and shared conventions:
//   lr            SGD learning rate (PyTorch semantics, momentum, L2 weight decay as in
//   torch.optim) epochs        passes over the method's "epoch set" (given per method below);
//   ctx.monitor may
//                 stop earlier (DESIGN.md §O)
//   batch_size    samples per batch of each set (a paired step holds one forget and one retain
//                 batch)
//   fused         use the fused linear-head step when the trainable part is one Linear (numerics
//                 equal to the autodiff path up to rounding; false forces autodiff)
//
// Defaults: ONE setting per method, the same for every model, with a fixed epoch budget that is
// safe without the data-free monitor (the monitor may stop earlier; nothing here needs it).
// Calibration protocol (no test data): the shared pretrained CIFAR-10 ResNet-20 and ResNet-32
// (shared/models/cifar10-resnet-akamaster) cut at pre_logits (64-d), 5,000 synthetic N(0, I)
// draws per class labelled by the head's argmax, seed 0, each method run over its whole epoch
// budget (ForgetRequest::trace), real accuracy measured after every epoch on the DECLARED
// VALIDATION SPLIT, the last 500 CIFAR-10 training images of each class (split_train_val;
// `oblivio forget ... --eval-split val --trace`, swept by tools/calibrate_selection.py):
// F = accuracy on the forget classes, R = on the others. Runs: every class 0..9 alone on both
// models (20 runs per method) and five pairs {3,5} {0,8} {1,9} {2,6} {4,7} on both (10 runs). The
// bar (the unlearning issue's): F <= 1% and R >= the original's R - 1 pt. The models saw these
// images in training (R starts at 99.7-100%, F at 99.4-100%), so R barely moves here and "dR"
// ranges are narrow; real test figures are reported by the acceptance runs, never used to choose.
// Figures below: "epoch e" counts from 1; F is the WORST run; the contract and behaviour tests are
// tests/unlearn/test_methods.cpp.
#pragma once

#include <cstdint>
#include <memory>

#include "unlearn/method.h"

namespace obl {

// ---- finetune: CE on retain (epoch = one pass over retain) --------------------------------------
// Defaults: after 5 epochs F is still 56-86% for one class, 80-92% for pairs; R -0.1..+0.2 pt.
// Forgets only through interference: the weak baseline, not held to the bar.
struct FinetuneConfig {
    float lr = 0.05f;
    int epochs = 5;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    bool fused = true;
};
template <class V>
void fields(FinetuneConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the retain set", kNonNegative);
    v("batch_size", c.batch_size, "retain samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("fused", c.fused, "fused linear-head step when the head is one Linear");
}
std::unique_ptr<Module> finetune(const Module& original, const UnlearnData& data,
                                 const FinetuneConfig& cfg, const RunContext& ctx);

// ---- neg_grad: gradient ascent on the forget CE (epoch = one pass over forget) ------------------
// Defaults: lr 0.01, 4 epochs. F <= 0.2% from epoch 3 (one class and pairs), 0 at 4; R -0.1 to
// +0.2 pt. The loss has no floor: longer runs degrade the head, so they need the monitor.
struct NegGradConfig {
    float lr = 0.01f;
    int epochs = 4;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    bool fused = true;
};
template <class V>
void fields(NegGradConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set", kNonNegative);
    v("batch_size", c.batch_size, "forget samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("fused", c.fused, "fused linear-head step when the head is one Linear");
}
std::unique_ptr<Module> neg_grad(const Module& original, const UnlearnData& data,
                                 const NegGradConfig& cfg, const RunContext& ctx);

// ---- neg_grad_plus: beta CE_retain - (1 - beta) CE_forget (epoch = one pass over forget) --------
// Defaults: lr 0.05, beta 0.9, 8 epochs. One class: F <= 17% at epoch 4, 0 from epoch 5 through
// 8; pairs: 0 from epoch 4; R -0.1 to +0.2 pt throughout. beta 0.5 forgets at epoch 2 but the
// ascent then erodes R (-0.9 to -6.9 pt at epoch 4, -9.7 to -23.7 at 8): the retain term must
// dominate for a fixed budget to be safe.
struct NegGradPlusConfig {
    float lr = 0.05f;
    int epochs = 8;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float beta = 0.9f;
    bool fused = true;
};
template <class V>
void fields(NegGradPlusConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set (each forget batch paired with a retain one)",
      kNonNegative);
    v("batch_size", c.batch_size, "samples per batch of each set", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("beta", c.beta, "weight of the retain CE; the forget CE is ascended with weight 1 - beta",
      kUnitInterval);
    v("fused", c.fused, "fused linear-head step when the head is one Linear");
}
std::unique_ptr<Module> neg_grad_plus(const Module& original, const UnlearnData& data,
                                      const NegGradPlusConfig& cfg, const RunContext& ctx);

// ---- random_labels: forget samples relabelled uniformly among the retain classes ---------------
// (epoch = one pass over forget; each forget batch is paired with a retain batch when
// retain_weight > 0)
// Defaults: lr 0.05, 3 epochs, retain_weight 1. One class: F <= 0.4% after epoch 1, 0 after 2;
// pairs: 11% / 4.2% / 0 after epochs 1 / 2 / 3; R -0.2 to +0.1 pt. With retain_weight 0 (the
// paper's forget-only version) R collapses: -1.6 to -9.5 pt at epoch 4, -14 to -76 pt at 5, as
// in notes/datafree-selection.md.
struct RandomLabelsConfig {
    float lr = 0.05f;
    int epochs = 3;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float retain_weight = 1.f;
    bool fused = true;
};
template <class V>
void fields(RandomLabelsConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set", kNonNegative);
    v("batch_size", c.batch_size, "samples per batch of each set", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("retain_weight", c.retain_weight,
      "weight of the CE on paired retain batches (0: forget samples only, as in the paper)",
      kNonNegative);
    v("fused", c.fused, "fused linear-head step when the head is one Linear");
}
std::unique_ptr<Module> random_labels(const Module& original, const UnlearnData& data,
                                      const RandomLabelsConfig& cfg, const RunContext& ctx);

// ---- boundary_shrink: relabel each forget sample to its nearest wrong class (epoch = forget) ----
// Defaults: lr 0.05, 6 epochs, bound 0.1. One class: F <= 0.4% after epoch 1, 0 after 2. Pairs
// need longer: F <= 8.5 / 1.5 / 0.9 / 0.6% after epochs 1 / 3 / 4 / 6 (hence 6 epochs; with 3,
// ResNet-20 {2, 6} ended at 1.5%); R -0.1 to +0.2 pt. The step size matters little: bound 0 and 1
// give F <= 0.5% / 0.3% after 6 epochs on the pairs.
struct BoundaryShrinkConfig {
    float lr = 0.05f;
    int epochs = 6;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float bound = 0.1f;
    bool fused = true;
};
template <class V>
void fields(BoundaryShrinkConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set", kNonNegative);
    v("batch_size", c.batch_size, "forget samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("bound", c.bound,
      "signed-gradient step of the neighbour search, in units of the forget inputs' RMS std",
      kNonNegative);
    v("fused", c.fused, "fused linear-head step when the head is one Linear");
}
std::unique_ptr<Module> boundary_shrink(const Module& original, const UnlearnData& data,
                                        const BoundaryShrinkConfig& cfg, const RunContext& ctx);

// ---- boundary_expand: a shadow class for the forget samples, then dropped (epoch = forget) ------
// Defaults: lr 0.1, 3 epochs. One class: F 0 from epoch 1; R -0.1 to +0.2 pt. Pairs plateau at
// F 0.1-20% after 3 epochs: after pruning the shadow, some samples of one forget class land on
// the other (not held to the 1% bar).
struct BoundaryExpandConfig {
    float lr = 0.1f;
    int epochs = 3;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
};
template <class V>
void fields(BoundaryExpandConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set", kNonNegative);
    v("batch_size", c.batch_size, "forget samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
}
std::unique_ptr<Module> boundary_expand(const Module& original, const UnlearnData& data,
                                        const BoundaryExpandConfig& cfg, const RunContext& ctx);

// ---- scrub: max steps on forget KL, min steps on retain KL + CE ---------------------------------
// (epoch = a max pass over forget, except in the final_min_epochs last epochs, then a min pass
// over retain)
// Defaults: lr 0.05, T 1, alpha = gamma = 1, 8 epochs of which the last 2 are min-only. F <= 7.4%
// at epoch 2 and 0 from epoch 3 (one class; pairs 0 from epoch 2); R -0.1 to +0.2 pt. At the
// reference's T = 4 the forget class never goes (F 97.6-100% through 8 epochs, see scrub.cpp);
// with 4 final min-only epochs the retain KL re-teaches it (F up to 41% at epoch 8).
struct ScrubConfig {
    float lr = 0.05f;
    int epochs = 8;
    int final_min_epochs = 2;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float temperature = 1.f;
    float alpha = 1.f;
    float gamma = 1.f;
};
template <class V>
void fields(ScrubConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "epochs; each is an optional max pass (forget) then a min pass (retain)",
      kNonNegative);
    v("final_min_epochs", c.final_min_epochs,
      "last epochs without the max pass (the paper's epochs - msteps)", kNonNegative);
    v("batch_size", c.batch_size, "samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("temperature", c.temperature, "distillation temperature T of both KL terms", kPositive);
    v("alpha", c.alpha, "weight of the retain KL in the min step", kNonNegative);
    v("gamma", c.gamma, "weight of the retain CE in the min step", kNonNegative);
}
std::unique_ptr<Module> scrub(const Module& original, const UnlearnData& data,
                              const ScrubConfig& cfg, const RunContext& ctx);

// ---- scar: Mahalanobis pull of forget outputs to the nearest retain class + retain distillation -
// (epoch = one pass over forget, each forget batch paired with a retain batch)
// Defaults: lr 0.05, lambda_forget 10, 2 epochs. F <= 0.2% (one class) / 0.6% (pairs) after
// epoch 2, R -0.1 to +0.1 pt. A third epoch lets some real forget samples come back (F up to 9.8%
// at epoch 3): the forget draws sit at their target class's mean while those samples do not
// follow. lambda_forget 1 forgets too slowly (F 94-99% after 8 epochs at lr 0.01).
struct ScarConfig {
    float lr = 0.05f;
    int epochs = 2;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float lambda_forget = 10.f;
    float lambda_retain = 1.f;
    float temperature = 1.f;
    float shrink = 3.f;
};
template <class V>
void fields(ScarConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set", kNonNegative);
    v("batch_size", c.batch_size, "samples per batch of each set", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("lambda_forget", c.lambda_forget, "weight of the Mahalanobis pull (lambda_1)", kNonNegative);
    v("lambda_retain", c.lambda_retain, "weight of the retain distillation (lambda_2)",
      kNonNegative);
    v("temperature", c.temperature, "temperature of the retain distillation", kPositive);
    v("shrink", c.shrink, "covariance shrinkage: S + shrink * mean(diag S) * I", kPositive);
}
std::unique_ptr<Module> scar(const Module& original, const UnlearnData& data, const ScarConfig& cfg,
                             const RunContext& ctx);

// ---- delete: distil the original's logits with every forget class masked (epoch = forget) -------
// Defaults: lr 0.05, T 1, 6 epochs. One class: F <= 0.4% after epoch 1, 0 after 2. Pairs: F <=
// 7.4 / 2.0 / 0.9 / 0.6% after epochs 1 / 3 / 5 / 6 (hence 6 epochs; with 3, ResNet-20 {2, 6}
// ended at 2.0%); R -0.1 to +0.2 pt.
struct DeleteConfig {
    float lr = 0.05f;
    int epochs = 6;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float temperature = 1.f;
};
template <class V>
void fields(DeleteConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the forget set", kNonNegative);
    v("batch_size", c.batch_size, "forget samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("temperature", c.temperature, "distillation temperature", kPositive);
}
std::unique_ptr<Module> delete_method(const Module& original, const UnlearnData& data,
                                      const DeleteConfig& cfg, const RunContext& ctx);

// ---- bad_teacher: competent / incompetent teacher distillation (epoch = forget + retain share) --
// Defaults: lr 0.1, T 1, retain_fraction 0.3, 3 epochs. F plateaus at 44-93% (one class, 3
// epochs): on N(0, I) draws the random head's outputs are nearly uniform, so the student learns
// a flat output on the forget draws and real forget samples keep much of their class; R -0.3 to
// +0.1 pt. Not held to the bar.
struct BadTeacherConfig {
    float lr = 0.1f;
    int epochs = 3;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    float temperature = 1.f;
    float retain_fraction = 0.3f;
};
template <class V>
void fields(BadTeacherConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the mixed set (forget + the retain share)", kNonNegative);
    v("batch_size", c.batch_size, "samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("temperature", c.temperature, "distillation temperature (KL_temperature)", kPositive);
    v("retain_fraction", c.retain_fraction,
      "share of the retain set drawn once (seeded) for the competent teacher", kUnitInterval);
}
std::unique_ptr<Module> bad_teacher(const Module& original, const UnlearnData& data,
                                    const BadTeacherConfig& cfg, const RunContext& ctx);

// ---- retrain_head: a freshly initialised head trained on retain (epoch = one pass over retain) --
// Defaults: lr 0.05, 5 epochs. F 0 from epoch 1 (every class and pair); R -0.1 to +0.2 pt.
struct RetrainHeadConfig {
    float lr = 0.05f;
    int epochs = 5;
    int batch_size = 256;
    float momentum = 0.9f;
    float weight_decay = 0.f;
    bool fused = true;
};
template <class V>
void fields(RetrainHeadConfig& c, V&& v) {
    v("lr", c.lr, "SGD learning rate", kPositive);
    v("epochs", c.epochs, "passes over the retain set", kNonNegative);
    v("batch_size", c.batch_size, "retain samples per step", at_least(1));
    v("momentum", c.momentum, "SGD momentum", between(0, 0.999));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("fused", c.fused, "fused linear-head step when the head is one Linear");
}
std::unique_ptr<Module> retrain_head(const Module& original, const UnlearnData& data,
                                     const RetrainHeadConfig& cfg, const RunContext& ctx);

}  // namespace obl
