// The figures of `oblivio forget --figures` (experiments/figures.h): the discriminative plane
// against hand-computed values, the argmax property every projection must show (a draw labelled
// f lies right of the f-vs-n1 boundary, one labelled n1 left of it), the real points, the shared
// axis ranges, the agreement curves of a hand-made report, and the CLI (three SVGs written; a
// missing directory is a one-line error that writes nothing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "experiments/cmd_forget.h"
#include "experiments/figures.h"
#include "models/split.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

namespace obl {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// A 3-class linear head on 3 features: rows (1,0,0), (0,1,0), (0,0,2), biases 0.5, -0.5, 0.
std::unique_ptr<Linear> hand_made_head() {
    auto fc = std::make_unique<Linear>(3, 3);
    float* w = fc->weight().f32();
    std::fill(w, w + 9, 0.f);
    w[0] = 1;  // w_0 = (1, 0, 0)
    w[4] = 1;  // w_1 = (0, 1, 0)
    w[8] = 2;  // w_2 = (0, 0, 2)
    float* b = fc->bias().f32();
    b[0] = 0.5f;
    b[1] = -0.5f;
    b[2] = 0.f;
    return fc;
}

TEST(Figures, PlaneOfAHandMadeHead) {
    const DiscriminativePlane p = discriminative_plane(*hand_made_head(), 0, 1, 2);
    const double r2 = std::sqrt(2.0), r45 = std::sqrt(4.5);
    // d1 = (w_0 - w_1) / |.| = (1, -1, 0) / sqrt 2.
    EXPECT_NEAR(p.d1[0], 1 / r2, 1e-12);
    EXPECT_NEAR(p.d1[1], -1 / r2, 1e-12);
    EXPECT_NEAR(p.d1[2], 0, 1e-12);
    // w_0 - w_2 = (1, 0, -2); minus its d1 part (1/2, -1/2, 0) = (1/2, 1/2, -2), norm sqrt 4.5.
    EXPECT_NEAR(p.d2[0], 0.5 / r45, 1e-12);
    EXPECT_NEAR(p.d2[1], 0.5 / r45, 1e-12);
    EXPECT_NEAR(p.d2[2], -2 / r45, 1e-12);
    // Boundary: -(b_0 - b_1) / |w_0 - w_1| = -1 / sqrt 2.
    EXPECT_NEAR(p.boundary, -1 / r2, 1e-12);
    // z_0 - z_1 = |w_0 - w_1| (h . d1) + (b_0 - b_1) for any h.
    const float h[3] = {0.3f, -1.7f, 2.5f};
    const auto [x, y] = project(p, h);
    const double z0 = 0.3 + 0.5, z1 = -1.7 - 0.5;
    EXPECT_NEAR(r2 * x + 1.0, z0 - z1, 1e-6);
    EXPECT_NEAR(y, (0.5 * 0.3 + 0.5 * -1.7 - 2 * 2.5) / r45, 1e-6);
}

TEST(Figures, DegeneratePlanesAreErrors) {
    auto fc = hand_made_head();
    float* w = fc->weight().f32();
    w[3] = 1;  // w_1 = w_0
    w[4] = 0;
    EXPECT_THROW(discriminative_plane(*fc, 0, 1, 2), Error);
    auto parallel = hand_made_head();
    float* v = parallel->weight().f32();  // w_2 = (-1, 2, 0): w_0 - w_2 = 2 (w_0 - w_1)
    v[6] = -1;
    v[7] = 2;
    v[8] = 0;
    EXPECT_THROW(discriminative_plane(*parallel, 0, 1, 2), Error);
    EXPECT_THROW(discriminative_plane(*hand_made_head(), 0, 1, 3), Error);  // out of range
}

int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

const svg::Series* series_named(const svg::Figure& fig, const std::string& name) {
    for (const svg::Series& s : fig.series)
        if (s.name == name) return &s;
    return nullptr;
}

// The argmax property, exact up to float rounding: a draw the ORIGINAL head labels f has
// z_f > z_n1, i.e. lies right of the original f-vs-n1 boundary; one labelled n1 lies left of it.
void expect_argmax_sides(const ProjectionFigures& pf, const std::string& f_name,
                         const std::string& n1_name) {
    const svg::Series* sf = series_named(pf.before, "synthetic " + f_name + " (forget)");
    const svg::Series* sn = series_named(pf.before, "synthetic " + n1_name);
    ASSERT_NE(sf, nullptr);
    ASSERT_NE(sn, nullptr);
    ASSERT_FALSE(sf->xs.empty());
    ASSERT_FALSE(sn->xs.empty());
    const double tol = 1e-4 * (1 + std::abs(pf.plane_before.boundary));
    for (double x : sf->xs) EXPECT_GT(x, pf.plane_before.boundary - tol);
    for (double x : sn->xs) EXPECT_LT(x, pf.plane_before.boundary + tol);
}

std::string name_of(int c) { return "class " + std::to_string(c); }

TEST(Figures, ProjectionOfARandomResNet20AtBothCuts) {
    auto original = make_model("cifar_resnet20");
    std::shared_ptr<Classifier> unlearned = original->clone_classifier();
    // "Unlearning": push the forget row against its own direction.
    for (auto& [pname, p] : unlearned->named_parameters())
        if (pname == "linear.weight")
            for (int64_t i = 0; i < p.size(1); ++i) p.f32()[3 * p.size(1) + i] *= -1.f;
    const Shape input{3, 32, 32};
    for (const std::string cut : {"pre_logits", "last_block"}) {
        SCOPED_TRACE(cut);
        ProjectionRequest req;
        req.cut = cut;
        req.forget_class = 3;
        req.points_per_class = 30;
        req.method = "test";
        // Real points: random embeddings with labels 0..9 in turn.
        const Split sp = split(*original, cut, input);
        const int64_t n = 100;
        Tensor x = test::uniform_tensor(batch_shape(n, sp.embedding_shape), -2, 2, 7);
        std::vector<int64_t> labels(n);
        for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % 10;
        TensorDataset real(x, Tensor::from_vector(labels, Shape{n}, Device::cpu()), 10);

        const ProjectionFigures pf =
            projection_figures(*original, *unlearned, input, req, &real, {});
        const int f = pf.plane_before.forget, n1 = pf.plane_before.near1,
                  n2 = pf.plane_before.near2;
        EXPECT_EQ(f, 3);
        EXPECT_NE(n1, f);
        EXPECT_NE(n2, f);
        EXPECT_NE(n1, n2);
        EXPECT_EQ(pf.plane_after.near1, n1);  // the same classes in both figures
        EXPECT_EQ(pf.plane_after.near2, n2);
        expect_argmax_sides(pf, name_of(f), name_of(n1));
        // The forget row changed, so the plane did.
        EXPECT_NE(pf.plane_before.d1, pf.plane_after.d1);
        // Real points: the first 10 of each class (n / 10 = 10 < 30 available), and the first
        // real forget point sits where the plane puts the features of row 3.
        const svg::Series* rf = series_named(pf.before, "real " + name_of(f) + " (forget)");
        ASSERT_NE(rf, nullptr);
        EXPECT_EQ(rf->xs.size(), 10u);
        {
            NoGradGuard no_grad;
            Tensor h = x.slice0(3, 4);
            for (size_t i = 0; i + 1 < sp.head->size(); ++i) h = (*sp.head)[i]->forward(h);
            const std::vector<float> row = h.to_vector<float>();
            const auto [px, py] = project(pf.plane_before, row.data());
            EXPECT_NEAR(rf->xs[0], px, 1e-6 * (1 + std::abs(px)));
            EXPECT_NEAR(rf->ys[0], py, 1e-6 * (1 + std::abs(py)));
        }
        // Shared ranges, and each head's boundary drawn as a vertical line at its own place.
        EXPECT_EQ(pf.before.x_min, pf.after.x_min);
        EXPECT_EQ(pf.before.y_max, pf.after.y_max);
        const svg::Series& line = pf.after.series.back();
        ASSERT_EQ(line.kind, svg::Series::Kind::Line);
        EXPECT_EQ(line.xs[0], pf.plane_after.boundary);
        EXPECT_EQ(line.xs[1], pf.plane_after.boundary);
        // Six scatter series + the line, all drawn.
        const std::string text = pf.before.to_svg();
        size_t points = 0;
        for (const svg::Series& s : pf.before.series)
            if (s.kind == svg::Series::Kind::Scatter) points += s.xs.size();
        EXPECT_EQ(pf.before.series.size(), 7u);
        EXPECT_GE(count(text, "<circle"), static_cast<int>(points));
    }
}

TEST(Figures, ExcludedClassesAreNeverNeighbours) {
    auto model = make_model("cifar_resnet20");
    const Shape input{3, 32, 32};
    ProjectionRequest req;
    req.forget_class = 3;
    req.points_per_class = 30;
    const ProjectionFigures first = projection_figures(*model, *model, input, req, nullptr, {});
    req.excluded = {first.plane_before.near1};
    const ProjectionFigures second = projection_figures(*model, *model, input, req, nullptr, {});
    EXPECT_NE(second.plane_before.near1, first.plane_before.near1);
    EXPECT_NE(second.plane_before.near2, first.plane_before.near1);
    // Only two classes left besides the excluded ones: no plane.
    EXPECT_NE(projection_problem(*model, "pre_logits", input, {0, 1, 2, 4, 5, 6, 7, 8}), "");
    EXPECT_EQ(projection_problem(*model, "pre_logits", input, {}), "");
}

// "matched" draws need the body's statistics, which the figures fetch as forget does.
TEST(Figures, MatchedDistributionDrawsFromTheBodysStatistics) {
    auto model = make_model("cifar_resnet20");
    ProjectionRequest req;
    req.forget_class = 0;
    req.points_per_class = 10;
    req.sampler.distribution = SynthDistribution::Matched;
    const ProjectionFigures pf = projection_figures(*model, *model, {3, 32, 32}, req, nullptr, {});
    EXPECT_EQ(pf.plane_before.forget, 0);
    EXPECT_EQ(pf.before.series.size(), 4u);  // three synthetic clouds + the boundary
}

TEST(Figures, AgreementCurvesOfAHandMadeReport) {
    ForgetReport rep;
    rep.method = "neg_grad_plus";
    rep.cut = "pre_logits";
    rep.original.forget_agreement = 1.0;
    rep.original.retain_agreement = 1.0;
    const double synf[3] = {0.5, 0.0, NAN}, synr[3] = {0.99, 0.98, NAN};
    for (int e = 0; e < 3; ++e) {
        SelectionStats s;
        s.epoch = e;
        s.forget_agreement = synf[e];
        s.retain_agreement = synr[e];
        s.finite = e < 2;
        rep.selection_history.push_back(s);
    }
    rep.selected = rep.selection_history[1];
    rep.stop_reason = "forgotten";
    svg::Figure fig = agreement_figure(rep);
    ASSERT_EQ(fig.series.size(), 3u);                             // two curves + the selected epoch
    EXPECT_EQ(fig.series[0].xs, (std::vector<double>{0, 1, 2}));  // the diverged epoch is left out
    EXPECT_EQ(fig.series[0].ys, (std::vector<double>{100, 50, 0}));
    EXPECT_EQ(fig.series[1].ys, (std::vector<double>{100, 99, 98}));
    EXPECT_EQ(fig.series[2].xs, (std::vector<double>{2}));
    // With a traced evaluation: two more (dashed) curves.
    rep.has_eval = true;
    rep.eval_dataset = "cifar10";
    rep.before.forget = 0.9;
    rep.before.retain = 0.92;
    for (double f : {0.6, 0.01, std::nan("")}) {
        HeadAccuracy a;
        a.forget = f;
        a.retain = 0.93;
        rep.eval_trace.push_back(a);
    }
    fig = agreement_figure(rep);
    ASSERT_EQ(fig.series.size(), 5u);
    EXPECT_EQ(fig.series[2].ys, (std::vector<double>{90, 60, 1}));
    EXPECT_TRUE(fig.series[2].dashed);
    EXPECT_NE(fig.to_svg().find("real forget accuracy (cifar10)"), std::string::npos);
}

TEST(Figures, ForgetWritesThreeSvgsOrNothing) {
    TempDir tmp("figures");
    const std::string model = tmp / "r20.safetensors";
    make_model("cifar_resnet20")
        ->save_safetensors(model, {{"arch", "cifar_resnet20"}, {"num_classes", "10"}});
    const std::string out = tmp / "forgot.safetensors";
    const std::vector<std::string> base = {
        "--model", model,      "--arch",        "cifar_resnet20",      "--classes",
        "3",       "--method", "neg_grad_plus", "--samples-per-class", "100",
        "--set",   "epochs=2", "--set",         "select.per_class=50", "--force",
        "--out",   out};

    // A missing directory: one-line error, exit 2, nothing written.
    std::vector<std::string> bad = base;
    bad.insert(bad.end(), {"--figures", tmp / "no_such_dir"});
    const test::CliRun refused = test::run_command(cli::cmd_forget, "forget", bad);
    EXPECT_EQ(refused.status, 2);
    const std::string& err = refused.err;
    EXPECT_EQ(err.rfind("error: --figures: directory ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
    EXPECT_FALSE(fs::exists(out));

    const std::string dir = tmp / "figs";
    fs::create_directories(dir);
    std::vector<std::string> good = base;
    good.insert(good.end(), {"--figures", dir});
    const test::CliRun run = test::run_command(cli::cmd_forget, "forget", good);
    const std::string& log = run.out;
    ASSERT_EQ(run.status, 0) << log << run.err;
    for (const char* name : {"agreement.svg", "projection_before.svg", "projection_after.svg"}) {
        SCOPED_TRACE(name);
        std::ifstream in(fs::path(dir) / name);
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        EXPECT_NE(text.find("<svg"), std::string::npos);
        EXPECT_NE(text.find("</svg>"), std::string::npos);
        EXPECT_NE(log.find(std::string("wrote ") + dir + "/" + name), std::string::npos) << log;
    }
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename());
    EXPECT_EQ(left.size(), 3u);  // no temporaries
}

}  // namespace
}  // namespace obl
