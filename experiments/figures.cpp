// Figures of one forget request (experiments/figures.h): the discriminative plane, the two
// projection scatter plots and the per-epoch agreement curves.
#include "experiments/figures.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <utility>

#include "kernels/common/check.h"
#include "models/split.h"
#include "nn/autograd.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

double norm(const std::vector<double>& a) { return std::sqrt(dot(a, a)); }

std::string class_name(const std::vector<std::string>& names, int c) {
    return c >= 0 && static_cast<size_t>(c) < names.size() ? names[static_cast<size_t>(c)]
                                                           : "class " + std::to_string(c);
}

// The head's stages before its last Linear applied to x (the Linear's input features), as
// host rows: one vector of in_features floats per sample.
std::vector<float> features(Sequential& head, const Tensor& x, int64_t in_features) {
    NoGradGuard no_grad;
    Tensor h = x;
    for (size_t i = 0; i + 1 < head.size(); ++i) h = head[i]->forward(h);
    OBL_CHECK(h.numel() == x.size(0) * in_features, "figures: the head's last Linear expects ",
              in_features, " features per sample, its earlier stages give shape ", h.shape());
    return h.to_vector<float>();
}

// Points of one class in plane coordinates.
struct Cloud {
    std::vector<double> xs, ys;
};

Cloud project_rows(const DiscriminativePlane& plane, const std::vector<float>& rows,
                   const std::vector<int64_t>& which) {
    Cloud c;
    const size_t d = plane.d1.size();
    for (int64_t i : which) {
        const auto [x, y] = project(plane, rows.data() + static_cast<size_t>(i) * d);
        c.xs.push_back(x);
        c.ys.push_back(y);
    }
    return c;
}

}  // namespace

DiscriminativePlane discriminative_plane(const Linear& fc, int forget, int near1, int near2) {
    const Tensor& w = fc.weight();
    const int64_t k = w.size(0), d = w.size(1);
    for (int c : {forget, near1, near2})
        OBL_CHECK(c >= 0 && c < k, "figures: class ", c, " is out of range for a head with ", k,
                  " outputs");
    const std::vector<double> wv = w.to_vector<double>();
    const auto row = [&](int c) {
        return std::vector<double>(wv.begin() + c * d, wv.begin() + (c + 1) * d);
    };
    const std::vector<double> wf = row(forget), w1 = row(near1), w2 = row(near2);
    DiscriminativePlane p;
    p.forget = forget;
    p.near1 = near1;
    p.near2 = near2;
    p.d1.resize(static_cast<size_t>(d));
    p.d2.resize(static_cast<size_t>(d));
    for (size_t i = 0; i < p.d1.size(); ++i) {
        p.d1[i] = wf[i] - w1[i];
        p.d2[i] = wf[i] - w2[i];
    }
    const double n1 = norm(p.d1);
    OBL_CHECK(n1 > 0, "figures: the head's rows for classes ", forget, " and ", near1,
              " are equal: no discriminative direction");
    for (double& v : p.d1) v /= n1;
    const double along = dot(p.d2, p.d1);
    for (size_t i = 0; i < p.d2.size(); ++i) p.d2[i] -= along * p.d1[i];
    const double n2 = norm(p.d2);
    OBL_CHECK(n2 > 1e-12 * std::max(1.0, n1), "figures: w_", forget, " - w_", near2,
              " is parallel to w_", forget, " - w_", near1, ": no second direction");
    for (double& v : p.d2) v /= n2;
    double gap_bias = 0;
    if (fc.bias().defined()) {
        const std::vector<double> b = fc.bias().to_vector<double>();
        gap_bias = b[static_cast<size_t>(forget)] - b[static_cast<size_t>(near1)];
    }
    p.boundary = -gap_bias / n1;
    return p;
}

std::pair<double, double> project(const DiscriminativePlane& plane, const float* features) {
    double x = 0, y = 0;
    for (size_t i = 0; i < plane.d1.size(); ++i) {
        x += plane.d1[i] * features[i];
        y += plane.d2[i] * features[i];
    }
    return {x, y};
}

std::string projection_problem(const Classifier& model, const std::string& cut,
                               const Shape& input_shape, const std::vector<int>& excluded) {
    const Split sp = split(model, cut, input_shape);
    if (sp.head->empty() || as_linear(*(*sp.head)[sp.head->size() - 1]) == nullptr)
        return "--figures: the head after cut '" + cut +
               "' does not end in a Linear layer, so it has no discriminative plane";
    std::vector<int> gone = excluded;
    std::sort(gone.begin(), gone.end());
    gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
    if (model.num_classes() - static_cast<int>(gone.size()) < 3)
        return "--figures: the projection needs at least three classes the model still predicts";
    return "";
}

ProjectionFigures projection_figures(const Classifier& original, const Classifier& unlearned,
                                     const Shape& input_shape, const ProjectionRequest& req,
                                     const TensorDataset* real,
                                     const std::vector<std::string>& class_names) {
    const std::string problem = projection_problem(original, req.cut, input_shape, req.excluded);
    OBL_CHECK(problem.empty(), problem);
    const int k = original.num_classes();
    OBL_CHECK(req.forget_class >= 0 && req.forget_class < k, "figures: forget class ",
              req.forget_class, " is out of range");
    // Private copies: figures never touch the caller's models, not even their training flag.
    const std::unique_ptr<Classifier> original_copy = original.clone_classifier();
    const std::unique_ptr<Classifier> unlearned_copy = unlearned.clone_classifier();
    original_copy->train(false);
    unlearned_copy->train(false);
    Split before = split(*original_copy, req.cut, input_shape);
    Split after = split(*unlearned_copy, req.cut, input_shape);
    const Linear& fc_before = *as_linear(*(*before.head)[before.head->size() - 1]);
    const Linear& fc_after = *as_linear(*(*after.head)[after.head->size() - 1]);

    // Fresh synthetic draws from the original head, on their own seed stream: first the forget
    // class's (they pick the neighbours), then the two neighbours'. Only these three classes get
    // a quota, so the cost does not grow with the number of classes.
    const auto draw_classes = [&](const std::vector<int>& classes, uint64_t index) {
        SamplerConfig sampler = req.sampler;
        if (sampler.distribution == SynthDistribution::Matched && sampler.matched_mean.empty()) {
            MatchedStats ms = matched_stats(*before.body, before.embedding_shape);  // as forget
            sampler.matched_mean = std::move(ms.mean);
            sampler.matched_std = std::move(ms.stddev);
        }
        sampler.per_class = req.points_per_class;
        sampler.quotas.assign(static_cast<size_t>(k), 0);
        for (int c : classes) sampler.quotas.at(static_cast<size_t>(c)) = req.points_per_class;
        return sample_embeddings(*before.head, before.embedding_shape, sampler,
                                 derive_seed(req.seed, kFigures, index));
    };
    const SyntheticSet forget_draws = draw_classes({req.forget_class}, 0);

    // Nearest classes: highest mean original logit over the forget-labelled draws.
    std::vector<double> mean_logit(static_cast<size_t>(k), 0.0);
    {
        NoGradGuard no_grad;
        const std::vector<int64_t> y = forget_draws.y.to_vector<int64_t>();
        const std::vector<float> logits = before.head->forward(forget_draws.z).to_vector<float>();
        for (size_t i = 0; i < y.size(); ++i)
            if (y[i] == req.forget_class)
                for (int c = 0; c < k; ++c)
                    mean_logit[static_cast<size_t>(c)] += logits[i * static_cast<size_t>(k) + c];
    }
    std::vector<int> candidates;
    for (int c = 0; c < k; ++c)
        if (c != req.forget_class &&
            std::find(req.excluded.begin(), req.excluded.end(), c) == req.excluded.end())
            candidates.push_back(c);
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
        return mean_logit[static_cast<size_t>(a)] > mean_logit[static_cast<size_t>(b)];
    });
    const int f = req.forget_class, n1 = candidates.at(0), n2 = candidates.at(1);

    ProjectionFigures out;
    out.plane_before = discriminative_plane(fc_before, f, n1, n2);
    out.plane_after = discriminative_plane(fc_after, f, n1, n2);

    // The synthetic points (forget draws, then the neighbours'), and the rows of
    // each drawn class: synthetic by the original head's label, real by the true label.
    const SyntheticSet near_draws = draw_classes({n1, n2}, 1);
    std::vector<int64_t> labels = forget_draws.y.to_vector<int64_t>();
    for (int64_t y : near_draws.y.to_vector<int64_t>()) labels.push_back(y);
    const int drawn[3] = {f, n1, n2};
    std::vector<int64_t> synth_rows[3], real_rows[3];
    for (size_t i = 0; i < labels.size(); ++i)
        for (int j = 0; j < 3; ++j)
            if (labels[i] == drawn[j]) synth_rows[j].push_back(static_cast<int64_t>(i));
    Tensor real_x;
    if (real != nullptr) {
        std::vector<int64_t> pick;
        for (int64_t i = 0; i < real->size(); ++i)
            for (int j = 0; j < 3; ++j)
                if (real->label(i) == drawn[j] &&
                    static_cast<int64_t>(real_rows[j].size()) < req.points_per_class) {
                    real_rows[j].push_back(static_cast<int64_t>(pick.size()));
                    pick.push_back(i);
                }
        if (!pick.empty()) real_x = real->batch(pick).x.to(original.device());
    }

    const std::string title_tail = " (cut " + req.cut + ")";
    const auto draw = [&](Split& s, const Linear& fc, const DiscriminativePlane& plane,
                          const std::string& title) {
        svg::Figure fig(
            title + title_tail,
            "along w_" + class_name(class_names, f) + " - w_" + class_name(class_names, n1),
            "along w_" + class_name(class_names, f) + " - w_" + class_name(class_names, n2) +
                " (orthogonalised)");
        fig.width = 900;
        fig.height = 560;
        std::vector<float> hs = features(*s.head, forget_draws.z, fc.weight().size(1));
        const std::vector<float> near = features(*s.head, near_draws.z, fc.weight().size(1));
        hs.insert(hs.end(), near.begin(), near.end());
        std::vector<float> hr;
        if (real_x.defined()) hr = features(*s.head, real_x, fc.weight().size(1));
        for (int j = 0; j < 3; ++j) {
            const std::string colour = svg::palette()[static_cast<size_t>(j)];
            const std::string name = class_name(class_names, drawn[j]);
            if (!hr.empty() && !real_rows[j].empty()) {
                const Cloud c = project_rows(plane, hr, real_rows[j]);
                svg::Series& sr =
                    fig.add_scatter("real " + name + (j == 0 ? " (forget)" : ""), c.xs, c.ys);
                sr.color = colour;
                sr.radius = 2.5;
            }
            const Cloud c = project_rows(plane, hs, synth_rows[j]);
            svg::Series& ss =
                fig.add_scatter("synthetic " + name + (j == 0 ? " (forget)" : ""), c.xs, c.ys);
            ss.color = colour;
            ss.hollow = true;
            ss.radius = 2.5;
        }
        return fig;
    };
    out.before = draw(before, fc_before, out.plane_before, "Before: the original head");
    out.after = draw(after, fc_after, out.plane_after, "After " + req.method);

    // Shared ranges (so the two figures compare), then each head's forget-vs-near1 boundary.
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const svg::Figure* fig : {&out.before, &out.after})
        for (const svg::Series& s : fig->series)
            for (size_t i = 0; i < s.xs.size(); ++i) {
                x_lo = std::min(x_lo, s.xs[i]);
                x_hi = std::max(x_hi, s.xs[i]);
                y_lo = std::min(y_lo, s.ys[i]);
                y_hi = std::max(y_hi, s.ys[i]);
            }
    for (const double b : {out.plane_before.boundary, out.plane_after.boundary}) {
        x_lo = std::min(x_lo, b);
        x_hi = std::max(x_hi, b);
    }
    const double x_pad = 0.04 * std::max(x_hi - x_lo, 1e-9);
    const double y_pad = 0.04 * std::max(y_hi - y_lo, 1e-9);
    for (auto [fig, plane] :
         {std::pair{&out.before, &out.plane_before}, std::pair{&out.after, &out.plane_after}}) {
        fig->x_min = x_lo - x_pad;
        fig->x_max = x_hi + x_pad;
        fig->y_min = y_lo - y_pad;
        fig->y_max = y_hi + y_pad;
        svg::Series& line = fig->add_line(
            class_name(class_names, f) + " | " + class_name(class_names, n1) + " boundary",
            {plane->boundary, plane->boundary}, {fig->y_min, fig->y_max});
        line.color = "#222222";
        line.dashed = true;
    }
    return out;
}

svg::Figure agreement_figure(const ForgetReport& rep) {
    svg::Figure fig("Data-free signals per epoch: " + rep.method + " (cut " + rep.cut + ")",
                    "epochs trained (0 = the original head)", "agreement / accuracy (%)");
    fig.y_min = 0;
    fig.y_max = 100;
    std::vector<double> xs{0}, syn_f{100 * rep.original.forget_agreement},
        syn_r{100 * rep.original.retain_agreement};
    for (const SelectionStats& s : rep.selection_history) {
        if (!s.finite) continue;  // a diverged epoch has no meaningful agreement to draw
        xs.push_back(s.epoch + 1);
        syn_f.push_back(100 * s.forget_agreement);
        syn_r.push_back(100 * s.retain_agreement);
    }
    fig.add_line("synthetic forget agreement", xs, syn_f);
    fig.add_line("synthetic retain agreement", xs, syn_r);
    if (rep.has_eval && !rep.eval_trace.empty() &&
        rep.eval_trace.size() == rep.selection_history.size()) {
        std::vector<double> ex{0}, real_f{100 * rep.before.forget}, real_r{100 * rep.before.retain};
        for (size_t i = 0; i < rep.eval_trace.size(); ++i) {
            const double f = rep.eval_trace[i].forget, r = rep.eval_trace[i].retain;
            if (!std::isfinite(f) || !std::isfinite(r)) continue;
            ex.push_back(rep.selection_history[i].epoch + 1);
            real_f.push_back(100 * f);
            real_r.push_back(100 * r);
        }
        fig.add_line("real forget accuracy (" + rep.eval_dataset + ")", ex, real_f).dashed = true;
        fig.add_line("real retain accuracy (" + rep.eval_dataset + ")", ex, real_r).dashed = true;
    }
    if (rep.selected.epoch >= 0) {
        svg::Series& sel =
            fig.add_scatter("selected epoch (" + rep.stop_reason + ")", {rep.selected.epoch + 1.0},
                            {100 * rep.selected.forget_agreement});
        sel.color = "#222222";
    }
    return fig;
}

}  // namespace obl
