// scar: SCAR of Bonato et al. 2024, "Is Retain Set All You Need in Machine Unlearning? Restoring
// Performance of Unlearned Models with Out-Of-Distribution Images", ECCV.
//
// Statistics (once, from the ORIGINAL model f0 on the retain samples the method is given): for each
// retain class c the mean output mu_c = mean_{y = c} f0(x), and one pooled within-class covariance
//     S = sum_c sum_{y = c} (f0(x) - mu_c)(f0(x) - mu_c)^T / (N - C),
// shrunk toward a multiple of the identity: S' = S + g1 mean(diag S) I.
// Target: each forget sample i is assigned once the retain class nearest to its original output,
//     c_i = argmin_{c retain} d(f0(x_i), c),    d(u, c) = (u - mu_c)^T S'^-1 (u - mu_c) / K.
// Loss (one step, forget batch F paired with retain batch R):
//     L = lambda_forget * mean_F d(f(x), c_i)
//       + lambda_retain * T^2 mean_R' KL( softmax(t(x) / T) || softmax(f(x) / T) )
// where t(x) is f0(x) with every forget class set to the batch's smallest logit and R' drops the
// retain samples f0 itself assigns to a forget class (both as in the reference code).
// Data: both sets. An epoch is one pass over the forget set; each forget batch is paired with a
// retain batch (cycle()). The paper distils on out-of-distribution images when there is no retain
// set; here the retain set is whatever the caller passes (synthetic embeddings in the data-free
// setting).
// Deviations (why: only the head trains here, and it is usually ONE Linear layer, whose input
// -- SCAR's "embedding", the feature before the classifier -- cannot move):
//   - the Mahalanobis pull acts on the head's OUTPUT (the logits), the representation the
//     trainable part controls; no Tukey transform (logits are signed) and no L2 normalisation (the
//     logit scale is what classifies);
//   - one pooled covariance instead of one per class (a K x K inverse instead of C of them; with
//     1000 classes per-class covariances are neither affordable nor well estimated), shrunk once,
//     on the diagonal only: the reference's second term, g2 mean(offdiag S) (1 - I), makes the
//     matrix indefinite when the mean off-diagonal covariance is negative (it is for logits:
//     within a class, a higher logit for one wrong class means lower ones for the others), and the
//     pull then diverges;
//   - SGD with momentum instead of Adam; no early stop on forget accuracy (the data-free monitor
//     decides, DESIGN.md §O).
#include <cmath>
#include <vector>

#include "nn/autograd.h"
#include "nn/ops.h"
#include "unlearn/configs.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace {

// Inverse of a symmetric positive definite K x K matrix (row-major, double) by Gauss-Jordan with
// partial pivoting. Throws when it is singular to working precision.
std::vector<double> invert(std::vector<double> a, int64_t k) {
    std::vector<double> inv(static_cast<size_t>(k * k), 0.0);
    for (int64_t i = 0; i < k; ++i) inv[static_cast<size_t>(i * k + i)] = 1.0;
    for (int64_t col = 0; col < k; ++col) {
        int64_t piv = col;
        for (int64_t r = col + 1; r < k; ++r)
            if (std::fabs(a[r * k + col]) > std::fabs(a[piv * k + col])) piv = r;
        OBL_CHECK(std::fabs(a[piv * k + col]) > 1e-300,
                  "scar: the output covariance is singular; raise shrink");
        if (piv != col)
            for (int64_t j = 0; j < k; ++j) {
                std::swap(a[col * k + j], a[piv * k + j]);
                std::swap(inv[col * k + j], inv[piv * k + j]);
            }
        const double d = 1.0 / a[col * k + col];
        for (int64_t j = 0; j < k; ++j) {
            a[col * k + j] *= d;
            inv[col * k + j] *= d;
        }
        for (int64_t r = 0; r < k; ++r) {
            const double f = a[r * k + col];
            if (r == col || f == 0.0) continue;
            for (int64_t j = 0; j < k; ++j) {
                a[r * k + j] -= f * a[col * k + j];
                inv[r * k + j] -= f * inv[col * k + j];
            }
        }
    }
    return inv;
}

}  // namespace

std::unique_ptr<Module> scar(const Module& original, const UnlearnData& data, const ScarConfig& cfg,
                             const RunContext& ctx) {
    check_unlearn_data(data);
    check_config(cfg, "scar");
    std::unique_ptr<Module> model = start_from(original);
    std::unique_ptr<Module> teacher = frozen_copy(original);
    const Device dev = model->device();
    const auto k = static_cast<int64_t>(data.num_classes);
    const auto ku = static_cast<size_t>(k);
    std::vector<char> is_forget(ku, 0);
    for (int c : data.forget_classes) is_forget[static_cast<size_t>(c)] = 1;

    // Class means of the original's outputs on retain samples (two passes: means, then scatter).
    std::vector<double> mean(ku * ku, 0.0);
    std::vector<int64_t> count(ku, 0);
    auto check_logits = [&](const Tensor& l) {
        OBL_CHECK(l.dim() == 2 && l.size(1) == k, "scar: the model's logits ", l.shape(),
                  " do not have ", k, " classes");
    };
    for_each_prediction(*teacher, *data.retain, cfg.batch_size, dev,
                        [&](const Batch& b, const Tensor& logits) {
                            check_logits(logits);
                            const auto l = logits.to_vector<double>();
                            const auto y = b.y.to_vector<int64_t>();
                            for (size_t r = 0; r < y.size(); ++r) {
                                const auto c = static_cast<size_t>(y[r]);
                                ++count[c];
                                for (size_t j = 0; j < ku; ++j) mean[c * ku + j] += l[r * ku + j];
                            }
                        });
    int64_t total = 0, classes = 0;
    for (size_t c = 0; c < ku; ++c) {
        if (count[c] == 0) continue;
        total += count[c];
        ++classes;
        for (size_t j = 0; j < ku; ++j) mean[c * ku + j] /= static_cast<double>(count[c]);
    }
    OBL_CHECK(total > classes, "scar: needs more retain samples than retain classes, got ", total);
    // Pooled within-class scatter: sum over batches of D^T D, D = f0(x) - mu_y (a GEMM per batch).
    const std::vector<float> mean_f(mean.begin(), mean.end());
    const Tensor means = Tensor::from_vector(mean_f, Shape{k, k}).to(dev);
    Tensor scatter;
    for_each_prediction(
        *teacher, *data.retain, cfg.batch_size, dev, [&](const Batch& b, const Tensor& logits) {
            NoGradGuard no_grad;
            const Tensor d = sub(logits.to(DType::F32), index_select(means, 0, b.y));
            const Tensor dtd = matmul(d, d, true, false);
            scatter = scatter.defined() ? add(scatter, dtd) : dtd;
        });
    std::vector<double> cov = scatter.to_vector<double>();
    double diag = 0;
    for (size_t i = 0; i < ku; ++i)
        for (size_t j = 0; j < ku; ++j) {
            cov[i * ku + j] /= static_cast<double>(total - classes);
            if (i == j) diag += cov[i * ku + j];
        }
    diag /= static_cast<double>(k);
    OBL_CHECK(diag > 0, "scar: the original's outputs do not vary within the retain classes");
    for (size_t i = 0; i < ku; ++i) cov[i * ku + i] += cfg.shrink * diag;
    const std::vector<double> prec = invert(cov, k);

    // The nearest retain class of each forget sample, by the original's output:
    // d(u, c) = u^T P u - 2 u^T (P mu_c) + mu_c^T P mu_c; the first term is the same for every c.
    std::vector<double> p_mu(ku * ku, 0.0), mu_p_mu(ku, 0.0);
    for (size_t c = 0; c < ku; ++c)
        for (size_t i = 0; i < ku; ++i) {
            double acc = 0;
            for (size_t j = 0; j < ku; ++j) acc += prec[i * ku + j] * mean[c * ku + j];
            p_mu[c * ku + i] = acc;
            mu_p_mu[c] += mean[c * ku + i] * acc;
        }
    std::vector<int64_t> target;
    for_each_prediction(*teacher, *data.forget, cfg.batch_size, dev,
                        [&](const Batch&, const Tensor& logits) {
                            check_logits(logits);
                            const auto l = logits.to_vector<double>();
                            for (int64_t r = 0; r < logits.size(0); ++r) {
                                const double* u = l.data() + static_cast<size_t>(r) * ku;
                                int64_t best = -1;
                                double best_d = 0;
                                for (size_t c = 0; c < ku; ++c) {
                                    if (is_forget[c] || count[c] == 0) continue;
                                    double cross = 0;
                                    for (size_t j = 0; j < ku; ++j)
                                        cross += u[j] * p_mu[c * ku + j];
                                    const double dc = mu_p_mu[c] - 2 * cross;
                                    if (best < 0 || dc < best_d) {
                                        best = static_cast<int64_t>(c);
                                        best_d = dc;
                                    }
                                }
                                target.push_back(best);
                            }
                        });

    const std::vector<float> prec_f(prec.begin(), prec.end());
    const Tensor precision = Tensor::from_vector(prec_f, Shape{k, k}).to(dev);

    auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);
    EpochLog log(ctx);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        const auto e = static_cast<uint64_t>(epoch);
        const auto forget =
            batches(data.forget->size(), cfg.batch_size, derive_seed(ctx.seed, kForgetOrder, e));
        const auto retain =
            batches(data.retain->size(), cfg.batch_size, derive_seed(ctx.seed, kRetainOrder, e));
        for (const PairedBatch& p : cycle(forget, retain)) {
            opt->zero_grad();
            // Forget: Mahalanobis pull of the outputs toward their assigned class means.
            const Batch f = fetch(*data.forget, p.forget, dev);
            std::vector<int64_t> c;
            for (int64_t i : p.forget) c.push_back(target[static_cast<size_t>(i)]);
            const Tensor centre = index_select(
                means, 0, Tensor::from_vector(c, Shape{static_cast<int64_t>(c.size())}).to(dev));
            const Tensor d = sub(model->forward(f.x), centre);
            const Tensor pull = mul_scalar(sum_all(mul(matmul(d, precision), d)),
                                           cfg.lambda_forget / static_cast<double>(d.size(0) * k));
            Tensor loss = pull;
            // Retain: distillation from the masked original, on the samples it keeps.
            if (!p.retain.empty() && cfg.lambda_retain > 0) {
                const Batch r = fetch(*data.retain, p.retain, dev);
                const Tensor t = no_grad_forward(*teacher, r.x);
                std::vector<float> tv = t.to_vector<float>();
                float lo = tv.empty() ? 0.f : tv[0];
                for (float v : tv) lo = std::min(lo, v);
                std::vector<int64_t> kept;
                std::vector<float> masked;
                for (size_t row = 0; row < p.retain.size(); ++row) {
                    const float* u = tv.data() + row * ku;
                    size_t arg = 0;
                    for (size_t j = 1; j < ku; ++j)
                        if (u[j] > u[arg]) arg = j;
                    if (is_forget[arg]) continue;
                    kept.push_back(static_cast<int64_t>(row));
                    for (size_t j = 0; j < ku; ++j) masked.push_back(is_forget[j] ? lo : u[j]);
                }
                if (!kept.empty()) {
                    const auto nk = static_cast<int64_t>(kept.size());
                    const Tensor rows = Tensor::from_vector(kept, Shape{nk}).to(dev);
                    const Tensor student = index_select(model->forward(r.x), 0, rows);
                    const Tensor teach = Tensor::from_vector(masked, Shape{nk, k}).to(dev);
                    loss = add(loss, mul_scalar(distill_kl(student, teach, cfg.temperature),
                                                cfg.lambda_retain));
                }
            }
            backward(loss);
            opt->step();
            log.add(loss.detach());
        }
        if (log.end_epoch(epoch, *model)) break;
    }
    return model;
}

}  // namespace obl
