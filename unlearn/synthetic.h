// Synthetic embeddings (DESIGN.md §G): samples z of a head's input shape, labelled by the head's
// own argmax, with a per-class quota. This is the "source-free" data every method can train on.
//
// sample_embeddings(head, shape, cfg, seed) -> {z, y, stats}:
//   1. Plain phase. Candidate j (j = 0, 1, 2, ...) is z_j = loc + scale * v with v a standard
//      variate of the configured distribution drawn from Philox elements [j D, (j + 1) D) of the
//      distribution's stream region (kernels/synth_sample.h; D = shape.numel()). Its label is
//      argmax_k head(z_j)[k]. Candidates are examined in index order in blocks of cfg.block; a
//      candidate is accepted iff its class is still short of its quota. So the result depends on
//      the seed alone: not on the block size, the thread count or the device (up to labels whose
//      top-2 logit margin is at rounding level, ~1e-6, where CPU and GPU sums may disagree).
//      A linear head (Linear, or a Sequential holding one Linear: ResNet's "pre_logits" cut) uses
//      the fused kernel (Philox -> W z + b -> argmax on CPU fast path or CUDA; the unfused
//      reference under ReferenceCpuGuard). Any other head (conv blocks + pool + fc, transformer
//      blocks + norm + head: "last_block" cuts) takes the generic path: draw z of `shape`, run
//      head.forward in eval mode under NoGradGuard (no graph), argmax. Both paths draw the same z.
//   2. End of the plain phase: every quota is full, or the cap (cfg.max_draws; default
//      max(4096, cap_ratio x the total quota), cap_ratio 4) is reached, or (cfg.stop_rare) at a
//      CHECKPOINT (every kSynthCheckpoint = 4096 candidates) every class still short is RARE:
//          hits_c / n < quota_c / cap   (n = candidates examined so far),
//      i.e. at its rate so far it would not fill by the cap. Such classes go to the targeted
//      phase now instead of after cap - n more forwards that would mostly be rejected. Why: at
//      a feature-map cut N(0, I) noise lands very unevenly (ResNet-20 last_block, 64x8x8: classes
//      0/1/3/5 take 97% of the draws, class 9 none in 10^5; ResNet-32 last_block: class 2 takes
//      80%, class 3 4 in 10^5), and each forward costs ~10 MFLOP there, so running to the old cap
//      (20 x the quota: 10^6 forwards for 5,000 per class) was most of the 138 s measured.
//      Checkpoints are fixed candidate indices, so the rule keeps the result independent of the
//      block size. Plain samples are exact draws from the distribution conditioned on the class.
//   3. Targeted phase, for the classes still short (classes the noise rarely or never hits): a
//      MEAN-SHIFT proposal per class (the classical importance-sampling proposal for a rare
//      event: the same distribution moved toward the event's region),
//          z = m_c + (loc + scale * v),   v from the class's own stream region (16 + c),
//      labelled by the head's argmax like any other candidate: only rows whose argmax IS the
//      class are accepted, in row order, so every label is still the head's own prediction.
//      The shift m_c is found on a fixed PILOT batch of cfg.targeted_pilot draws (candidates
//      [0, P) of the region; they are never accepted): starting at m = 0, while fewer than half
//      of the pilot rows z_i + m are labelled c (at most cfg.targeted_max_steps steps),
//          m <- m - eta_k * sbar * u / ||u||,   u = sum_i g_i / ||g_i||,
//          g_i = d/dz CE(head(z_i + m), c),     eta_k = targeted_step * 2^min(k / 8, doublings)
//      (sbar = RMS of the distribution's per-dimension std; k the step index: the step length
//      doubles every 8 steps, at most targeted_max_doublings times). Then proposals [P, P + 1,
//      ...) come in rounds of cfg.targeted_batch at the fixed shift, one forward each; a round
//      accepting under 1/4 of its rows takes one more shift step first (while steps remain).
//      Each class gets at most targeted_max_draws proposals (default: 20 x its quota, at least
//      8 rounds). For a linear head and one class boundary this is exact in every direction but
//      the boundary normal (N(0, I) conditioned on a half-space vs N(m, I) on it). The gradients
//      run on a clone of the head with frozen parameters, so the head itself never sees a
//      backward pass; the search costs (steps x P) forward + backward passes, the proposals one
//      forward each (the former per-row scheme took 10 gradient steps per proposal: ~30
//      forward-equivalents each). Works for any differentiable head.
//   4. A class still short after that throws obl::Error naming every such class with its counts.
//      The loop never runs forever (the paper's public generator has no cap).
// Order of the result: the plain-phase acceptances in candidate order, then each targeted
// class's acceptances (classes in increasing order).
//
// Distributions (cfg.distribution; each value has mean 0 and std s = cfg.sigma, except Matched):
//   Gaussian  N(0, s^2 I)                          the default (s = 1), the paper's choice
//   Uniform   U(-sqrt(3) s, sqrt(3) s) per value   (variance s^2)
//   Laplace   Laplace(0, b = s / sqrt 2) per value (variance s^2)
//   Matched   N(mean_i, std_i^2) per value, mean/std given in cfg.matched_mean/matched_std, e.g.
//             from matched_stats() below (statistics the model already stores: no data).
//   Rectified max(0, N(0, s^2)) per value: the Gaussian's variates with the negative ones set to
//             0, for cuts whose real values come out of a ReLU (a ResNet's last_block input is
//             relu(BN(.) + shortcut)): draws stay on the non-negative orthant the head was
//             trained on, with the same share of exact zeros in expectation (half) as a
//             ReLU of a centred pre-activation. The targeted phase shifts the Gaussian BEFORE
//             the rectification, so its proposals stay non-negative too. Not used by the fused
//             linear-head kernel (the generic path labels such draws).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "kernels/synth_sample.h"
#include "nn/modules/linear.h"
#include "nn/modules/module.h"
#include "nn/tensor.h"

namespace obl {

enum class SynthDistribution { Gaussian, Uniform, Laplace, Matched, Rectified };
const char* synth_distribution_name(SynthDistribution d);  // "gaussian", "uniform", ...
// Parses the names above; throws obl::Error listing them otherwise.
SynthDistribution parse_synth_distribution(const std::string& name);

struct SamplerConfig {
    SynthDistribution distribution = SynthDistribution::Gaussian;
    double sigma = 1.0;  // s: the std of Gaussian / Uniform / Laplace values (> 0)
    // Matched: per-value mean and std. Length = shape.numel(), or one value per channel that is
    // broadcast: dim 0 of a (C, H, W) feature map, the last dim of (T, D) tokens.
    std::vector<float> matched_mean, matched_std;
    int64_t per_class = 5000;     // quota of every class
    std::vector<int64_t> quotas;  // optional per-class quotas (K entries; 0 skips a class)
    // Candidates per block (>= 0; never changes the result). 0: clamp(2^22 / D, 64, 16384), i.e.
    // at most 16 MB of z per block and few enough blocks that per-block overheads vanish.
    int64_t block = 0;
    int64_t max_draws = 0;         // plain-phase cap; 0: max(4096, cap_ratio x total quota)
    double cap_ratio = 4;          // the default cap in candidates per wanted sample (> 0)
    bool stop_rare = true;         // end the plain phase early when every short class is rare
    bool targeted = true;          // run the targeted phase for classes short after the plain phase
    int64_t targeted_pilot = 128;  // P: pilot draws of the shift search (>= 1)
    int targeted_max_steps = 64;   // shift-search steps per class (>= 1)
    double targeted_step = 0.5;    // eta_0: search step length in units of the distribution's std
    int targeted_max_doublings = 6;  // eta doubles every 8 steps, at most this often
    int64_t targeted_max_draws = 0;  // per class; 0: max(8 x targeted_batch, 20 x quota)
    // Proposals per targeted round. Unlike `block` this is part of the result's definition (a
    // weak round adds a shift step), so it is a separate, fixed-default field.
    int64_t targeted_batch = 1024;
    bool allow_fused = true;  // false forces the generic path even for a linear head (tests)
};
// Throws obl::Error naming the first invalid field and its value.
void check_sampler_config(const SamplerConfig& cfg);

struct ClassSampleStats {
    int64_t quota = 0;
    int64_t hits = 0;               // plain candidates labelled with the class (exact count)
    int64_t accepted = 0;           // accepted in total (plain + targeted); == quota on success
    int64_t targeted_draws = 0;     // targeted proposals drawn for the class (0: not needed)
    int64_t targeted_accepted = 0;  // of those, accepted
    int targeted_steps = 0;         // shift-search steps taken (each: P forward + backward)
    double targeted_shift = 0;      // ||m_c||, in the embedding's units (0: not targeted)
    double targeted_step = 0;       // the last search step length eta (0: not targeted)
};

// Where the plain phase ended (step 2 at the top of this file).
enum class PlainStop { QuotasFull, RareClasses, Cap };
const char* plain_stop_name(PlainStop s);  // "quotas full", "rare classes", "cap"

struct SampleStats {
    std::string path;       // "fused linear head (fast cpu)", "generic head (cuda)", ...
    int64_t draws = 0;      // plain candidates examined (index of the last one needed + 1)
    int64_t max_draws = 0;  // the cap in force
    PlainStop plain_stop = PlainStop::QuotasFull;
    int64_t targeted_draws = 0;  // over all classes (proposals; pilots not included)
    // Over all classes: pilot rows evaluated by the shift search (P per evaluation, one evaluation
    // per step plus the final one; every step adds a backward pass over the P rows).
    int64_t pilot_draws = 0;
    // Wall time of the two phases (reporting only: not part of the result).
    double plain_seconds = 0, targeted_seconds = 0;
    std::vector<ClassSampleStats> classes;  // K entries

    int64_t accepted() const;
    // accepted / (draws + targeted_draws): the share of all candidates that were kept.
    double acceptance_rate() const;
    // hits / draws: how often plain noise lands in class c.
    double hit_rate(int c) const;
    std::vector<int> targeted_classes() const;  // classes with targeted_draws > 0
    std::string summary() const;                // one line per class
};

struct SyntheticSet {
    Tensor z;  // (N, shape...) f32 on the head's device
    Tensor y;  // (N) i64 on the head's device: argmax of the head at z
    int num_classes = 0;
    SampleStats stats;
};

// The sampler (see the top of this file). `head` maps (N, shape...) to logits (N, K); its
// parameters are f32 and its device is the sampling device. The head is run in eval mode (its
// training flag is restored afterwards) and is not modified.
SyntheticSet sample_embeddings(Module& head, const Shape& shape, const SamplerConfig& cfg,
                               uint64_t seed);

// The set as a Dataset (a CPU TensorDataset: TensorDataset keeps its samples on the CPU), so that
// every method consumes synthetic, real and image data alike; filter_classes / split_by_classes
// (data/dataset.h) give the forget and retain views.
std::shared_ptr<TensorDataset> as_dataset(const SyntheticSet& set);

// ---- matched statistics -------------------------------------------------------------------------
// Per-value mean and std of the embedding at a cut, read from the normalisation layer the body
// already stores (no data). Rule: the LAST BatchNorm or LayerNorm module of `body` (registration
// order, i.e. execution order in the zoo's blocks) whose feature count is the embedding's channel
// count (dim 0 for BatchNorm, the last dim for LayerNorm), expanded to embedding_shape:
//   BatchNorm (ResNets: the last block's bn2, or bn3 for Bottlenecks): in eval mode the BN output
//     of channel c has mean beta_c and std |gamma_c| over the training data, and every ResNet
//     block ends with relu(BN(.) + shortcut), so we use the moments of relu(N(beta_c, gamma_c^2)):
//       a = beta/|gamma|, mean = beta Phi(a) + |gamma| phi(a),
//       E[y^2] = (beta^2 + gamma^2) Phi(a) + beta |gamma| phi(a), std = sqrt(E[y^2] - mean^2).
//     Approximate: the shortcut's contribution is ignored; at pre_logits (after global average
//     pooling) the per-pixel std is kept, an over-estimate of the pooled one.
//   LayerNorm (ViT / Swin at pre_logits: the final norm, exactly the layer before the head):
//     y_d = w_d xhat_d + b_d with xhat standardised per token, so mean b_d and std |w_d| (close).
//     At a transformer last_block cut the last LayerNorm is the block's ln_2, which describes the
//     MLP input rather than the residual stream: a rough, per-dimension scale only.
// Throws obl::Error when no such layer exists (pass matched_mean / matched_std explicitly then).
struct MatchedStats {
    std::vector<float> mean, stddev;  // shape.numel() values each
    std::string source;               // e.g. "BatchNorm 'layer3.2.bn2' (rectified)"
};
MatchedStats matched_stats(const Module& body, const Shape& embedding_shape);

// ---- building blocks (also used by the tests and the op table) ---------------------------------
// The Linear a head consists of (the head itself, or nested single-child Sequentials), or null:
// with a vector cut, the condition for the fused linear-head kernel.
const Linear* as_linear(const Module& m);
// (n, shape...): a batch of n samples of `shape`.
Shape batch_shape(int64_t n, const Shape& shape);
// A distribution resolved for the sampling device: the kernel's distribution, per-dimension
// loc/scale tensors (D) on the device (undefined: the scalars), and the stream offset of its
// region. Regions are 2^52 Philox elements apart: 0 Gaussian and Matched (same variates),
// 1 Uniform, 2 Laplace, 16 + c the targeted proposals of class c.
struct DrawSpec {
    kernels::SynthDist kind = kernels::SynthDist::Normal;
    Tensor loc, scale;
    float loc0 = 0.f, scale0 = 1.f;
    uint64_t offset = 0;
    bool rectify = false;  // max(0, .) after the location-scale transform (Rectified)
};
constexpr int kSynthRegionBits = 52;
constexpr int64_t kSynthCheckpoint = 4096;  // the plain phase's rare-class checkpoints
DrawSpec draw_spec(const SamplerConfig& cfg, const Shape& shape, Device device);

// z (count, D) of candidates [first, first + count): the reference, fast CPU or CUDA draw,
// chosen like an op (device, then use_fast_cpu()).
Tensor synth_draw_block(const DrawSpec& spec, int64_t d, int64_t first, int64_t count,
                        uint64_t seed, Device device);

// One fused labelling call for a linear head: weight (K, D) and bias (K) (or undefined) f32 on
// one device. Returns z (count, D), label (count) i64, margin (count), and logits (count, K) when
// want_logits.
struct SynthBlock {
    Tensor z, label, margin, logits;
};
SynthBlock synth_sample_block(const Tensor& weight, const Tensor& bias, const DrawSpec& spec,
                              int64_t first, int64_t count, uint64_t seed,
                              bool want_logits = false);

}  // namespace obl
