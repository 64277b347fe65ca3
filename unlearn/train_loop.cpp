// Shared training helpers of the unlearning methods (unlearn/train_loop.h).
#include "unlearn/train_loop.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "kernels/common/philox.h"
#include "nn/autograd.h"
#include "nn/init.h"
#include "nn/modules/batch_norm.h"
#include "nn/modules/conv2d.h"
#include "nn/modules/layer_norm.h"
#include "nn/modules/linear.h"
#include "nn/modules/sequential.h"
#include "nn/ops.h"

namespace obl {

// ---- randomness -------------------------------------------------------------------------------

namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index) {
    return splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index);
}

int64_t philox_below(uint64_t key, uint64_t e, int64_t n) {
    const uint64_t w = philox_word(e, key);
    return static_cast<int64_t>((w * static_cast<uint64_t>(n)) >> 32);
}

std::vector<int64_t> shuffled(int64_t n, uint64_t key) {
    std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    // Fisher-Yates from the back: step s swaps position i = n - 1 - s with j in [0, i] drawn from
    // Philox element s (philox_below: bias below (i + 1) / 2^32).
    OBL_CHECK(n < (int64_t(1) << 32), "shuffled: n = ", n, " is too large (limit 2^32)");
    for (int64_t i = n - 1; i > 0; --i) {
        const int64_t j = philox_below(key, static_cast<uint64_t>(n - 1 - i), i + 1);
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    return order;
}

// ---- batching ---------------------------------------------------------------------------------

namespace {

std::vector<IndexBatch> cut(const std::vector<int64_t>& order, int64_t batch_size) {
    OBL_CHECK(batch_size >= 1, "batch size must be >= 1, got ", batch_size);
    std::vector<IndexBatch> out;
    for (size_t b = 0; b < order.size(); b += static_cast<size_t>(batch_size)) {
        const size_t e = std::min(order.size(), b + static_cast<size_t>(batch_size));
        out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(b),
                         order.begin() + static_cast<std::ptrdiff_t>(e));
    }
    return out;
}

}  // namespace

std::vector<IndexBatch> batches(int64_t n, int64_t batch_size, uint64_t key) {
    return cut(shuffled(n, key), batch_size);
}

std::vector<int64_t> random_subset(int64_t n, int64_t count, uint64_t key) {
    std::vector<int64_t> order = shuffled(n, key);
    order.resize(static_cast<size_t>(std::clamp<int64_t>(count, 0, n)));
    std::sort(order.begin(), order.end());
    return order;
}

std::vector<IndexBatch> sequential_batches(int64_t n, int64_t batch_size) {
    std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    return cut(order, batch_size);
}

std::vector<PairedBatch> cycle(const std::vector<IndexBatch>& forget,
                               const std::vector<IndexBatch>& retain) {
    std::vector<PairedBatch> out;
    for (size_t i = 0; i < forget.size(); ++i)
        out.push_back({forget[i], retain.empty() ? IndexBatch{} : retain[i % retain.size()]});
    return out;
}

Batch fetch(const Dataset& data, const IndexBatch& indices, Device device) {
    Batch b = data.batch(indices);
    if (b.y.dtype() != DType::I64) b.y = b.y.to(DType::I64);
    if (device != b.x.device()) b.x = b.x.to(device);
    if (device != b.y.device()) b.y = b.y.to(device);
    return b;
}

// ---- models and optimizers --------------------------------------------------------------------

std::unique_ptr<Module> start_from(const Module& original) {
    std::unique_ptr<Module> m = original.clone();
    m->eval();
    return m;
}

std::unique_ptr<Module> frozen_copy(const Module& original) {
    std::unique_ptr<Module> m = start_from(original);
    m->set_requires_grad(false);
    return m;
}

std::vector<Tensor> trainable_parameters(const Module& model) {
    std::vector<Tensor> out;
    for (const auto& [name, p] : model.named_parameters())
        if (p.requires_grad()) out.push_back(p);
    return out;
}

std::unique_ptr<Sgd> make_sgd(std::vector<Tensor> params, double lr, double momentum,
                              double weight_decay) {
    OBL_CHECK(!params.empty(),
              "the model has no trainable parameter: an unlearning method needs at least one "
              "parameter with requires_grad (the head)");
    SgdOptions o;
    o.lr = lr;
    o.momentum = momentum;
    o.weight_decay = weight_decay;
    return std::make_unique<Sgd>(std::move(params), o);
}

std::unique_ptr<Sgd> make_sgd(const Module& model, double lr, double momentum,
                              double weight_decay) {
    return make_sgd(trainable_parameters(model), lr, momentum, weight_decay);
}

std::vector<Module*> module_chain(Module& model) {
    std::vector<Module*> out;
    if (auto* seq = dynamic_cast<Sequential*>(&model)) {
        for (const auto& child : seq->modules()) {
            std::vector<Module*> sub = module_chain(*child);
            out.insert(out.end(), sub.begin(), sub.end());
        }
    } else {
        out.push_back(&model);
    }
    return out;
}

size_t frozen_prefix_length(Module& model) {
    const std::vector<Module*> chain = module_chain(model);
    size_t n = 0;
    while (n < chain.size() && trainable_parameters(*chain[n]).empty()) ++n;
    return n;
}

Tensor run_chain(const std::vector<Module*>& chain, size_t begin, size_t end, const Tensor& x) {
    Tensor h = x;
    for (size_t i = begin; i < end; ++i) h = chain[i]->forward(h);
    return h;
}

void reinitialise(Module& model, uint64_t seed) {
    std::unordered_map<const TensorImpl*, uint64_t> index;  // trainable parameter -> its number
    uint64_t next = 0;
    for (const auto& [name, p] : model.named_parameters())
        if (p.requires_grad()) index.emplace(p.impl(), next++);
    auto set = [&](const Tensor& p, const Tensor& value) {
        Tensor v = value;
        if (v.dtype() != p.dtype()) v = v.to(p.dtype());
        if (v.device() != p.device()) v = v.to(p.device());
        NoGradGuard no_grad;
        p.detach().copy_(v);
        index.erase(p.impl());
    };
    auto key = [&](const Tensor& p) { return derive_seed(seed, kInit, index.at(p.impl())); };
    auto trainable = [&](const Tensor& p) { return p.defined() && index.count(p.impl()) > 0; };

    for (const auto& [name, m] : model.named_modules()) {
        const Tensor* w = nullptr;
        const Tensor* b = nullptr;
        bool norm = false;
        if (const auto* l = dynamic_cast<const Linear*>(m)) {
            w = &l->weight(), b = &l->bias();
        } else if (const auto* c = dynamic_cast<const Conv2d*>(m)) {
            w = &c->weight(), b = &c->bias();
        } else if (const auto* bn = dynamic_cast<const BatchNorm*>(m)) {
            w = &bn->weight(), b = &bn->bias(), norm = true;
        } else if (const auto* ln = dynamic_cast<const LayerNorm*>(m)) {
            w = &ln->weight(), b = &ln->bias(), norm = true;
        } else {
            continue;
        }
        if (norm) {
            if (trainable(*w)) set(*w, Tensor::ones(w->shape()));
            if (trainable(*b)) set(*b, Tensor::zeros(b->shape()));
            continue;
        }
        // The bias bound comes from the weight's fan-in, so draw it before the weight is replaced.
        if (trainable(*b)) set(*b, init::default_bias(w->shape(), key(*b)));
        if (trainable(*w)) set(*w, init::default_weight(w->shape(), key(*w)));
    }
    // Parameters of other module types.
    for (const auto& [name, p] : model.named_parameters()) {
        if (!trainable(p)) continue;
        if (p.dim() >= 2) {
            set(p, init::default_weight(p.shape(), key(p)));
        } else {
            set(p, Tensor::zeros(p.shape()));
        }
    }
}

// ---- losses and steps -------------------------------------------------------------------------

Tensor distill_kl(const Tensor& student_logits, const Tensor& teacher_logits, double temperature) {
    OBL_CHECK(temperature > 0, "distill_kl: temperature must be > 0, got ", temperature);
    const double inv_t = 1.0 / temperature;
    Tensor p_teacher;
    {
        NoGradGuard no_grad;
        p_teacher = softmax(mul_scalar(teacher_logits.detach(), inv_t)).detach();
    }
    const Tensor log_q = log_softmax(mul_scalar(student_logits, inv_t));
    return mul_scalar(kl_div(log_q, p_teacher), temperature * temperature);
}

CeStep::CeStep(Module& model, bool allow_fused) : model_(model) {
    if (allow_fused) head_ = find_linear_head(model);
}

Tensor CeStep::step(const std::vector<CeTerm>& terms, Optimizer& opt) {
    opt.zero_grad();
    std::vector<const CeTerm*> live;
    for (const CeTerm& t : terms)
        if (t.x.defined() && t.x.size(0) > 0) live.push_back(&t);
    OBL_ASSERT(!live.empty());

    if (head_) {
        std::vector<Tensor> zs;
        std::vector<int64_t> ys;  // concat() is for floating tensors: labels go through the host
        std::vector<double> w;
        for (const CeTerm* t : live) {
            zs.push_back(head_->features(t->x));
            if (live.size() > 1) {
                const std::vector<int64_t> y = t->y.to_vector<int64_t>();
                ys.insert(ys.end(), y.begin(), y.end());
            }
            const int64_t n = t->x.size(0);
            w.insert(w.end(), static_cast<size_t>(n), t->weight / static_cast<double>(n));
        }
        const Tensor z = zs.size() == 1 ? zs[0] : concat(zs, 0);
        if (z.dim() == 2) {
            const Tensor y = live.size() == 1
                                 ? live[0]->y
                                 : Tensor::from_vector(ys, Shape{static_cast<int64_t>(ys.size())})
                                       .to(z.device());
            const Tensor sw = Tensor::from_vector(w, Shape{static_cast<int64_t>(w.size())})
                                  .to(z.dtype())
                                  .to(z.device());
            const Linear& lin = *head_->linear;
            HeadStepResult r = head_step(z, lin.weight(), lin.bias(), y, sw);
            Tensor(lin.weight()).set_grad(r.grad_weight);
            if (lin.bias().defined()) Tensor(lin.bias()).set_grad(r.grad_bias);
            opt.step();
            return r.loss;
        }
        // Not a (N, D) embedding (e.g. token sequences): fall through to autodiff.
    }
    Tensor loss;
    for (const CeTerm* t : live) {
        const Tensor term = mul_scalar(cross_entropy(model_.forward(t->x), t->y), t->weight);
        loss = loss.defined() ? add(loss, term) : term;
    }
    backward(loss);
    opt.step();
    return loss.detach();
}

Tensor no_grad_forward(Module& model, const Tensor& x) {
    NoGradGuard no_grad;
    return model.forward(x).detach();
}

// ---- epochs -----------------------------------------------------------------------------------

EpochLog::EpochLog(const RunContext& ctx) : ctx_(ctx), start_(std::chrono::steady_clock::now()) {}

void EpochLog::add(const Tensor& loss) {
    NoGradGuard no_grad;
    sum_ = sum_.defined() ? obl::add(sum_, loss.detach()) : loss.detach().clone();
    ++steps_;
}

bool EpochLog::end_epoch(int epoch, Module& model) {
    EpochStats s;
    s.epoch = epoch;
    s.steps = steps_;
    s.loss = steps_ > 0 ? sum_.item() / static_cast<double>(steps_) : 0.0;
    const auto now = std::chrono::steady_clock::now();
    s.seconds = std::chrono::duration<double>(now - start_).count();
    start_ = now;
    sum_ = Tensor();
    steps_ = 0;
    if (ctx_.on_epoch_end) ctx_.on_epoch_end(epoch, s);
    model.eval();
    return ctx_.monitor ? ctx_.monitor(epoch, model) : false;
}

}  // namespace obl
