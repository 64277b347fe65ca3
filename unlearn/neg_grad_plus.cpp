// neg_grad_plus: gradient ascent on the forget set balanced by descent on the retain set ("NG+",
// Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning", NeurIPS, §5 baselines).
//
// Loss (one step, forget batch F paired with retain batch R):
//     L = beta * mean_R CE(f(x), y) - (1 - beta) * mean_F CE(f(x), y)
// Data: both sets. An epoch is one pass over the forget set; each forget batch is paired with the
// next retain batch of that epoch's shuffled order (cycle(): retain batches wrap around when the
// retain set is the smaller one).
// With a linear head both terms go through ONE fused head step on the concatenated batch with
// per-row weights beta / |R| and -(1 - beta) / |F| (kernels/head_step.h).
// Deviation: none in the loss; only the head trains. Kurmanji et al. do not fix beta; the default
// 0.5 weighs the two terms equally.
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> neg_grad_plus(const Module& original, const UnlearnData& data,
                                      const NegGradPlusConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "neg_grad_plus");
    std::unique_ptr<Module> model = start_from(original);
    const Device dev = model->device();
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);
    CeStep ce(*model, cfg.fused);
    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const auto e = static_cast<uint64_t>(epoch);
        const auto forget =
            batches(data.forget->size(), cfg.batch_size, derive_seed(ctx.seed, kForgetOrder, e));
        const auto retain =
            batches(data.retain->size(), cfg.batch_size, derive_seed(ctx.seed, kRetainOrder, e));
        for (const PairedBatch& p : cycle(forget, retain)) {
            const Batch f = fetch(*data.forget, p.forget, dev);
            std::vector<CeTerm> terms{{f.x, f.y, -(1.0 - cfg.beta)}};
            if (!p.retain.empty()) {
                const Batch r = fetch(*data.retain, p.retain, dev);
                terms.push_back({r.x, r.y, cfg.beta});
            }
            log.add(ce.step(terms, *opt));
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
