// finetune: fine-tuning on the retain set ("FT" in Warnecke et al. 2023, "Machine Unlearning of
// Features and Labels", NDSS; the standard baseline of Golatkar et al. 2020 and every later
// class-unlearning benchmark).
//
// Loss (one step, retain batch R):   L = mean_{(x, y) in R} CE(f(x), y)
// Data: the retain set only. An epoch is one pass over it.
// Forgetting happens only through interference ("catastrophic forgetting" of the class that is no
// longer reinforced), so on a frozen body with a linear head it is slow: this method is the weak
// baseline and opts out of the behaviour bar (tests/unlearn/test_methods.cpp).
// Deviation: none in the loss; only the head trains (the body is frozen by construction).
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> finetune(const Module& original, const UnlearnData& data,
                                 const FinetuneConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "finetune");
    std::unique_ptr<Module> model = start_from(original);
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
