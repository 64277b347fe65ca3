// boundary_expand: Boundary Expanding of Chen et al. 2023, "Boundary Unlearning: Rapid Forgetting
// of Deep Networks via Shifting the Decision Space", CVPR, §4.2.
//
// The last Linear layer (K outputs) gets one extra "shadow" output K (a new weight row w_s and
// bias b_s), every forget sample is trained INTO the shadow class, and the shadow output is then
// pruned, leaving the original K outputs with the forget samples' mass moved away from their class:
//     logits+ = [ f(x) , w_s . h(x) + b_s ]          h(x) = the last Linear's input, (N, K + 1)
//     L       = mean_F CE(logits+, K)
// Data: the forget set only. An epoch is one pass over it. All trainable parameters and the shadow
// row are updated; the returned model has exactly the original architecture.
// Requirements: the model's last link (module_chain) is a Linear with a trainable weight (true for
// every zoo head: ResNet's fc, ViT's / Swin's head); otherwise obl::Error.
// Deviations: the shadow row is initialised like a fresh PyTorch Linear row (kaiming-uniform, bound
// 1/sqrt(D), from derive_seed(seed, kInit)) instead of the reference code's xavier-normal weight
// and zero bias; the original rows are copied unchanged in both. Only the head trains.
#include "nn/autograd.h"
#include "nn/init.h"
#include "nn/modules/linear.h"
#include "nn/ops.h"
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> boundary_expand(const Module& original, const UnlearnData& data,
                                        const BoundaryExpandConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "boundary_expand");
    std::unique_ptr<Module> model = start_from(original);
    const Device dev = model->device();
    const std::vector<Module*> chain = module_chain(*model);
    auto* last = dynamic_cast<Linear*>(chain.back());
    OBL_CHECK(last != nullptr && last->weight().requires_grad(),
              "boundary_expand: the model must end in a trainable Linear layer, got ",
              chain.back()->repr());
    const int64_t dim = last->in_features(), k = last->out_features();

    // The shadow row: weight (1, D), bias (1), trained with the model's parameters.
    const Shape row{1, dim};
    Tensor w_s = init::default_weight(row, derive_seed(ctx.seed, kInit, 0))
                     .to(last->weight().dtype())
                     .to(dev)
                     .detach();
    Tensor b_s = init::default_bias(row, derive_seed(ctx.seed, kInit, 1))
                     .to(last->weight().dtype())
                     .to(dev)
                     .detach();
    w_s.set_requires_grad(true);
    b_s.set_requires_grad(true);
    std::vector<Tensor> params = trainable_parameters(*model);
    params.push_back(w_s);
    params.push_back(b_s);
    auto opt = make_sgd(params, cfg.lr, cfg.momentum, cfg.weight_decay);

    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const uint64_t key = derive_seed(ctx.seed, kForgetOrder, static_cast<uint64_t>(epoch));
        for (const IndexBatch& idx : batches(data.forget->size(), cfg.batch_size, key)) {
            const Batch f = fetch(*data.forget, idx, dev);
            opt->zero_grad();
            const Tensor h = run_chain(chain, 0, chain.size() - 1, f.x);
            const Tensor wide = concat({last->forward(h), linear(h, w_s, b_s)}, 1);
            const Tensor shadow = Tensor::full(Shape{static_cast<int64_t>(idx.size())},
                                               static_cast<double>(k), DType::I64, dev);
            const Tensor loss = cross_entropy(wide, shadow);
            backward(loss);
            opt->step();
            log.add(loss.detach());
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
