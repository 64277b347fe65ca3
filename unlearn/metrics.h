// Evaluation metrics of class unlearning (issue: experiments). All of them REPORT; none is ever
// used to choose an epoch, a learning rate or a seed (DESIGN.md §O).
//
// Inputs are host arrays: logits (N x C row-major floats) and labels (N ints). Accuracies are in
// [0, 1]. Every randomised metric takes a seed and is deterministic given it (Philox streams under
// derive_seed, unlearn/train_loop.h: the same numbers on every platform).
//
//   accuracy            share of rows whose argmax equals the label (ties: the lowest index)
//   A_r, A_f            accuracy over the rows whose label is a retain / forget class
//   AUS                 (1 - (A_or - A^t_r)) / (1 + A^t_f)   (Cha et al. 2024; the reference
//                       paper's code computes it on test accuracies in [0, 1]), A_or = the
//                       ORIGINAL model's retain test accuracy
//   MIA-I               membership inference on the true-class confidence p_y (softmax), the
//                       "confidence" attack of Jia et al. 2023 / SalUn (SVC_MIA_forget_efficacy):
//                       an RBF C-SVC (libsvm, C = 3, gamma = 1 = scikit-learn's gamma='auto' for
//                       one feature, tol 1e-3) trained on members = retain-train (label 1) vs
//                       non-members = test, all classes (label 0), balanced by subsampling the
//                       larger side (seeded), then applied to the target = forget-train; reports
//                       the share of targets predicted NON-member (high = the forget data looks
//                       unseen).
//   MIA-II              the loss attack of SCRUB (Kurmanji et al. 2023), as the reference paper
//                       runs it: logistic regression on the per-sample CE loss (clipped to
//                       [-100, 100], not standardised), forget-train (label 1) vs forget-class
//                       test (label 0), balanced by subsampling the larger side, 5 stratified
//                       shuffle splits with a 10% test share (scikit-learn's StratifiedShuffleSplit
//                       defaults), accuracy per split; mean and population std. 0.5 = the forget
//                       data is indistinguishable from unseen data.
//   probe leakage       a class-balanced binary logistic regression (L-BFGS, deterministic) on
//                       frozen features at the cut (real train features, target = "in a forget
//                       class" vs "not"), evaluated on real test features: the share of
//                       forget-class test rows it still recognises (how readable the forget classes
//                       remain from the representation; 0.5 = chance for the balanced classifier).
//   JS distance         mean over rows of sqrt(JS divergence, natural log) between the softmax
//                       outputs of two models on the same inputs (e.g. unlearned vs oracle).
//
// metrics.cpp lists the sources of every setting and the deviations from them.
#pragma once

#include <cstdint>
#include <vector>

namespace obl {

// Row-major N x C logits with their labels.
struct LogitSet {
    std::vector<float> logits;
    std::vector<int64_t> labels;
    int num_classes = 0;
    int64_t rows() const { return static_cast<int64_t>(labels.size()); }
};

struct SplitAccuracy {
    double all = 0, retain = 0, forget = 0;  // A, A_r, A_f; a group with no rows has accuracy 0
    std::vector<double> per_class;           // num_classes entries (0 for a class with no rows)
    int64_t retain_rows = 0, forget_rows = 0;
};
// Throws obl::Error for a malformed set (logits size != rows x C, a label outside [0, C)) or a
// forget class outside [0, C).
SplitAccuracy split_accuracy(const LogitSet& set, const std::vector<int>& forget_classes);

// AUS; throws obl::Error for accuracies outside [0, 1].
double aus(double original_retain_test, double retain_test, double forget_test);

// Per-row softmax probability of the label, and per-row CE loss (logsumexp - logit_y), in double.
std::vector<double> true_class_confidence(const LogitSet& set);
std::vector<double> per_sample_loss(const LogitSet& set);

// ---- MIA-I: SVC on one feature per sample -------------------------------------------------------

struct MiaSvcConfig {
    double c = 3.0;      // C-SVC cost (SalUn: SVC(C=3))
    double gamma = 1.0;  // RBF gamma (gamma='auto' = 1 / #features = 1)
    double tol = 1e-3;   // libsvm eps = scikit-learn's tol
    // Members / non-members kept for training, after balancing (seeded subsample). 10000 keeps
    // the whole CIFAR / TinyImageNet test side, as SalUn does; 2 x 10000 training points and
    // 5000 targets took ~10 s of CPU (one core) here. Lower it for quick runs.
    int64_t max_per_side = 10000;
    uint64_t seed = 0;
};
struct MiaSvcResult {
    double non_member_share = 0;  // share of targets predicted non-member
    double train_accuracy = 0;    // of the attack on its own balanced training set
    int64_t members = 0, non_members = 0, targets = 0;  // counts actually used
    std::vector<uint8_t> target_member;                 // per target: 1 = predicted member
};
// MIA-I on one feature per sample (the true-class confidence). Throws when a side (members,
// non-members, targets) is empty or holds a non-finite value.
MiaSvcResult mia_svc(const std::vector<double>& member, const std::vector<double>& non_member,
                     const std::vector<double>& target, const MiaSvcConfig& cfg = {});

// ---- MIA-II: logistic regression on the loss, cross-validated -----------------------------------

// A fitted one-feature logistic regression: P(label 1 | x) = sigmoid(weight * x + intercept).
struct LogisticFit1d {
    double weight = 0, intercept = 0;
};
// The exact minimiser (Newton's method, gradient below 1e-10 relative) of
//     sum_i [log(1 + exp(z_i)) - y_i z_i] + weight^2 / (2 c),   z_i = weight * x_i + intercept,
// scikit-learn's LogisticRegression(C=c) objective (the intercept is not penalised). Labels are
// 0 / 1 and both must occur.
LogisticFit1d fit_logistic_1d(const std::vector<double>& x, const std::vector<int>& y,
                              double c = 1.0);

// One train / test split: indices into the sample list.
struct CvSplit {
    std::vector<int64_t> train, test;
};
// Stratified shuffle splits (scikit-learn's StratifiedShuffleSplit sizes: n_test = ceil(test_share
// * n), the rest trains; each class contributes floor(n_test * n_c / n) test rows, the remainder
// going to the classes with the largest fractions, ties to the lower label). Split s shuffles each
// class with Philox under derive_seed(seed, stream, s * #classes + class). Index lists ascend.
// The random streams differ from numpy's, so the splits differ from scikit-learn's; the explicit
// overload of mia_loss_logreg below takes scikit-learn's splits for a like-for-like check.
std::vector<CvSplit> stratified_shuffle_split(const std::vector<int>& labels, int splits,
                                              double test_share, uint64_t seed);

struct CvResult {
    double mean = 0, std = 0;              // over splits (population std, as np.std)
    std::vector<double> folds;             // accuracy on each split's test rows
    std::vector<LogisticFit1d> models;     // the attack fitted on each split's train rows
    int64_t positives = 0, negatives = 0;  // samples used after balancing
};
// MIA-II: balances positives (label 1) and negatives (label 0) by subsampling the larger side
// (seeded), clips to [-100, 100], then `splits` stratified shuffle splits with a 10% test share;
// fit_logistic_1d (C = 1) on each split's train rows, accuracy on its test rows (predicted 1 when
// weight * x + intercept > 0). Throws when a side is empty, a value is NaN, or the balanced set is
// too small for a split (each class needs a train and a test row).
CvResult mia_loss_logreg(const std::vector<double>& positive, const std::vector<double>& negative,
                         int splits = 5, uint64_t seed = 0);
// The same attack on explicit splits and without balancing: indices refer to the concatenation
// negative ++ positive (SCRUB's order: test losses, then forget losses).
CvResult mia_loss_logreg(const std::vector<double>& positive, const std::vector<double>& negative,
                         const std::vector<CvSplit>& splits);

// ---- linear-probe leakage -----------------------------------------------------------------------

struct ProbeConfig {
    int iterations = 100;  // L-BFGS iterations at most (each: about 3 passes over the features)
    double l2 = 1e-4;      // penalty l2 / 2 * ||w||^2 on the mean class-balanced loss (bias free)
    double tol = 1e-6;     // stop when the gradient's largest entry is below this
    // Train rows used at most (a seeded uniform subset when there are more; 0 = all): bounds the
    // cost at large cuts (a 50000 x 8192 feature matrix takes ~0.5 s a pass).
    int64_t max_train_rows = 20000;
    uint64_t seed = 0;  // the subset only; the fit itself is deterministic (starts at zero)
};
struct ProbeResult {
    double forget_accuracy = 0;  // on test rows of the forget classes: predicted "forget"
    double retain_accuracy = 0;  // on test rows of the retain classes: predicted "retain"
    double balanced_accuracy = 0;
    int iterations = 0;  // L-BFGS iterations run
};
// Linear-probe leakage. Features are row-major N x D floats (the cut's embeddings, flattened),
// standardised with the train rows' mean and population std (a constant feature keeps scale 1).
// Each class side weighs half of the loss. Throws on size mismatches, a label < 0, no forget
// classes, or a side (forget / retain) with no train or no test rows.
ProbeResult probe_leakage(const std::vector<float>& train_features,
                          const std::vector<int64_t>& train_labels,
                          const std::vector<float>& test_features,
                          const std::vector<int64_t>& test_labels, int64_t dim,
                          const std::vector<int>& forget_classes, const ProbeConfig& cfg = {});

// Mean per-row JS distance between softmax(a) and softmax(b) (same shape; labels are ignored).
// In [0, sqrt(ln 2)]. Throws on a shape mismatch or no rows.
double js_distance(const LogitSet& a, const LogitSet& b);

}  // namespace obl
