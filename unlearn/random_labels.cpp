// random_labels: fine-tune on the forget samples with random labels ("RL", Golatkar et al. 2020;
// Hayase et al. 2020; the "Random Labels" baseline of SalUn (Fan et al. 2024, ICLR) and DELETE).
//
// Labels: each forget sample i gets ONE label, drawn once, uniformly among the retain classes
//     yr_i = retain_classes[ philox_below(derive_seed(seed, kLabels), i, |retain classes|) ]
// (fixed for the whole run, like the reference code's fixed noisy labels).
// Loss (one step, forget batch F paired with retain batch R):
//     L = mean_F CE(f(x), yr) + retain_weight * mean_R CE(f(x), y)
// Data: the forget set (an epoch is one pass over it) and, when retain_weight > 0, one retain batch
// per forget batch (cycle()).
// Deviations: (1) labels are drawn among the RETAIN classes (the reference code draws among all
// classes, so some samples keep a forget label); with several forget classes none is ever a
// target. (2) The retain term (SalUn's variant, which fine-tunes on the forget set with random
// labels together with the retain set): the forget-only paper version collapses the retain classes
// after a few epochs on the shared ResNets' synthetic embeddings (notes/datafree-selection.md:
// lr 0.05, retain accuracy 0.35 after 6 epochs); retain_weight = 0 gives the paper's version.
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> random_labels(const Module& original, const UnlearnData& data,
                                      const RandomLabelsConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "random_labels");
    std::unique_ptr<Module> model = start_from(original);
    const Device dev = model->device();
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);
    CeStep ce(*model, cfg.fused);

    const std::vector<int> keep = retain_classes(data);
    const uint64_t label_key = derive_seed(ctx.seed, kLabels);
    std::vector<int64_t> labels(static_cast<size_t>(data.forget->size()));
    for (size_t i = 0; i < labels.size(); ++i)
        labels[i] = keep[static_cast<size_t>(
            philox_below(label_key, i, static_cast<int64_t>(keep.size())))];

    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const auto e = static_cast<uint64_t>(epoch);
        const auto forget =
            batches(data.forget->size(), cfg.batch_size, derive_seed(ctx.seed, kForgetOrder, e));
        const auto retain = cfg.retain_weight > 0 ? batches(data.retain->size(), cfg.batch_size,
                                                            derive_seed(ctx.seed, kRetainOrder, e))
                                                  : std::vector<IndexBatch>{};
        for (const PairedBatch& p : cycle(forget, retain)) {
            const Batch f = fetch(*data.forget, p.forget, dev);
            std::vector<int64_t> y;
            for (int64_t i : p.forget) y.push_back(labels[static_cast<size_t>(i)]);
            const Tensor yr = Tensor::from_vector(y, Shape{static_cast<int64_t>(y.size())}).to(dev);
            std::vector<CeTerm> terms{{f.x, yr, 1.0}};
            if (!p.retain.empty()) {
                const Batch r = fetch(*data.retain, p.retain, dev);
                terms.push_back({r.x, r.y, cfg.retain_weight});
            }
            log.add(ce.step(terms, *opt));
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
