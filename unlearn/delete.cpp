// delete: DELETE of Zhou et al. 2025, "Decoupled Distillation to Erase: A General Unlearning
// Method for Any Class-centric Tasks", CVPR.
//
// Teacher f0 = the original (frozen). For a forget sample x, the teacher's logits with EVERY forget
// class masked out give the target distribution over the remaining classes (the "dark knowledge"
// the sample carries about the retain classes):
//     q(x)_k = softmax_k( m_k + f0(x)_k / T ),   m_k = -inf for forget classes k, 0 otherwise
//     L      = T^2 mean_F KL( q(x) || softmax(f(x) / T) )
// Minimising L removes the forget classes' probability on the forget samples (the "forgetting"
// term of the paper's decomposition) while matching the teacher's ranking of the other classes
// (its "retention" term), with no retain data.
// Data: the forget set only. An epoch is one pass over it.
// Deviations: the reference code masks the sample's own label (one class); masking all forget
// classes is the same for single-class requests and keeps multi-class / sequential requests from
// moving mass to another forgotten class. T is exposed (the reference uses T = 1, our default).
// Only the head trains.
#include <limits>

#include "nn/autograd.h"
#include "nn/ops.h"
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> delete_method(const Module& original, const UnlearnData& data,
                                      const DeleteConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "delete");
    std::unique_ptr<Module> model = start_from(original);
    std::unique_ptr<Module> teacher = frozen_copy(original);
    const Device dev = model->device();
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);

    // The mask row m (1, K): -inf at the forget classes.
    std::vector<float> m(static_cast<size_t>(data.num_classes), 0.f);
    for (int c : data.forget_classes)
        m[static_cast<size_t>(c)] = -std::numeric_limits<float>::infinity();
    const Tensor mask_row = Tensor::from_vector(m, Shape{1, data.num_classes}).to(dev);

    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const uint64_t key = derive_seed(ctx.seed, kForgetOrder, static_cast<uint64_t>(epoch));
        for (const IndexBatch& idx : batches(data.forget->size(), cfg.batch_size, key)) {
            const Batch f = fetch(*data.forget, idx, dev);
            Tensor target;
            {
                NoGradGuard no_grad;
                const Tensor t = no_grad_forward(*teacher, f.x);
                OBL_CHECK(t.dim() == 2 && t.size(1) == data.num_classes,
                          "delete: the model's logits ", t.shape(), " do not have ",
                          data.num_classes, " classes");
                target = add(t, broadcast_to(mask_row, t.shape())).detach();
            }
            opt->zero_grad();
            const Tensor loss = distill_kl(model->forward(f.x), target, cfg.temperature);
            backward(loss);
            opt->step();
            log.add(loss.detach());
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
