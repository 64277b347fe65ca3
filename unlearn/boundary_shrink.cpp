// boundary_shrink: Boundary Shrink of Chen et al. 2023, "Boundary Unlearning: Rapid Forgetting of
// Deep Networks via Shifting the Decision Space", CVPR, §4.1.
//
// Neighbour search (once, with the ORIGINAL model f0, which never changes): for each forget sample
// with embedding z and label y,
//     z' = z + eps * sign( d/dz CE(f0(z), y) )          (one FGSM step, L-inf radius eps)
//     yn = argmax_k f0(z')_k, or, when that is still a forget class (the step did not cross a
//          boundary to a retain class), argmax over the retain classes of f0(z')
// so yn is the retain class whose decision region is nearest in the gradient-sign direction.
// Loss (one step, forget batch F):   L = mean_F CE(f(x), yn)
// Data: the forget set only. An epoch is one pass over it.
// Deviations:
//   - The step is taken in EMBEDDING space: z is the output of the model's frozen prefix
//     (frozen_prefix_length(): the FrozenBody for images, nothing for a head fed embeddings), and
//     the gradient flows through the trainable part only. The paper attacks the input image.
//   - eps = bound * s, s = RMS over dimensions of the forget embeddings' per-dimension std (the
//     paper's bound 0.1 is in [0, 1] pixel units; embeddings have no fixed scale, so eps is
//     relative to the data the method is given).
//   - The fallback to the best retain class (the reference code keeps the attack's label even when
//     it is the forget class, so unsuccessful attacks train toward the class being forgotten).
//   - The labels are computed once up front instead of once per batch and epoch: f0 is fixed and
//     the step has no random start, so they are the same labels.
#include <cmath>

#include "nn/autograd.h"
#include "nn/ops.h"
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

std::unique_ptr<Module> boundary_shrink(const Module& original, const UnlearnData& data,
                                        const BoundaryShrinkConfig& cfg, const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "boundary_shrink");
    std::unique_ptr<Module> model = start_from(original);
    std::unique_ptr<Module> teacher = frozen_copy(original);
    const Device dev = model->device();
    const std::vector<Module*> chain = module_chain(*teacher);
    const size_t split = frozen_prefix_length(*model);
    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);  // throws if frozen

    // Pass 1: forget embeddings (host), and their per-dimension moments for eps.
    const int64_t n = data.forget->size();
    std::vector<std::vector<float>> z_host;
    std::vector<Shape> z_shape;
    std::vector<double> sum, sum_sq;
    for (const IndexBatch& idx : sequential_batches(n, cfg.batch_size)) {
        const Batch b = fetch(*data.forget, idx, dev);
        Tensor z;
        {
            NoGradGuard no_grad;
            z = run_chain(chain, 0, split, b.x).detach();
        }
        OBL_CHECK(z.dtype() == DType::F32, "boundary_shrink: embeddings must be f32, got ",
                  z.describe());
        std::vector<float> v = z.to_vector<float>();
        const size_t d = v.size() / idx.size();
        if (sum.empty()) sum.assign(d, 0.0), sum_sq.assign(d, 0.0);
        for (size_t r = 0; r < idx.size(); ++r)
            for (size_t j = 0; j < d; ++j) {
                const double x = v[r * d + j];
                sum[j] += x;
                sum_sq[j] += x * x;
            }
        z_host.push_back(std::move(v));
        z_shape.push_back(z.shape());
    }
    double mean_var = 0;
    for (size_t j = 0; j < sum.size(); ++j) {
        const double m = sum[j] / static_cast<double>(n);
        mean_var += std::max(0.0, sum_sq[j] / static_cast<double>(n) - m * m);
    }
    const double eps =
        cfg.bound * std::sqrt(mean_var / static_cast<double>(std::max<size_t>(sum.size(), 1)));

    // Pass 2: one signed-gradient step per sample, labelled by the original model.
    std::vector<char> is_forget(static_cast<size_t>(data.num_classes), 0);
    for (int c : data.forget_classes) is_forget[static_cast<size_t>(c)] = 1;
    std::vector<int64_t> neighbour;
    const auto idx_batches = sequential_batches(n, cfg.batch_size);
    for (size_t bi = 0; bi < idx_batches.size(); ++bi) {
        const Batch b = fetch(*data.forget, idx_batches[bi], dev);
        Tensor z = Tensor::from_vector(z_host[bi], z_shape[bi]).to(dev);
        z.set_requires_grad(true);
        backward(cross_entropy(run_chain(chain, split, chain.size(), z), b.y));
        const std::vector<float> g = z.grad().to_vector<float>();
        std::vector<float> moved = z_host[bi];
        for (size_t j = 0; j < moved.size(); ++j)
            moved[j] += static_cast<float>(eps) * static_cast<float>((g[j] > 0) - (g[j] < 0));
        Tensor out;
        {
            NoGradGuard no_grad;
            out = run_chain(chain, split, chain.size(),
                            Tensor::from_vector(moved, z_shape[bi]).to(dev))
                      .detach();
        }
        const std::vector<float> l = out.to_vector<float>();
        const int64_t k = out.size(1);
        for (size_t r = 0; r < idx_batches[bi].size(); ++r) {
            const float* row = l.data() + r * static_cast<size_t>(k);
            int64_t best = -1, best_retain = -1;
            for (int64_t c = 0; c < k; ++c) {
                if (best < 0 || row[c] > row[best]) best = c;
                if (!is_forget[static_cast<size_t>(c)] &&
                    (best_retain < 0 || row[c] > row[best_retain]))
                    best_retain = c;
            }
            neighbour.push_back(is_forget[static_cast<size_t>(best)] ? best_retain : best);
        }
    }

    CeStep ce(*model, cfg.fused);
    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const uint64_t key = derive_seed(ctx.seed, kForgetOrder, static_cast<uint64_t>(epoch));
        for (const IndexBatch& idx : batches(n, cfg.batch_size, key)) {
            const Batch f = fetch(*data.forget, idx, dev);
            std::vector<int64_t> y;
            for (int64_t i : idx) y.push_back(neighbour[static_cast<size_t>(i)]);
            const Tensor yn = Tensor::from_vector(y, Shape{static_cast<int64_t>(y.size())}).to(dev);
            log.add(ce.step({{f.x, yn, 1.0}}, *opt));
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
