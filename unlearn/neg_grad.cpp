// neg_grad: gradient ascent on the forget set ("NG", Golatkar et al. 2020, "Eternal Sunshine of
// the Spotless Net", CVPR; Thudi et al. 2022; "GA" in SalUn / DELETE's benchmark code).
//
// Loss (one step, forget batch F):   L = - mean_{(x, y) in F} CE(f(x), y)
// Data: the forget set only. An epoch is one pass over it.
// The loss is unbounded below: nothing holds the retain classes in place, so a long run destroys
// the model. The defaults (a small learning rate, 2 epochs) stop while the retain classes are still
// intact on the shared ResNets; a longer run should be cut by the data-free monitor.
// Deviation: none in the loss; only the head trains.
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> neg_grad(const Module& original, const UnlearnData& data,
                                 const NegGradConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "neg_grad");
    std::unique_ptr<Module> model = start_from(original);
    const Device dev = model->device();
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);
    CeStep ce(*model, cfg.fused);
    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const uint64_t key = derive_seed(ctx.seed, kForgetOrder, static_cast<uint64_t>(epoch));
        for (const IndexBatch& idx : batches(data.forget->size(), cfg.batch_size, key)) {
            const Batch f = fetch(*data.forget, idx, dev);
            log.add(ce.step({{f.x, f.y, -1.0}}, *opt));
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
