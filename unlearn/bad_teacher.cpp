// bad_teacher: Chundawat et al. 2023, "Can Bad Teaching Induce Forgetting? Unlearning in Deep
// Networks Using an Incompetent Teacher", AAAI.
//
// Two teachers: the competent one is the original f0 (frozen); the incompetent one fb is the same
// model with every trainable parameter freshly initialised (reinitialise(), seeded): a random head
// on top of the same frozen body. The student f starts from the original. Training set: every
// forget sample (label u = 1) and a random retain_fraction of the retain samples (u = 0, drawn once
// from derive_seed(seed, kSubset)), shuffled together each epoch. With
//     KL_T(t, x) = T^2 KL( softmax(t(x) / T) || softmax(f(x) / T) )
// one step on a mixed batch B is
//     L = (1 / |B|) [ sum_{x in B, u = 1} KL_T(fb, x) + sum_{x in B, u = 0} KL_T(f0, x) ]
// (the paper's per-sample teacher choice with batch-mean KL).
// Data: the forget set and a share of the retain set. An epoch is one pass over that mixed set.
// Deviations: SGD with momentum instead of Adam (as in the DELETE benchmark code); the reference
// draws the retain share per run with an unseeded generator. Only the head trains, and so only the
// head of the incompetent teacher is random.
#include <cmath>

#include "nn/autograd.h"
#include "nn/ops.h"
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> bad_teacher(const Module& original, const UnlearnData& data,
                                    const BadTeacherConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "bad_teacher");
    std::unique_ptr<Module> model = start_from(original);
    std::unique_ptr<Module> good = frozen_copy(original);
    std::unique_ptr<Module> bad = start_from(original);
    reinitialise(*bad, derive_seed(ctx.seed, kInit));
    bad->set_requires_grad(false);
    const Device dev = model->device();
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);

    // The mixed set: entries j < nf are forget samples, the rest index `kept_retain`.
    const int64_t nf = data.forget->size();
    const auto share = static_cast<int64_t>(
        std::llround(static_cast<double>(cfg.retain_fraction) * data.retain->size()));
    const std::vector<int64_t> kept_retain =
        random_subset(data.retain->size(), share, derive_seed(ctx.seed, kSubset));
    const int64_t total = nf + static_cast<int64_t>(kept_retain.size());

    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const uint64_t key = derive_seed(ctx.seed, kForgetOrder, static_cast<uint64_t>(epoch));
        for (const IndexBatch& mixed : batches(total, cfg.batch_size, key)) {
            IndexBatch fi, ri;
            for (int64_t j : mixed) {
                if (j < nf) {
                    fi.push_back(j);
                } else {
                    ri.push_back(kept_retain[static_cast<size_t>(j - nf)]);
                }
            }
            opt->zero_grad();
            const double inv_b = 1.0 / static_cast<double>(mixed.size());
            Tensor loss;
            auto term = [&](const Dataset& ds, const IndexBatch& idx, Module& teacher) {
                if (idx.empty()) return;
                const Batch b = fetch(ds, idx, dev);
                const Tensor kl =
                    distill_kl(model->forward(b.x), no_grad_forward(teacher, b.x), cfg.temperature);
                const Tensor t = mul_scalar(kl, static_cast<double>(idx.size()) * inv_b);
                loss = loss.defined() ? add(loss, t) : t;
            };
            term(*data.forget, fi, *bad);
            term(*data.retain, ri, *good);
            backward(loss);
            opt->step();
            log.add(loss.detach());
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
