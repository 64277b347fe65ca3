// The method table, written out by hand: one make_method<Config>(name, summary, function) per
// method (unlearn/configs.h declares the configs and functions; unlearn/<method>.cpp has each one).
#include "unlearn/methods.h"

#include "unlearn/configs.h"

namespace obl {

const std::vector<MethodInfo>& methods() {
    static const std::vector<MethodInfo> table = {
        make_method<FinetuneConfig>("finetune", "FT: fine-tune on the retain set (CE)", finetune),
        make_method<NegGradConfig>("neg_grad", "NG: gradient ascent on the forget CE", neg_grad),
        make_method<NegGradPlusConfig>(
            "neg_grad_plus", "NG+: beta CE(retain) - (1 - beta) CE(forget)", neg_grad_plus),
        make_method<RandomLabelsConfig>(
            "random_labels", "RL: forget samples relabelled uniformly among the retain classes",
            random_labels),
        make_method<BoundaryShrinkConfig>(
            "boundary_shrink",
            "BS: forget samples relabelled to their nearest wrong class (signed-gradient step in "
            "embedding space)",
            boundary_shrink),
        make_method<BoundaryExpandConfig>(
            "boundary_expand", "BE: train the forget samples into a shadow class, then prune it",
            boundary_expand),
        make_method<ScrubConfig>(
            "scrub", "SCRUB: max steps on forget KL to the original, min steps on retain KL + CE",
            scrub),
        make_method<ScarConfig>("scar",
                                "SCAR: Mahalanobis pull of forget outputs to the nearest retain "
                                "class + distillation on retain",
                                scar),
        make_method<DeleteConfig>(
            "delete", "DELETE: distil the original's logits with every forget class masked",
            delete_method),
        make_method<BadTeacherConfig>(
            "bad_teacher",
            "BT: distil a random teacher on forget and the original on a share of retain",
            bad_teacher),
        [] {
            MethodInfo m = make_method<RetrainHeadConfig>(
                "retrain_head", "a freshly initialised head trained on the retain set",
                retrain_head);
            m.fresh_head = true;
            return m;
        }(),
    };
    return table;
}

const MethodInfo& find_method(const std::string& name) {
    std::string names;
    for (const MethodInfo& m : methods()) {
        if (m.name == name) return m;
        names += (names.empty() ? "" : ", ") + m.name;
    }
    OBL_THROW("unknown unlearning method '", name, "'; the methods are: ", names);
}

}  // namespace obl
