// Figures of one forget request, written by `oblivio forget --figures DIR` (drawn with
// experiments/svg.h, atomically):
//   agreement.svg          the data-free signals per epoch: held-out synthetic forget and retain
//                          agreement, with real forget / retain accuracy when the run was traced
//                          with an evaluation set (--trace --eval-*); the selected epoch marked.
//   projection_before.svg  real and synthetic embeddings of the forget class and its two nearest
//   projection_after.svg   classes, drawn on the plane of the head's two most discriminative
//                          directions: for the original head, then for the unlearned one.
//
// The plane. Let the head end in a Linear with rows w_k and biases b_k acting on features h (h is
// the embedding itself for a linear head; for a deep head, the output of the stages before its
// last Linear). For the forget class f and its nearest classes n1, n2:
//   d1 = (w_f - w_n1) / |w_f - w_n1|
//   d2 = the part of (w_f - w_n2) orthogonal to d1, normalised
// and a point h is drawn at (h . d1, h . d2). Along d1 the pairwise logit gap is affine,
//   z_f - z_n1 = |w_f - w_n1| (h . d1) + (b_f - b_n1),
// so the f-vs-n1 decision boundary is the vertical line h . d1 = -(b_f - b_n1) / |w_f - w_n1|,
// drawn dashed: to its right the head prefers f to n1. Each figure uses its own head's plane: at a
// linear cut the embeddings do not move when the head is trained, the head's directions do.
// The nearest classes are the two with the highest mean ORIGINAL logit over the forget-labelled
// synthetic draws (data-free; ties go to the lower class index). The synthetic points are fresh
// draws from the request's distribution (their own seed stream, so the figures change nothing
// else), labelled by the original head; the real points are the first `points_per_class`
// evaluation embeddings of each of the three classes, in data set order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "experiments/svg.h"
#include "models/classifier.h"
#include "nn/modules/linear.h"
#include "unlearn/forget.h"
#include "unlearn/synthetic.h"

namespace obl {

// The plane of the head's two most discriminative directions for `forget` (see above).
struct DiscriminativePlane {
    int forget = -1, near1 = -1, near2 = -1;
    std::vector<double> d1, d2;  // unit, orthogonal; length = the Linear's in_features
    double boundary = 0;         // h . d1 on the forget-vs-near1 decision boundary
};
// Throws obl::Error when w_f = w_n1 or (w_f - w_n2) is parallel to d1 (no plane).
DiscriminativePlane discriminative_plane(const Linear& fc, int forget, int near1, int near2);
// (h . d1, h . d2) for one feature row of plane.d1.size() values.
std::pair<double, double> project(const DiscriminativePlane& plane, const float* features);

// Why projection figures cannot be drawn for `model` cut at `cut` ("" when they can): the head
// must end in a Linear and the model must predict at least three classes besides `excluded`.
std::string projection_problem(const Classifier& model, const std::string& cut,
                               const Shape& input_shape, const std::vector<int>& excluded);

struct ProjectionRequest {
    std::string cut = "pre_logits";
    int forget_class = -1;      // the class whose neighbourhood is drawn (the first of --classes)
    std::vector<int> excluded;  // classes an earlier request removed: no draws, never neighbours
    SamplerConfig sampler;      // the request's distribution; per_class becomes points_per_class
    uint64_t seed = 0;
    int64_t points_per_class = 200;
    std::string method;  // for the title of the "after" figure
};

struct ProjectionFigures {
    svg::Figure before, after;  // same axis ranges, so the two can be compared side by side
    DiscriminativePlane plane_before, plane_after;
};
// `real` (optional): evaluation embeddings at the cut. `class_names` may be empty ("class k").
ProjectionFigures projection_figures(const Classifier& original, const Classifier& unlearned,
                                     const Shape& input_shape, const ProjectionRequest& request,
                                     const TensorDataset* real,
                                     const std::vector<std::string>& class_names);

// Held-out synthetic agreement per epoch (x = epochs trained; 0 = the original head), with the
// real accuracies when rep.eval_trace holds one entry per epoch; the selected epoch marked.
svg::Figure agreement_figure(const ForgetReport& rep);

}  // namespace obl
