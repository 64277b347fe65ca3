// The shared pieces every unlearning method calls explicitly (DESIGN.md §G, rule 7): no base
// class, no hidden loop. A typical method reads
//
//     check_unlearn_data(data); check_config(cfg, "neg_grad_plus");
//     auto model = start_from(original);                       // clone, eval mode
//     auto opt = make_sgd(*model, cfg.lr, cfg.momentum, cfg.weight_decay);
//     CeStep ce(*model, cfg.fused);                            // fused linear-head step or
//     autodiff EpochLog log(ctx); for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
//         auto f = batches(data.forget->size(), cfg.batch_size, derive_seed(ctx.seed, kForgetOrder,
//         epoch)); auto r = batches(data.retain->size(), cfg.batch_size, derive_seed(ctx.seed,
//         kRetainOrder, epoch)); for (const PairedBatch& p : cycle(f, r)) { ...
//         log.add(ce.step({...}, *opt)); } if (log.end_epoch(epoch, *model)) break;             //
//         on_epoch_end + data-free monitor
//     }
//     return model;
//
// Randomness: every random choice of a method comes from Philox (kernels/common/philox.h) under a
// key derive_seed(ctx.seed, stream, index), one stream per purpose, so changing one purpose's use
// of randomness never shifts another's, and a run depends on nothing but ctx.seed.
// Models are run in eval mode throughout (BatchNorm uses its running statistics and never updates
// them, dropout is off): a head's statistics must not move on synthetic inputs (DESIGN.md §F).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "data/dataset.h"
#include "nn/modules/module.h"
#include "nn/optim/sgd.h"
#include "unlearn/head_step.h"
#include "unlearn/method.h"

namespace obl {

// ---- randomness -------------------------------------------------------------------------------

// The purposes of random draws (the `stream` of derive_seed).
enum RandomStream : uint64_t {
    kForgetOrder = 1,  // shuffling the forget set, index = epoch
    kRetainOrder = 2,  // shuffling the retain set, index = epoch
    kLabels = 3,       // random labels (random_labels)
    kInit = 4,         // fresh parameters (retrain_head, bad_teacher's incompetent teacher,
                       // boundary_expand's shadow class), index = parameter number
    kSubset = 5,       // choosing a subset (bad_teacher's retain share)
    kFigures = 6,      // the synthetic draws drawn in `oblivio forget --figures` plots
};

// A 64-bit Philox key for (seed, stream, index): splitmix64 finalisers over the three, so nearby
// seeds, streams and indices give unrelated keys.
uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index = 0);

// A uniform integer in [0, n) for Philox element e under `key` (n >= 1; the 32-bit word times n,
// high half: bias below n / 2^32, negligible for class counts).
int64_t philox_below(uint64_t key, uint64_t e, int64_t n);

// 0 .. n-1 in a random order (Fisher-Yates driven by Philox words of `key`).
std::vector<int64_t> shuffled(int64_t n, uint64_t key);

// ---- batching ---------------------------------------------------------------------------------

using IndexBatch = std::vector<int64_t>;
// shuffled(n, key) cut into batches of batch_size (the last one may be smaller; none when n = 0).
std::vector<IndexBatch> batches(int64_t n, int64_t batch_size, uint64_t key);
// The first `count` of shuffled(n, key), in increasing order (a random subset).
std::vector<int64_t> random_subset(int64_t n, int64_t count, uint64_t key);
// Indices 0 .. n-1 in order, cut into batches (for passes that only read: statistics, labels).
std::vector<IndexBatch> sequential_batches(int64_t n, int64_t batch_size);

// One step's data of the methods that pair the two sets: a forget batch and a retain batch.
struct PairedBatch {
    IndexBatch forget, retain;
};
// One pair per forget batch (the forget set sets the epoch's length); retain batches are taken in
// order and reused from the first when they run out (retain may be empty: pairs with no retain).
std::vector<PairedBatch> cycle(const std::vector<IndexBatch>& forget,
                               const std::vector<IndexBatch>& retain);

// The samples at `indices` on `device` (x as the dataset gives it, y i64).
Batch fetch(const Dataset& data, const IndexBatch& indices, Device device);

// ---- models and optimizers --------------------------------------------------------------------

// A deep copy of `original` in eval mode: the model a method trains and returns.
std::unique_ptr<Module> start_from(const Module& original);
// A deep copy in eval mode with every parameter frozen: a teacher.
std::unique_ptr<Module> frozen_copy(const Module& original);
// The parameters with requires_grad, in named_parameters() order.
std::vector<Tensor> trainable_parameters(const Module& model);
// SGD (PyTorch semantics) over trainable_parameters(model) or over `params`. Throws obl::Error when
// there is nothing to train.
std::unique_ptr<Sgd> make_sgd(const Module& model, double lr, double momentum, double weight_decay);
std::unique_ptr<Sgd> make_sgd(std::vector<Tensor> params, double lr, double momentum,
                              double weight_decay);

// The model as a chain of modules (nested Sequentials flattened in execution order; any other
// module is one link) and the length of its frozen prefix: the leading links without a trainable
// parameter (a FrozenBody, a flatten). run_chain(chain, b, e, x) runs links [b, e) on x. Methods
// that work "in embedding space" (boundary_shrink's neighbour search) take the output of the
// frozen prefix as the embedding, so they run unchanged on heads and on Sequential{FrozenBody,
// head}. Compute the prefix length on the model being trained (a frozen teacher copy has no
// trainable parameter at all) and apply it to the teacher's chain.
std::vector<Module*> module_chain(Module& model);
size_t frozen_prefix_length(Module& model);
Tensor run_chain(const std::vector<Module*>& chain, size_t begin, size_t end, const Tensor& x);

// Fresh values for every trainable parameter, PyTorch's default initialisation by module type:
// Linear / Conv2d weight and bias (nn/init.h, kaiming-uniform, bound 1/sqrt(fan_in));
// BatchNorm / LayerNorm weight 1 and bias 0; any other trainable parameter: kaiming-uniform when it
// has rank >= 2, zeros otherwise. Parameter i (named_parameters() order) draws from
// derive_seed(seed, kInit, i). Frozen parameters and buffers are left alone.
void reinitialise(Module& model, uint64_t seed);

// ---- losses and steps -------------------------------------------------------------------------

// Knowledge-distillation KL with temperature T (Hinton et al. 2015, as in SCRUB's DistillKL):
//     T^2 / N sum_n KL( softmax(t_n / T) || softmax(s_n / T) )
// Gradient to the student logits only; teacher_logits must not require grad. Entries of -inf in
// teacher_logits (masked classes) get probability 0.
Tensor distill_kl(const Tensor& student_logits, const Tensor& teacher_logits, double temperature);

// One term of a hard-label objective: weight * mean_n CE(model(x)_n, y_n).
struct CeTerm {
    Tensor x;  // model inputs (N, ...)
    Tensor y;  // (N) i64
    double weight = 1.0;
};

// One optimizer step on sum_t weight_t * mean CE. When the model is a linear head
// (find_linear_head) and `allow_fused`, it runs the fused head step (unlearn/head_step.h) on the
// concatenated terms with per-row weights weight_t / N_t; otherwise the autodiff path (forward,
// cross_entropy, backward). Both compute the same loss and gradients up to rounding.
class CeStep {
   public:
    CeStep(Module& model, bool allow_fused);
    bool fused() const { return head_.has_value(); }
    // Returns the loss (scalar, detached, on the model's device). Terms with no rows are skipped.
    Tensor step(const std::vector<CeTerm>& terms, Optimizer& opt);

   private:
    Module& model_;
    std::optional<LinearHead> head_;
};

// Runs `model` (eval mode, no grad) over `data` in order and calls fn(batch, logits) for each
// batch of batch_size samples. Used by methods that precompute labels or statistics.
template <class Fn>
void for_each_prediction(Module& model, const Dataset& data, int64_t batch_size, Device device,
                         Fn&& fn);

// ---- epochs -----------------------------------------------------------------------------------

// Per-epoch bookkeeping: sums the step losses (on the device, read once per epoch) and, at the end
// of an epoch, reports EpochStats through ctx.on_epoch_end and asks ctx.monitor whether to stop.
class EpochLog {
   public:
    explicit EpochLog(const RunContext& ctx);
    void add(const Tensor& loss);  // one step's loss (scalar)
    // Returns true when the monitor asks to stop. Resets the sums for the next epoch.
    bool end_epoch(int epoch, Module& model);

   private:
    const RunContext& ctx_;
    Tensor sum_;
    int64_t steps_ = 0;
    std::chrono::steady_clock::time_point start_;
};

// ---- template definitions ---------------------------------------------------------------------

Tensor no_grad_forward(Module& model, const Tensor& x);  // forward under NoGradGuard, detached

template <class Fn>
void for_each_prediction(Module& model, const Dataset& data, int64_t batch_size, Device device,
                         Fn&& fn) {
    for (const IndexBatch& idx : sequential_batches(data.size(), batch_size)) {
        const Batch b = fetch(data, idx, device);
        fn(b, no_grad_forward(model, b.x));
    }
}

}  // namespace obl
