// Evaluation metrics (unlearn/metrics.h): split accuracies, AUS, confidences and losses, JS
// distance on hand-computed values; MIA-I (libsvm SVC) and MIA-II (logistic regression) on
// separable and indistinguishable data; the linear probe; error messages; and the comparison with
// scikit-learn on tests/golden/mia_fixture.json (written by tools/check_mia_sklearn.py).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "kernels/common/check.h"
#include "nn/io/json.h"
#include "tests/test_util.h"
#include "unlearn/metrics.h"

namespace obl {
namespace {

using ::testing::HasSubstr;

// Runs `f`, expects an obl::Error whose message contains `part`.
template <class F>
void expect_error(F&& f, const std::string& part) {
    try {
        f();
        ADD_FAILURE() << "expected an obl::Error containing '" << part << "'";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(part));
    }
}

// ---- accuracies, AUS ----------------------------------------------------------------------------

// Six rows, four classes (class 3 has no rows), forget class 2:
//   row  label  logits        argmax            correct
//   0    0      2  1  0  0    0                 yes
//   1    0      0  3  1  0    1                 no
//   2    1      0  1  1  0    1 (tie 1/2: low)  yes
//   3    1      0  2  1  0    1                 yes
//   4    2      0  0  5  0    2                 yes
//   5    2      4  0  1  0    0                 no
// A = 4/6; per class 1/2, 2/2, 1/2, 0 (no rows); A_r = 3/4 (rows 0-3), A_f = 1/2 (rows 4-5).
LogitSet six_rows() {
    LogitSet s;
    s.num_classes = 4;
    s.logits = {2, 1, 0, 0, 0, 3, 1, 0, 0, 1, 1, 0, 0, 2, 1, 0, 0, 0, 5, 0, 4, 0, 1, 0};
    s.labels = {0, 0, 1, 1, 2, 2};
    return s;
}

TEST(MetricsAccuracy, SplitAccuracyOnSixRows) {
    const SplitAccuracy a = split_accuracy(six_rows(), {2});
    EXPECT_DOUBLE_EQ(a.all, 4.0 / 6.0);
    EXPECT_DOUBLE_EQ(a.retain, 0.75);
    EXPECT_DOUBLE_EQ(a.forget, 0.5);
    EXPECT_EQ(a.retain_rows, 4);
    EXPECT_EQ(a.forget_rows, 2);
    ASSERT_EQ(a.per_class.size(), 4u);
    EXPECT_DOUBLE_EQ(a.per_class[0], 0.5);
    EXPECT_DOUBLE_EQ(a.per_class[1], 1.0);
    EXPECT_DOUBLE_EQ(a.per_class[2], 0.5);
    EXPECT_DOUBLE_EQ(a.per_class[3], 0.0);
    // A forget class with no rows adds no rows; forgetting 0 and 1 instead swaps the groups.
    const SplitAccuracy b = split_accuracy(six_rows(), {0, 1});
    EXPECT_DOUBLE_EQ(b.forget, 0.75);
    EXPECT_DOUBLE_EQ(b.retain, 0.5);
    const SplitAccuracy c = split_accuracy(six_rows(), {3});
    EXPECT_EQ(c.forget_rows, 0);
    EXPECT_DOUBLE_EQ(c.forget, 0.0);
    EXPECT_DOUBLE_EQ(c.retain, 4.0 / 6.0);
}

TEST(MetricsAccuracy, SplitAccuracyErrors) {
    LogitSet bad = six_rows();
    bad.logits.pop_back();
    expect_error([&] { split_accuracy(bad, {2}); }, "logits hold 23 values");
    bad = six_rows();
    bad.labels[3] = 4;
    expect_error([&] { split_accuracy(bad, {2}); }, "label 4 of row 3 is outside [0, 4)");
    expect_error([&] { split_accuracy(six_rows(), {7}); }, "forget class 7 is outside [0, 4)");
}

TEST(MetricsAccuracy, Aus) {
    // (1 - (0.9 - 0.85)) / (1 + 0.1) = 0.95 / 1.1
    EXPECT_NEAR(aus(0.9, 0.85, 0.1), 0.95 / 1.1, 1e-15);
    EXPECT_DOUBLE_EQ(aus(0.9, 0.9, 0.0), 1.0);  // retain kept, forget gone: the ideal
    EXPECT_DOUBLE_EQ(aus(1.0, 0.0, 1.0), 0.0);  // retain lost entirely
    EXPECT_DOUBLE_EQ(aus(0.8, 0.9, 0.0), 1.1);  // retain improved: above 1
    EXPECT_DOUBLE_EQ(aus(0.9, 0.9, 1.0), 0.5);  // nothing forgotten
    expect_error([] { aus(1.2, 0.9, 0.0); }, "original_retain_test = 1.2 is not an accuracy");
    expect_error([] { aus(0.9, -0.1, 0.0); }, "retain_test = -0.1");
    expect_error([] { aus(0.9, 0.9, 90.0); }, "forget_test = 90");
    expect_error([] { aus(0.9, 0.9, std::nan("")); }, "forget_test = nan");
}

// ---- confidences, losses, JS --------------------------------------------------------------------

TEST(MetricsPerSample, ConfidenceAndLossOnTwoRows) {
    LogitSet s;
    s.num_classes = 3;
    s.logits = {0, 0, 0, 1, 2, 3};
    s.labels = {2, 0};
    // Row 0: uniform, p = 1/3, loss ln 3. Row 1: p_0 = e / (e + e^2 + e^3) = 1 / (1 + e + e^2)
    // = 0.0900305731703805, loss ln(1 + e + e^2) = 2.40760596444438.
    const std::vector<double> p = true_class_confidence(s);
    const std::vector<double> l = per_sample_loss(s);
    ASSERT_EQ(p.size(), 2u);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_NEAR(p[0], 1.0 / 3.0, 1e-15);
    EXPECT_NEAR(l[0], std::log(3.0), 1e-15);
    EXPECT_NEAR(p[1], 0.0900305731703805, 1e-15);
    EXPECT_NEAR(l[1], 2.40760596444438, 1e-13);
    // Large logits stay finite: loss 1000 + ln(1 + 2 e^-1000) = 1000, p underflows to 0.
    s.logits = {1000, 0, 0, 0, 0, 1000};
    s.labels = {1, 2};
    EXPECT_DOUBLE_EQ(per_sample_loss(s)[0], 1000.0);
    EXPECT_DOUBLE_EQ(true_class_confidence(s)[0], 0.0);
    EXPECT_DOUBLE_EQ(per_sample_loss(s)[1], 0.0);
    EXPECT_DOUBLE_EQ(true_class_confidence(s)[1], 1.0);
    s.labels = {1, 3};
    expect_error([&] { per_sample_loss(s); }, "label 3 of row 1 is outside [0, 3)");
}

TEST(MetricsPerSample, JsDistance) {
    LogitSet a;
    a.num_classes = 2;
    a.logits = {0.3f, -1.2f, 2.0f, 0.5f};
    a.labels = {0, 1};
    EXPECT_EQ(js_distance(a, a), 0.0);  // identical outputs
    // Two (numerically) one-hot rows on different classes: JS = ln 2, distance sqrt(ln 2).
    LogitSet p, q;
    p.num_classes = q.num_classes = 2;
    p.logits = {200, 0};
    q.logits = {0, 200};
    EXPECT_NEAR(js_distance(p, q), std::sqrt(std::log(2.0)), 1e-12);
    // Row 0 identical (0); row 1 softmax(0, 0) = (1/2, 1/2) vs softmax(ln 3, 0) = (3/4, 1/4):
    // m = (5/8, 3/8), KL(p||m) = (ln 0.8 + ln 4/3) / 2 = 0.0322692..., KL(q||m) = 0.75 ln 1.2 +
    // 0.25 ln 2/3 = 0.0353749..., JS = 0.0338220756, distance 0.1839077909; mean over 2 rows
    // 0.0919538955 (ln 3 is rounded to float: 1e-8 slack).
    p.logits = {1, 2, 0, 0};
    q.logits = {1, 2, static_cast<float>(std::log(3.0)), 0};
    EXPECT_NEAR(js_distance(p, q), 0.09195389547023715, 1e-7);
    LogitSet three;
    three.num_classes = 3;
    three.logits = {0, 0, 0};
    expect_error([&] { js_distance(p, three); }, "class counts differ");
    q.logits.pop_back();
    q.logits.pop_back();
    expect_error([&] { js_distance(p, q); }, "logits sizes differ: 4 vs 2");
    LogitSet empty;
    empty.num_classes = 2;
    expect_error([&] { js_distance(empty, empty); }, "no rows");
}

// ---- MIA-I --------------------------------------------------------------------------------------

std::vector<double> values(int64_t n, double lo, double hi, uint64_t seed) {
    return test::uniform_values(n, lo, hi, seed);
}

TEST(MetricsMia, SvcOnSeparableConfidences) {
    const std::vector<double> members = values(60, 0.9, 1.0, 1);
    const std::vector<double> non_members = values(60, 0.0, 0.1, 2);
    // Targets that look like members: none predicted non-member.
    MiaSvcResult r = mia_svc(members, non_members, values(25, 0.92, 0.98, 3));
    EXPECT_EQ(r.non_member_share, 0.0);
    EXPECT_EQ(r.train_accuracy, 1.0);
    EXPECT_EQ(r.members, 60);
    EXPECT_EQ(r.non_members, 60);
    EXPECT_EQ(r.targets, 25);
    EXPECT_EQ(r.target_member, std::vector<uint8_t>(25, 1));
    // Targets that look unseen: all predicted non-member.
    r = mia_svc(members, non_members, values(25, 0.02, 0.08, 4));
    EXPECT_EQ(r.non_member_share, 1.0);
    EXPECT_EQ(r.target_member, std::vector<uint8_t>(25, 0));
}

TEST(MetricsMia, SvcBalancesAndIsDeterministic) {
    const std::vector<double> members = values(80, 0.5, 1.0, 5);
    const std::vector<double> non_members = values(30, 0.0, 0.7, 6);
    const std::vector<double> targets = values(40, 0.3, 0.9, 7);
    MiaSvcConfig cfg;
    cfg.seed = 11;
    const MiaSvcResult a = mia_svc(members, non_members, targets, cfg);
    EXPECT_EQ(a.members, 30);  // cut to the smaller side
    EXPECT_EQ(a.non_members, 30);
    const MiaSvcResult b = mia_svc(members, non_members, targets, cfg);
    EXPECT_EQ(a.target_member, b.target_member);
    EXPECT_EQ(a.train_accuracy, b.train_accuracy);
    cfg.max_per_side = 20;
    const MiaSvcResult c = mia_svc(members, non_members, targets, cfg);
    EXPECT_EQ(c.members, 20);
    EXPECT_EQ(c.non_members, 20);
}

TEST(MetricsMia, SvcErrors) {
    const std::vector<double> some = {0.1, 0.2, 0.3};
    expect_error([&] { mia_svc({}, some, some); }, "no member samples");
    expect_error([&] { mia_svc(some, {}, some); }, "no non-member samples");
    expect_error([&] { mia_svc(some, some, {}); }, "no target samples");
    expect_error(
        [&] {
            mia_svc(some, {0.1, std::nan(""), 0.3}, some);
        },
        "non_member[1] = nan is not finite");
    MiaSvcConfig cfg;
    cfg.c = 0;
    expect_error([&] { mia_svc(some, some, some, cfg); }, "c, gamma and tol must be > 0");
}

// ---- MIA-II -------------------------------------------------------------------------------------

TEST(MetricsMia, LogisticFitHandComputed) {
    // x = (-1, 1), y = (0, 1), C = 1. By symmetry b = 0; dF/dw = -2 sigmoid(-w) + w = 0, so w is
    // the fixed point of w = 2 / (1 + e^w): w = 0.674831614342399 (bisection).
    const LogisticFit1d f = fit_logistic_1d({-1.0, 1.0}, {0, 1}, 1.0);
    EXPECT_NEAR(f.weight, 0.674831614342399, 1e-10);
    EXPECT_NEAR(f.intercept, 0.0, 1e-12);
    // C = 1e6 barely penalises w: the same pair gives a much larger weight.
    EXPECT_GT(fit_logistic_1d({-1.0, 1.0}, {0, 1}, 1e6).weight, 5.0);
    expect_error([] { fit_logistic_1d({1.0, 2.0}, {1, 1}); }, "both labels 0 and 1 must occur");
    expect_error([] { fit_logistic_1d({1.0, 2.0}, {0, 2}); }, "label 2 at 1 is not 0 or 1");
    expect_error([] { fit_logistic_1d({1.0}, {0, 1}); }, "1 features but 2 labels");
}

TEST(MetricsMia, StratifiedShuffleSplitSizes) {
    std::vector<int> labels(100, 0);
    labels.resize(200, 1);
    const std::vector<CvSplit> s = stratified_shuffle_split(labels, 5, 0.1, 3);
    ASSERT_EQ(s.size(), 5u);
    for (const CvSplit& split : s) {
        ASSERT_EQ(split.test.size(), 20u);  // ceil(0.1 * 200)
        ASSERT_EQ(split.train.size(), 180u);
        int test_ones = 0;
        for (int64_t i : split.test) test_ones += labels[static_cast<size_t>(i)];
        EXPECT_EQ(test_ones, 10);  // stratified
        std::set<int64_t> all(split.train.begin(), split.train.end());
        all.insert(split.test.begin(), split.test.end());
        EXPECT_EQ(all.size(), 200u);  // disjoint, covering
    }
    EXPECT_NE(s[0].test, s[1].test);
    EXPECT_EQ(stratified_shuffle_split(labels, 5, 0.1, 3)[4].test, s[4].test);
    // 7 zeros and 4 ones: n_test = ceil(1.1) = 2; floors 2*7/11 -> 1, 2*4/11 -> 0; the spare
    // slot goes to the larger fraction (0.727, label 1): one test row per class.
    const std::vector<int> small = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    const CvSplit t = stratified_shuffle_split(small, 1, 0.1, 0)[0];
    ASSERT_EQ(t.test.size(), 2u);
    EXPECT_EQ(small[static_cast<size_t>(t.test[0])] + small[static_cast<size_t>(t.test[1])], 1);
    expect_error(
        [] {
            stratified_shuffle_split({0, 1}, 5, 0.1, 0);
        },
        "each needs at least one per class");
    expect_error([] { stratified_shuffle_split({0, 0, 0}, 5, 0.1, 0); }, "at least 2 classes");
}

TEST(MetricsMia, LossLogregSeparableVsIdentical) {
    // Separable: forget losses in [0, 0.1], test losses in [2, 3] -> every split is perfect.
    CvResult sep = mia_loss_logreg(values(300, 0.0, 0.1, 8), values(200, 2.0, 3.0, 9), 5, 1);
    EXPECT_EQ(sep.positives, 200);  // balanced to the smaller side
    EXPECT_EQ(sep.negatives, 200);
    ASSERT_EQ(sep.folds.size(), 5u);
    EXPECT_EQ(sep.mean, 1.0);
    EXPECT_EQ(sep.std, 0.0);
    // Identical distributions: the attack is at chance. (5 x 400 test rows; the fit is fixed
    // given the seed, so this bound is not flaky.)
    CvResult same = mia_loss_logreg(values(4000, 0.0, 2.0, 10), values(4000, 0.0, 2.0, 11), 5, 1);
    EXPECT_NEAR(same.mean, 0.5, 0.05);
    // Deterministic given the seed.
    EXPECT_EQ(mia_loss_logreg(values(4000, 0.0, 2.0, 10), values(4000, 0.0, 2.0, 11), 5, 1).folds,
              same.folds);
}

TEST(MetricsMia, LossLogregErrors) {
    expect_error([] { mia_loss_logreg({}, {1.0, 2.0}); }, "no positive samples");
    expect_error([] { mia_loss_logreg({1.0, 2.0}, {}); }, "no negative samples");
    expect_error([] { mia_loss_logreg({1.0}, {2.0}); }, "each needs at least one per class");
    expect_error(
        [] {
            mia_loss_logreg({1.0, std::nan("")}, {2.0, 3.0}, {CvSplit{{0, 2}, {1, 3}}});
        },
        "sample 3 is NaN");
    expect_error(
        [] {
            mia_loss_logreg({1.0, 2.0}, {2.0, 3.0}, {CvSplit{{0, 2}, {9}}});
        },
        "test index 9 is outside [0, 4)");
}

// ---- probe --------------------------------------------------------------------------------------

struct Features {
    std::vector<float> x;
    std::vector<int64_t> y;
};

// n rows of dim features, labels cycling over 4 classes. With `signal`, feature 0 is +2 for class
// 3 and -2 otherwise, plus noise in [-1, 1]: linearly separable. Without, every feature is noise.
Features make_features(int64_t n, int64_t dim, bool signal, uint64_t seed) {
    Features f;
    const std::vector<double> noise = values(n * dim, -1.0, 1.0, seed);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t label = i % 4;
        f.y.push_back(label);
        for (int64_t d = 0; d < dim; ++d) {
            double v = noise[static_cast<size_t>(i * dim + d)];
            if (signal && d == 0) v += label == 3 ? 2.0 : -2.0;
            f.x.push_back(static_cast<float>(v));
        }
    }
    return f;
}

TEST(MetricsProbe, SeparableFeaturesAreReadable) {
    const Features train = make_features(400, 6, true, 20), test = make_features(400, 6, true, 21);
    const ProbeResult r = probe_leakage(train.x, train.y, test.x, test.y, 6, {3});
    EXPECT_EQ(r.forget_accuracy, 1.0);
    EXPECT_EQ(r.retain_accuracy, 1.0);
    EXPECT_EQ(r.balanced_accuracy, 1.0);
    EXPECT_GT(r.iterations, 0);
    // A seeded subset of the train rows reads the class just as well.
    ProbeConfig cfg;
    cfg.max_train_rows = 100;
    EXPECT_EQ(probe_leakage(train.x, train.y, test.x, test.y, 6, {3}, cfg).forget_accuracy, 1.0);
}

TEST(MetricsProbe, NoInformationIsChance) {
    const Features train = make_features(2000, 8, false, 22),
                   test = make_features(2000, 8, false, 23);
    const ProbeResult r = probe_leakage(train.x, train.y, test.x, test.y, 8, {1});
    EXPECT_NEAR(r.balanced_accuracy, 0.5, 0.05);
}

TEST(MetricsProbe, Errors) {
    const Features f = make_features(40, 3, true, 24);
    std::vector<float> short_x = f.x;
    short_x.pop_back();
    expect_error([&] { probe_leakage(short_x, f.y, f.x, f.y, 3, {3}); },
                 "train features hold 119 values, expected 40 rows x 3");
    expect_error([&] { probe_leakage(f.x, f.y, short_x, f.y, 3, {3}); }, "test features hold 119");
    expect_error([&] { probe_leakage(f.x, f.y, f.x, f.y, 3, {}); }, "no forget classes");
    expect_error([&] { probe_leakage(f.x, f.y, f.x, f.y, 3, {7}); },
                 "0 forget-class and 40 retain-class rows");
    std::vector<int64_t> test_y(40, 0);
    expect_error([&] { probe_leakage(f.x, f.y, f.x, test_y, 3, {3}); },
                 "the test rows hold 0 forget-class");
}

// ---- scikit-learn fixture -----------------------------------------------------------------------

// tests/golden next to this file's directory (OBL_GOLDEN_DIR overrides), as test_golden.cpp.
std::string fixture_path() {
    if (const char* dir = std::getenv("OBL_GOLDEN_DIR"))
        return std::string(dir) + "/mia_fixture.json";
    return (std::filesystem::path(__FILE__).parent_path().parent_path() / "golden" /
            "mia_fixture.json")
        .string();
}

json::Value load_fixture() {
    const std::string path = fixture_path();
    std::ifstream in(path, std::ios::binary);
    OBL_CHECK(in.good(), "cannot open ", path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return json::parse(text.data(), text.size(), path);
}

const json::Value& field(const json::Value& v, const std::string& key) {
    const json::Value* f = v.find(key);
    OBL_CHECK(f != nullptr, "mia fixture: no key '", key, "'");
    return *f;
}

double number(const json::Value& v) {
    OBL_CHECK(v.kind == json::Value::Kind::Number, "mia fixture: not a number");
    return std::strtod(v.text.c_str(), nullptr);
}

std::vector<double> numbers(const json::Value& v) {
    std::vector<double> out;
    for (const json::Value& item : v.items) out.push_back(number(item));
    return out;
}

TEST(MetricsGolden, SvcMatchesScikitLearn) {
    const json::Value fx = load_fixture();
    const json::Value& in = field(fx, "inputs");
    const json::Value& ref = field(fx, "svc");
    MiaSvcConfig cfg;
    cfg.c = number(field(ref, "c"));
    cfg.gamma = number(field(ref, "gamma"));
    cfg.tol = number(field(ref, "tol"));
    const std::vector<double> members = numbers(field(in, "members"));
    const std::vector<double> non_members = numbers(field(in, "non_members"));
    const std::vector<double> targets = numbers(field(in, "targets"));
    ASSERT_EQ(members.size(), non_members.size());  // no subsampling: the same problem
    const MiaSvcResult r = mia_svc(members, non_members, targets, cfg);
    const std::vector<double> expected = numbers(field(ref, "target_member"));
    ASSERT_EQ(r.target_member.size(), expected.size());
    int differ = 0;
    for (size_t i = 0; i < expected.size(); ++i)
        if (r.target_member[i] != static_cast<uint8_t>(expected[i])) ++differ;
    EXPECT_EQ(differ, 0) << "libsvm and scikit-learn disagree on " << differ << " of "
                         << expected.size() << " targets";
    EXPECT_NEAR(r.non_member_share, number(field(ref, "non_member_share")), 1e-12);
    EXPECT_NEAR(r.train_accuracy, number(field(ref, "train_accuracy")), 1e-12);
}

TEST(MetricsGolden, LossLogregMatchesScikitLearn) {
    const json::Value fx = load_fixture();
    const json::Value& in = field(fx, "inputs");
    const json::Value& ref = field(fx, "logreg");
    const std::vector<double> positive = numbers(field(in, "positive"));
    const std::vector<double> negative = numbers(field(in, "negative"));
    const int64_t n = static_cast<int64_t>(positive.size() + negative.size());
    std::vector<CvSplit> splits;
    for (const json::Value& test : field(ref, "test_indices").items) {
        CvSplit s;
        std::set<int64_t> held;
        for (double i : numbers(test)) held.insert(static_cast<int64_t>(i));
        s.test.assign(held.begin(), held.end());
        for (int64_t i = 0; i < n; ++i)
            if (!held.count(i)) s.train.push_back(i);
        splits.push_back(s);
    }
    const CvResult r = mia_loss_logreg(positive, negative, splits);
    const std::vector<double> scores = numbers(field(ref, "scores"));
    ASSERT_EQ(r.folds.size(), scores.size());
    for (size_t s = 0; s < scores.size(); ++s) EXPECT_NEAR(r.folds[s], scores[s], 1e-6) << s;
    EXPECT_NEAR(r.mean, number(field(ref, "mean")), 1e-9);
    EXPECT_NEAR(r.std, number(field(ref, "std")), 1e-9);
    // Coefficients against scikit-learn's newton-cg fit at tol 1e-12 (the exact optimum; both
    // agree to ~1e-13 here).
    const json::Value& coefficients = field(ref, "coefficients");
    ASSERT_EQ(coefficients.items.size(), r.models.size());
    for (size_t s = 0; s < r.models.size(); ++s) {
        const std::vector<double> wb = numbers(coefficients.items[s]);
        EXPECT_NEAR(r.models[s].weight, wb[0], 1e-9 * std::max(1.0, std::fabs(wb[0]))) << s;
        EXPECT_NEAR(r.models[s].intercept, wb[1], 1e-9 * std::max(1.0, std::fabs(wb[1]))) << s;
    }
}

}  // namespace
}  // namespace obl
