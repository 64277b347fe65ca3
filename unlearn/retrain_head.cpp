// retrain_head: a freshly initialised head trained on the retain set: the reference point for
// head-only unlearning ("retrain from scratch" restricted to the trainable part, as in the
// last-layer baselines of Golatkar et al. 2020 / Chundawat et al. 2023).
//
// Parameters: every trainable parameter re-initialised (reinitialise(): PyTorch's default
// initialisation per module type, from derive_seed(seed, kInit, i)); frozen ones kept.
// Loss (one step, retain batch R):   L = mean_R CE(f(x), y)
// Data: the retain set only. An epoch is one pass over it.
// Deviation: none; the retrained part is the head (the body is frozen by construction).
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> retrain_head(const Module& original, const UnlearnData& data,
                                     const RetrainHeadConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "retrain_head");
    std::unique_ptr<Module> model = start_from(original);
    reinitialise(*model, ctx.seed);
    const Device dev = model->device();
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);
    CeStep ce(*model, cfg.fused);
    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const uint64_t key = derive_seed(ctx.seed, kRetainOrder, static_cast<uint64_t>(epoch));
        for (const IndexBatch& idx : batches(data.retain->size(), cfg.batch_size, key)) {
            const Batch r = fetch(*data.retain, idx, dev);
            log.add(ce.step({{r.x, r.y, 1.0}}, *opt));
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
