// `oblivio explain`: a dry run of `oblivio forget` (experiments/cmd_forget.cpp) that trains
// nothing and writes nothing. For one request (model, arch, classes, cut, method, sampler) it
// prints, for a student reading along:
//   1. the split: every stage of the model with its output shape and parameter count, the cut
//      marked between the body (frozen, never run by forget) and the head (trained);
//   2. the embedding shape at the cut and the head's structure (unlearn/head_defaults.h);
//   3. where the synthetic draws land: a probe of the first N candidates the sampler would examine
//      (same seed, same Philox streams: unlearn/synthetic.h's building blocks) run through the
//      head, the hit rate of every class, the expected draws to fill its quota and whether the
//      sampler will need its targeted phase for it;
//   4. the method's resolved config (configs.h defaults, then the head-structure defaults, then
//      --set) and the data-free stopping rule's settings (unlearn/selection.h);
//   5. a time estimate: the probe's draws/s, the head's forward rate and one timed training step
//      (fetch + forward + backward + SGD on one batch), extrapolated to the quota, the targeted
//      phase, the method's epochs x steps and the monitor's held-out forwards.
// Everything is checked exactly as `oblivio forget` checks it (check_forget_request) before any
// work, so a request explain accepts is one forget accepts, and the same errors come out.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "experiments/cli_util.h"
#include "experiments/commands.h"
#include "experiments/request_options.h"
#include "kernels/common/parallel.h"
#include "models/split.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/modules/linear.h"
#include "nn/modules/sequential.h"
#include "nn/ops.h"
#include "unlearn/forget.h"
#include "unlearn/head_defaults.h"
#include "unlearn/methods.h"
#include "unlearn/selection.h"
#include "unlearn/synthetic.h"
#include "unlearn/train_loop.h"

namespace obl::cli {

namespace {

constexpr const char* kExplainUsage =
    "usage: oblivio explain --model IN.safetensors --arch NAME --classes C[,C...] [options]\n"
    "\n"
    "A dry run of `oblivio forget` with the same request: trains nothing, writes nothing, and\n"
    "prints what forget would do: the split of the model at the cut, the embedding and the head,\n"
    "where the synthetic draws land (per-class hit rates of a probe through the head, and which\n"
    "classes the sampler will have to fill with targeted proposals), the method's resolved\n"
    "settings, the data-free stopping rule, and an estimate of the run time on this machine.\n"
    "\n"
    "  --model FILE            a zoo checkpoint (tools/convert_checkpoint.py or oblivio output)\n"
    "  --arch NAME             its zoo architecture (see oblivio models)\n"
    "  --classes C[,C...]      the classes to forget\n"
    "  --cut P                 pre_logits (default) | last_block | a stage name\n"
    "  --method NAME           the unlearning method (default neg_grad_plus; see oblivio methods)\n"
    "  --samples-per-class N   synthetic draws per class (default 5000, as oblivio forget)\n"
    "  --dist D                gaussian | uniform | laplace (default gaussian)\n"
    "  --sigma S               the distribution's standard deviation (default 1)\n"
    "  --seed S                (default 0); the probe draws are the first candidates this seed\n"
    "                          gives the sampler\n"
    "  --set key=value         method setting (see oblivio methods -v); select.<key> sets the\n"
    "                          selection rule (per_class, confident_share, margin_ratio,\n"
    "                          tau_f, tau_r, batch)\n"
    "  --probe-draws N         draws in the hit-rate probe (default 4096)\n"
    "  --device D              cpu | cuda (default cpu): where the probe and the timed step run\n";

// ---- small helpers ------------------------------------------------------------------------------

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// "40 us", "4.2 ms", "12 ms", "3.2 s", "2 min 05 s".
std::string time_text(double s) {
    char buf[64];
    if (s < 1e-3)
        std::snprintf(buf, sizeof(buf), "%.0f us", 1e6 * s);
    else if (s < 0.01)
        std::snprintf(buf, sizeof(buf), "%.1f ms", 1e3 * s);
    else if (s < 1)
        std::snprintf(buf, sizeof(buf), "%.0f ms", 1e3 * s);
    else if (s < 60)
        std::snprintf(buf, sizeof(buf), "%.1f s", s);
    else
        std::snprintf(buf, sizeof(buf), "%d min %02d s", static_cast<int>(s / 60),
                      static_cast<int>(std::fmod(s, 60)));
    return buf;
}

// `text` word-wrapped at `width` columns: the first line after `first`, the others indented to
// its width.
void print_wrapped(const std::string& text, const std::string& first = "   ", size_t width = 92) {
    const std::string indent(first.size(), ' ');
    std::string line;
    bool first_line = true;
    const auto flush = [&] {
        std::printf("%s%s\n", (first_line ? first : indent).c_str(), line.c_str());
        first_line = false;
        line.clear();
    };
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(start, end - start);
        if (!line.empty() && first.size() + line.size() + 1 + word.size() > width) flush();
        line += (line.empty() ? "" : " ") + word;
        start = end + 1;
    }
    if (!line.empty() || first_line) flush();
}

std::string count_list(const std::vector<int>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
}

bool contains(const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

int64_t ceil_div(int64_t a, int64_t b) { return b > 0 ? (a + b - 1) / b : 0; }

// The value of a resolved config field as text ("" when the method has no such field).
std::string field_text(const std::vector<FieldInfo>& config, const std::string& name) {
    for (const FieldInfo& f : config)
        if (f.name == name) return f.value;
    return "";
}
double field_number(const std::vector<FieldInfo>& config, const std::string& name,
                    double fallback) {
    const std::string t = field_text(config, name);
    double v = 0;
    return !t.empty() && detail::parse_field(t, &v) ? v : fallback;
}

// ---- 1. the split ---------------------------------------------------------------------------

void print_split(const Classifier& model, const Shape& input, const Split& sp,
                 const std::string& cut, Device device) {
    const std::vector<Stage>& stages = model.stages();
    const size_t cut_index = model.resolve(cut);
    // Every stage's output shape: the stages run one after the other on a zero sample.
    std::vector<std::string> out_shape;
    {
        NoGradGuard no_grad;
        Tensor x = Tensor::zeros(batch_shape(1, input), DType::F32, device);
        for (const Stage& s : stages) {
            x = s.module->forward(x);
            Shape one;
            for (int i = 1; i < x.dim(); ++i) one.push_back(x.size(i));
            out_shape.push_back(one.str());
        }
    }
    // Aliases per stage ("pre_logits", "last_block" name boundaries per architecture).
    std::map<std::string, std::string> alias_of;
    for (const auto& [alias, target] : model.aliases())
        alias_of[target] += (alias_of[target].empty() ? "" : ", ") + alias;

    int64_t body_params = 0, head_params = 0;
    std::printf("1. The split\n\n");
    std::printf("   %3s  %-22s %-16s %11s  %s\n", "#", "stage", "output shape", "parameters",
                "part");
    for (size_t i = 0; i < stages.size(); ++i) {
        if (i == cut_index) {
            std::printf("   ---- cut '%s' = before stage '%s' ", cut.c_str(), sp.point.c_str());
            const int used = 31 + static_cast<int>(cut.size() + sp.point.size());
            for (int k = used; k < 78; ++k) std::fputc('-', stdout);
            std::printf("\n");
        }
        const int64_t params = stages[i].module->num_parameters();
        (i < cut_index ? body_params : head_params) += params;
        const auto a = alias_of.find(stages[i].name);
        std::printf("   %3zu  %-22s %-16s %11lld  %s%s\n", i, stages[i].name.c_str(),
                    out_shape[i].c_str(), static_cast<long long>(params),
                    i < cut_index ? "body" : "HEAD",
                    a == alias_of.end() ? "" : ("   <- --cut " + a->second).c_str());
    }
    std::printf(
        "\n   body: stages 0-%zu, %lld parameters, frozen. oblivio forget never runs it: the head\n"
        "         is trained on synthetic embeddings, no image is needed (source-free).\n"
        "   head: stages %zu-%zu, %lld parameters, the only part that is trained.\n",
        cut_index - 1, static_cast<long long>(body_params), cut_index, stages.size() - 1,
        static_cast<long long>(head_params));
    std::printf(
        "   Cuts are only at stage boundaries: only there is the model's whole forward state one\n"
        "   tensor (the embedding), so head(body(x)) is exactly model(x); inside a stage, e.g. a\n"
        "   residual block, the state is two tensors (the branch and the shortcut).\n");
    // The valid points, wrapped at 92 columns.
    std::string line = "   Valid --cut values:";
    for (const std::string& p : model.split_points()) {
        if (line.size() + 1 + p.size() > 92) {
            std::printf("%s\n", line.c_str());
            line = "                      ";
        }
        line += " " + p;
    }
    std::printf("%s\n\n", line.c_str());
}

// ---- 2. the embedding and the head ---------------------------------------------------------

void print_head(const Split& sp, const HeadStructure& hs) {
    const Shape& e = sp.embedding_shape;
    std::string product;
    for (int i = 0; i < e.size(); ++i) product += (i ? " x " : "") + std::to_string(e[i]);
    std::printf("2. The embedding and the head\n\n");
    std::printf("   embedding shape   %s = %lld values per sample%s\n", e.str().c_str(),
                static_cast<long long>(e.numel()),
                e.size() > 1 ? (" (" + product + ")").c_str() : "");
    std::printf("   head              %s\n", hs.describe().c_str());
    std::printf("   trainable         %lld parameters:\n", static_cast<long long>(hs.parameters));
    for (const auto& [name, p] : sp.head->named_parameters()) {
        if (!p.requires_grad()) continue;
        std::printf("      %-34s %-16s %9lld\n", name.c_str(), p.shape().str().c_str(),
                    static_cast<long long>(p.numel()));
    }
    std::printf(
        "   Every draw is one tensor of the embedding shape; the head labels it with its\n"
        "   argmax, so every synthetic label is the model's own prediction.\n\n");
}

// ---- 3. the probe -----------------------------------------------------------------------------

struct Probe {
    int64_t draws = 0;
    std::vector<int64_t> hits;  // per class
    double seconds = 0;         // wall time of the timed passes (draw + label)
    int64_t timed_draws = 0;    // draws over the timed passes (the probe repeated while short)
    // The head's forward alone on drawn z (what the selection monitor runs every epoch).
    double forward_seconds = 0;
    int64_t forward_rows = 0;
    std::string path;

    double rate() const { return static_cast<double>(timed_draws) / seconds; }
    double forward_rate() const { return static_cast<double>(forward_rows) / forward_seconds; }
};

// The labels (host) of the head on z (n, D), adding the forward's time and rows to *probe.
std::vector<int64_t> timed_labels(Module& head, const Tensor& z, const Shape& shape, Probe* probe) {
    const auto t = std::chrono::steady_clock::now();
    std::vector<int64_t> y =
        argmax(head.forward(z.reshape(batch_shape(z.size(0), shape))), 1).to_vector<int64_t>();
    probe->forward_seconds += seconds_since(t);
    probe->forward_rows += z.size(0);
    return y;
}

// The first `draws` candidates of the sampler's plain phase for this seed, labelled by the head
// the way the sampler labels them: the fused kernel for a linear head, otherwise draw + head
// forward + argmax; in blocks like the sampler's (at most 2^22 values of z at a time).
Probe run_probe(Module& head, const Shape& shape, const SamplerConfig& cfg, uint64_t seed,
                int64_t draws, int num_classes, Device device) {
    const bool was_training = head.is_training();
    head.train(false);
    NoGradGuard no_grad;
    const DrawSpec spec = draw_spec(cfg, shape, device);
    const int64_t d = shape.numel();
    const Linear* linear = shape.size() == 1 ? as_linear(head) : nullptr;
    const int64_t block = std::clamp<int64_t>((int64_t(1) << 22) / d, 64, 16384);
    Probe p;
    p.draws = draws;
    p.hits.assign(static_cast<size_t>(num_classes), 0);
    p.path = std::string(linear ? "the fused linear-head kernel" : "draw + head forward") + " on " +
             (device.is_cpu() ? "cpu" : "cuda");
    const auto pass = [&](bool count) {
        for (int64_t first = 0; first < draws; first += block) {
            const int64_t n = std::min(block, draws - first);
            const std::vector<int64_t> y =
                linear ? synth_sample_block(linear->weight(), linear->bias(), spec, first, n, seed)
                             .label.to_vector<int64_t>()
                       : timed_labels(head, synth_draw_block(spec, d, first, n, seed, device),
                                      shape, &p);
            if (count)
                for (int64_t c : y) ++p.hits.at(static_cast<size_t>(c));
        }
    };
    // The counted pass is timed. When it is short (a linear head: a few ms), its time is mostly
    // one-off costs (first touch of memory, the thread team starting), so the rates come from
    // further passes over the same draws instead, repeated until 0.05 s have passed.
    auto t = std::chrono::steady_clock::now();
    pass(true);
    p.seconds = seconds_since(t);
    p.timed_draws = draws;
    if (p.seconds < 0.5) {
        p.forward_seconds = 0;
        p.forward_rows = 0;
        t = std::chrono::steady_clock::now();
        p.timed_draws = 0;
        do {
            pass(false);
            p.timed_draws += draws;
        } while (seconds_since(t) < 0.05 && p.timed_draws < 256 * draws);
        p.seconds = seconds_since(t);
    }
    if (linear) {  // the fused kernel draws and labels in one call: time the forward on its own
        const Tensor z = synth_draw_block(spec, d, 0, std::min<int64_t>(draws, 2048), seed, device);
        timed_labels(head, z, shape, &p);  // warm-up
        p.forward_seconds = 0;
        p.forward_rows = 0;
        while (p.forward_seconds < 0.02 && p.forward_rows < 256 * z.size(0))
            timed_labels(head, z, shape, &p);
    }
    head.train(was_training);
    return p;
}

// What the probe predicts for one sampling run (quota per class; 0 = skipped), following the
// rules of unlearn/synthetic.h.
struct SamplingPlan {
    int64_t cap = 0;           // the plain phase's candidate cap
    double plain_draws = 0;    // expected plain candidates examined
    bool stops_early = false;  // ends at a checkpoint because every short class is rare
    std::vector<char> targeted, borderline;
    std::vector<double> need;       // expected plain draws to fill the class (inf: no hit)
    double targeted_proposals = 0;  // expected, over all targeted classes
    int targeted_classes = 0;
};

SamplingPlan plan_sampling(const Probe& p, const std::vector<int64_t>& quota,
                           const SamplerConfig& cfg) {
    const size_t k = quota.size();
    SamplingPlan s;
    int64_t total = 0;
    for (int64_t q : quota) total += q;
    s.cap = cfg.max_draws > 0
                ? cfg.max_draws
                : std::max<int64_t>(4096,
                                    static_cast<int64_t>(std::ceil(cfg.cap_ratio * double(total))));
    s.targeted.assign(k, 0);
    s.borderline.assign(k, 0);
    s.need.assign(k, 0);
    const double n = static_cast<double>(p.draws);
    double slowest = 0;
    for (size_t c = 0; c < k; ++c) {
        if (quota[c] == 0) continue;
        const double rate = static_cast<double>(p.hits[c]) / n;
        const double q = static_cast<double>(quota[c]);
        s.need[c] = p.hits[c] > 0 ? q * n / static_cast<double>(p.hits[c]) : INFINITY;
        // The sampler's rare test at a checkpoint: hits / draws < quota / cap.
        const double t = q / static_cast<double>(s.cap);
        s.targeted[c] = rate < t;
        // Within two binomial standard deviations of the threshold the probe cannot tell.
        const double sd = std::sqrt(n * std::min(t, 1.0) * std::max(0.0, 1.0 - t));
        s.borderline[c] = std::fabs(static_cast<double>(p.hits[c]) - n * t) < 2 * sd;
        if (!s.targeted[c]) slowest = std::max(slowest, s.need[c]);
    }
    bool any_rare = false;
    for (size_t c = 0; c < k; ++c) any_rare |= s.targeted[c] != 0;
    s.plain_draws = slowest;
    if (any_rare && cfg.stop_rare) {
        // Ends at the first checkpoint (every kSynthCheckpoint candidates) after the others fill.
        s.stops_early = true;
        const double cp = static_cast<double>(kSynthCheckpoint);
        s.plain_draws = std::max(cp, std::ceil(slowest / cp) * cp);
    } else if (any_rare) {
        s.plain_draws = static_cast<double>(s.cap);
    }
    s.plain_draws = std::min(s.plain_draws, static_cast<double>(s.cap));
    for (size_t c = 0; c < k; ++c) {
        if (!s.targeted[c]) continue;
        const double rate = static_cast<double>(p.hits[c]) / n;
        const double missing = std::max(0.0, static_cast<double>(quota[c]) - rate * s.plain_draws);
        const double max_t = cfg.targeted_max_draws > 0
                                 ? static_cast<double>(cfg.targeted_max_draws)
                                 : std::max(8.0 * static_cast<double>(cfg.targeted_batch),
                                            20.0 * static_cast<double>(quota[c]));
        // Assumed: half the proposals are accepted (the shift search aims at half of the pilot).
        const double rounds = std::ceil(2 * missing / static_cast<double>(cfg.targeted_batch));
        s.targeted_proposals += std::min(max_t, rounds * static_cast<double>(cfg.targeted_batch));
        ++s.targeted_classes;
    }
    return s;
}

void print_draws(const Probe& p, const SamplingPlan& s, const std::vector<int64_t>& quota,
                 const SamplerConfig& cfg, const std::vector<int>& classes,
                 const std::vector<int>& previously, uint64_t seed) {
    std::printf("3. Where the draws land\n\n");
    std::printf(
        "   Probe: the first %lld %s (sigma %g) draws of seed %llu, labelled by the head\n"
        "   through %s.\n"
        "   They are exactly the first candidates oblivio forget examines with this seed.\n\n",
        static_cast<long long>(p.draws), synth_distribution_name(cfg.distribution), cfg.sigma,
        static_cast<unsigned long long>(seed), p.path.c_str());
    const std::string need_head = "draws to fill " + std::to_string(cfg.per_class);
    std::printf("   %-8s %7s  %8s  %18s  %s\n", "class", "hits", "hit rate", need_head.c_str(),
                "targeted phase");
    double rate_sum = 0;
    int64_t hit_sum = 0;
    for (size_t c = 0; c < quota.size(); ++c) {
        const int ci = static_cast<int>(c);
        const std::string tag = std::to_string(c) + (contains(classes, ci)      ? " [F]"
                                                     : contains(previously, ci) ? " [f]"
                                                                                : "");
        const double rate = static_cast<double>(p.hits[c]) / static_cast<double>(p.draws);
        rate_sum += rate;
        hit_sum += p.hits[c];
        std::string need, phase;
        char buf[64];
        if (quota[c] == 0) {
            need = "-";
            phase = "skipped (quota 0)";
        } else {
            if (std::isfinite(s.need[c])) {
                std::snprintf(buf, sizeof(buf), "%.0f", std::ceil(s.need[c]));
                need = buf;
            } else {
                need = "never";
            }
            phase = s.targeted[c] ? "YES" : "no";
            if (s.borderline[c]) phase += " (borderline)";
        }
        std::printf("   %-8s %7lld  %8.4f  %18s  %s\n", tag.c_str(),
                    static_cast<long long>(p.hits[c]), rate, need.c_str(), phase.c_str());
    }
    std::printf("   %-8s %7lld  %8.4f\n", "total", static_cast<long long>(hit_sum), rate_sum);
    std::printf("   [F] forget class of this request%s\n\n",
                previously.empty() ? ""
                                   : "; [f] forgotten by an earlier request (model metadata): no "
                                     "draws");

    const int64_t per = cfg.per_class;
    const double threshold = static_cast<double>(per) / static_cast<double>(s.cap);
    std::printf(
        "   How the sampler fills the quotas (unlearn/synthetic.h):\n"
        "   - Plain phase: candidates are drawn in order and kept while their class is short of\n"
        "     its quota (%lld). It ends when every quota is full, at the cap of %lld candidates\n"
        "     (max(4096, %g x the total quota)), or at a checkpoint (every %lld candidates) where\n"
        "     every class still short is RARE: hit rate so far < quota / cap = %.4f.\n",
        static_cast<long long>(per), static_cast<long long>(s.cap), cfg.cap_ratio,
        static_cast<long long>(kSynthCheckpoint), threshold);
    const int64_t max_t = cfg.targeted_max_draws > 0
                              ? cfg.targeted_max_draws
                              : std::max<int64_t>(8 * cfg.targeted_batch, 20 * per);
    std::printf(
        "   - Targeted phase, for each class still short: a mean-shift proposal. A pilot of %lld\n"
        "     draws is moved along the head's gradient toward the class (at most %d steps) until\n"
        "     half of it is labelled with the class; proposals then come in rounds of %lld at "
        "that\n"
        "     shift and are kept only where the head's argmax IS the class (so every label is\n"
        "     still the head's own), at most %lld proposals per class. A class still short after\n"
        "     that is an error naming it; the sampler never loops forever.\n\n",
        static_cast<long long>(cfg.targeted_pilot), cfg.targeted_max_steps,
        static_cast<long long>(cfg.targeted_batch), static_cast<long long>(max_t));

    char buf[128];
    std::snprintf(buf, sizeof(buf), "Expected: the plain phase examines ~%.0f candidates",
                  std::ceil(s.plain_draws));
    std::string text = buf;
    if (s.targeted_classes == 0) {
        text += " and fills every quota; no targeted phase.";
    } else {
        std::string list;
        for (size_t c = 0; c < quota.size(); ++c)
            if (s.targeted[c]) list += (list.empty() ? "" : ",") + std::to_string(c);
        text += std::string(s.stops_early
                                ? " and stops at a checkpoint (every class still short is rare)"
                                : " (the cap)") +
                "; class(es) " + list + " go to the targeted phase.";
    }
    for (int f : classes)
        if (f >= 0 && static_cast<size_t>(f) < quota.size() && s.targeted[static_cast<size_t>(f)])
            text += " Forget class " + std::to_string(f) +
                    " is rare under this distribution: its forget set will come mostly from "
                    "targeted proposals.";
    print_wrapped(text);
    std::printf("\n");
}

// ---- 4. the method and the stopping rule ----------------------------------------------------

void print_method(const MethodInfo& m, const std::vector<FieldInfo>& config,
                  const Overrides& head_overrides, const Overrides& user, const HeadStructure& hs,
                  const SelectionConfig& sel) {
    std::printf("4. The method: %s (%s)\n\n", m.name.c_str(), m.summary.c_str());
    std::printf(
        "   Settings: the method's defaults (unlearn/configs.h), then the defaults for a\n"
        "   %s head (unlearn/head_defaults.h), then --set.\n\n",
        hs.deep() ? "deep" : "linear");
    std::printf("   %-18s %-10s %-13s %s\n", "setting", "value", "from", "meaning");
    const auto has = [](const Overrides& o, const std::string& key) {
        for (const auto& kv : o)
            if (kv.first == key) return true;
        return false;
    };
    for (const FieldInfo& f : config) {
        const char* from = has(user, f.name)             ? "--set"
                           : has(head_overrides, f.name) ? "head default"
                                                         : "default";
        char prefix[96];
        std::snprintf(prefix, sizeof(prefix), "   %-18s %-10s %-13s ", f.name.c_str(),
                      f.value.c_str(), from);
        print_wrapped(f.doc, prefix, 100);
    }
    std::printf("   config hash %s\n\n", config_hash(m.name, config).c_str());

    std::printf(
        "   Data-free stopping rule (unlearn/selection.h): after every epoch the head is measured\n"
        "   on a HELD-OUT synthetic set (%lld draws per class from the original head, its own\n"
        "   seed derived from --seed); no real data is ever used.\n",
        static_cast<long long>(sel.per_class));
    std::printf("   %-24s %-7s %s\n", "setting", "value", "meaning");
    std::vector<FieldInfo> fields_sel = describe_fields(sel);
    for (const FieldInfo& f : fields_sel) {
        char prefix[96];
        std::snprintf(prefix, sizeof(prefix), "   select.%-17s %-7s ", f.name.c_str(),
                      f.value.c_str());
        print_wrapped(f.doc, prefix, 100);
    }
    std::printf(
        "   Stop at the first epoch that is FORGOTTEN (every forget class's confident margin <=\n"
        "   -%g x its original margin, and synF <= %g) and ADMISSIBLE (synR >= %g); stop as soon\n"
        "   as synR falls below %g (the latest admissible epoch is kept); otherwise run the\n"
        "   method's epoch budget. A selection that is not admissible is not written.\n\n",
        sel.margin_ratio, sel.tau_f, sel.tau_r, sel.tau_r);
}

// ---- 5. the time estimate ---------------------------------------------------------------------

// How many optimizer steps and batch passes (forward + backward of one batch) the method runs
// over its whole epoch budget, from its "epoch set" (unlearn/configs.h).
struct EpochPlan {
    std::string what;  // "one pass over the forget set (5000 draws): 20 steps, ..."
    int epochs = 0;
    int64_t steps = 0;         // over the whole budget
    int64_t batch_passes = 0;  // over the whole budget
};

EpochPlan plan_epochs(const std::string& method, const std::vector<FieldInfo>& config,
                      int64_t forget_n, int64_t retain_n) {
    EpochPlan e;
    e.epochs = static_cast<int>(field_number(config, "epochs", 1));
    const auto b = static_cast<int64_t>(field_number(config, "batch_size", 256));
    const int64_t f = ceil_div(forget_n, b), r = ceil_div(retain_n, b);
    char buf[256];
    const auto per_epoch = [&](const char* set, int64_t n, int64_t steps, int batches,
                               const char* each) {
        std::snprintf(buf, sizeof(buf), "one pass over the %s (%lld draws): %lld steps of %s", set,
                      static_cast<long long>(n), static_cast<long long>(steps), each);
        e.what = buf;
        e.steps = steps * e.epochs;
        e.batch_passes = steps * batches * e.epochs;
    };
    if (method == "finetune" || method == "retrain_head") {
        per_epoch("retain set", retain_n, r, 1, "one retain batch");
    } else if (method == "neg_grad_plus" || method == "scar") {
        per_epoch("forget set", forget_n, f, 2, "a forget batch + a retain batch");
    } else if (method == "random_labels") {
        if (field_number(config, "retain_weight", 1) > 0)
            per_epoch("forget set", forget_n, f, 2, "a forget batch + a retain batch");
        else
            per_epoch("forget set", forget_n, f, 1, "one forget batch");
    } else if (method == "scrub") {
        const int fm = static_cast<int>(field_number(config, "final_min_epochs", 0));
        const int max_epochs = std::max(0, e.epochs - fm);
        std::snprintf(buf, sizeof(buf),
                      "a max pass over the forget set (%lld steps; not in the last %d epochs) "
                      "then a min pass over the retain set (%lld steps)",
                      static_cast<long long>(f), fm, static_cast<long long>(r));
        e.what = buf;
        e.steps = e.batch_passes = max_epochs * f + e.epochs * r;
    } else if (method == "bad_teacher") {
        const auto share = static_cast<int64_t>(
            std::llround(field_number(config, "retain_fraction", 0) * double(retain_n)));
        per_epoch("forget set + the retain share", forget_n + share, ceil_div(forget_n + share, b),
                  1, "one mixed batch");
    } else if (method == "neg_grad" || method == "boundary_shrink" || method == "boundary_expand" ||
               method == "delete") {
        per_epoch("forget set", forget_n, f, 1, "one forget batch");
    } else {
        per_epoch("forget set (assumed: explain has no entry for this method)", forget_n, f, 1,
                  "one forget batch");
    }
    return e;
}

// Seconds per optimizer step on one batch of `batch` draws labelled by the head: a copy of the
// head, the method's SGD settings, the fused step where the method would use it. Warm-up step
// first, then the mean over steps until 0.05 s (at least 2, at most 20).
double time_training_step(const Module& head, const Shape& shape, const SamplerConfig& cfg,
                          uint64_t seed, int64_t batch, const std::vector<FieldInfo>& config,
                          int num_classes, Device device, bool* fused) {
    std::unique_ptr<Module> model = start_from(head);
    std::shared_ptr<TensorDataset> data;
    {
        NoGradGuard no_grad;
        const DrawSpec spec = draw_spec(cfg, shape, device);
        const Tensor x = synth_draw_block(spec, shape.numel(), 0, batch, seed, device)
                             .reshape(batch_shape(batch, shape));
        const Tensor y = argmax(model->forward(x), 1);
        data =
            std::make_shared<TensorDataset>(x.to(Device::cpu()), y.to(Device::cpu()), num_classes);
    }
    auto opt =
        make_sgd(*model, field_number(config, "lr", 0.01), field_number(config, "momentum", 0),
                 field_number(config, "weight_decay", 0));
    CeStep ce(*model, field_text(config, "fused") == "true");
    *fused = ce.fused();
    // As in the methods' loops: a shuffled batch fetched from the (CPU) dataset, then one step;
    // reading the loss back synchronises the device.
    const std::vector<IndexBatch> order = batches(batch, batch, derive_seed(seed, kForgetOrder));
    const auto step = [&] {
        const Batch b = fetch(*data, order.front(), device);
        (void)ce.step({{b.x, b.y, 1.0}}, *opt).to_vector<float>();
    };
    step();  // warm-up
    int steps = 0;
    const auto t = std::chrono::steady_clock::now();
    while (steps < 2 || (seconds_since(t) < 0.05 && steps < 20)) {
        step();
        ++steps;
    }
    return seconds_since(t) / steps;
}

void print_estimate(const Probe& probe, const SamplingPlan& train_plan,
                    const SamplingPlan& heldout_plan, const EpochPlan& ep, double step_s,
                    bool fused, int64_t batch, int64_t heldout_n, const SamplerConfig& cfg,
                    Device device) {
    const double rate = probe.rate();  // draws / s
    const double per_row_step = step_s / static_cast<double>(batch);
    std::printf(
        "5. Time estimate (an ESTIMATE from wall-clock measurements on this machine, under its\n"
        "   current load: %s, %d threads)\n\n",
        device.is_cpu() ? "cpu" : "cuda", num_threads());
    std::printf(
        "   measured  probe          %lld draws in %s = %.3g draws/s\n"
        "                            (%s)\n",
        static_cast<long long>(probe.timed_draws), time_text(probe.seconds).c_str(), rate,
        probe.path.c_str());
    std::printf("             head forward   %lld rows in %s = %.3g rows/s\n",
                static_cast<long long>(probe.forward_rows),
                time_text(probe.forward_seconds).c_str(), probe.forward_rate());
    std::printf(
        "             training step  %s on %lld draws\n"
        "                            (fetch, forward, backward, SGD; %s)\n\n",
        time_text(step_s).c_str(), static_cast<long long>(batch),
        fused ? "the fused linear-head step" : "autodiff");

    // Rows of the table; `upper`: the time is an upper bound ("<= 1.2 s").
    const auto row = [](const std::string& what, const std::string& detail, double s,
                        bool upper = false) {
        std::printf("   %-20s %-50s %14s\n", what.c_str(), detail.c_str(),
                    ((upper ? "<= " : "") + time_text(s)).c_str());
    };
    char buf[256];
    double total = 0, search_total = 0;
    // One sampling run: the plain phase and the targeted proposals at the probe's rate; the shift
    // search at most max_steps x pilot rows forward + backward per targeted class, counted at the
    // training step's cost per row.
    const auto sampling = [&](const char* what, const SamplingPlan& s) {
        std::snprintf(buf, sizeof(buf), "plain phase, ~%.0f draws", std::ceil(s.plain_draws));
        row(what, buf, s.plain_draws / rate);
        total += s.plain_draws / rate;
        if (s.targeted_classes == 0) return;
        std::snprintf(buf, sizeof(buf), "targeted phase, %d class(es), ~%.0f proposals",
                      s.targeted_classes, s.targeted_proposals);
        row("", buf, s.targeted_proposals / rate);
        total += s.targeted_proposals / rate;
        const double search = s.targeted_classes * static_cast<double>(cfg.targeted_max_steps) *
                              static_cast<double>(cfg.targeted_pilot) * per_row_step;
        std::snprintf(buf, sizeof(buf), "shift search, %d x %d steps x %lld rows",
                      s.targeted_classes, cfg.targeted_max_steps,
                      static_cast<long long>(cfg.targeted_pilot));
        row("", buf, search, true);
        search_total += search;
    };
    sampling("sampling (training)", train_plan);
    sampling("sampling (held-out)", heldout_plan);
    const double t_steps = static_cast<double>(ep.batch_passes) * step_s;
    std::snprintf(buf, sizeof(buf), "%d epochs x %lld steps = %lld batch passes", ep.epochs,
                  static_cast<long long>(ep.epochs ? ep.steps / ep.epochs : 0),
                  static_cast<long long>(ep.batch_passes));
    row("training", buf, t_steps);
    const double t_monitor = ep.epochs * static_cast<double>(heldout_n) / probe.forward_rate();
    std::snprintf(buf, sizeof(buf), "%d epochs x %lld held-out forwards", ep.epochs,
                  static_cast<long long>(heldout_n));
    row("selection", buf, t_monitor);
    total += t_steps + t_monitor;
    std::snprintf(buf, sizeof(buf), "the whole %d-epoch budget", ep.epochs);
    if (search_total > 0) {
        std::printf("   %-20s %-50s %14s\n", "total", buf,
                    (time_text(total) + " to " + time_text(total + search_total)).c_str());
    } else {
        row("total", buf, total);
    }
    std::printf("\n");
    print_wrapped("An epoch is " + ep.what + ".");
    print_wrapped(
        "Assumes: sampling runs at the probe's rate and the held-out set at the forward's; every "
        "batch pass costs the timed step (teacher forwards, one-off label passes and the loop's "
        "bookkeeping are not counted); the method runs its whole epoch budget, while the stopping "
        "rule usually ends it sooner." +
        std::string(search_total > 0 ? " Targeted classes are assumed to accept half of their "
                                       "proposals; the shift search takes between 1 and all of "
                                       "its steps, hence the range."
                                     : "") +
        " Real-data evaluation (--eval-dataset) is not included.");
}

// ---- the command ------------------------------------------------------------------------------

int run_explain(int argc, char** argv) {
    RequestOptions opts;
    opts.method = "neg_grad_plus";
    int64_t probe_draws = 4096;
    for (ArgCursor args(argc, argv, "explain"); args.next();) {
        std::string error, v;
        const OptionStatus shared = take_request_option(args, opts, error);
        if (shared == OptionStatus::Bad) return fail(error);
        if (shared == OptionStatus::Taken) continue;
        const std::string arg = args.current();
        if (arg == "--help" || arg == "-h") {
            std::fputs(kExplainUsage, stdout);
            return 0;
        } else if (arg == "--probe-draws") {
            if (!args.value(v) || !parse_int(v, 1, int64_t(1) << 24, probe_draws))
                return fail("--probe-draws needs an integer in [1, 16777216]");
        } else {
            return fail("unknown option '" + arg + "' for oblivio explain (see --help)");
        }
    }
    if (const std::string bad = request_options_problem(opts, "oblivio explain", false);
        !bad.empty())
        return fail(bad);
    const Device device = request_device(opts);
    const std::string &model_path = opts.model_path, &arch = opts.arch, &method = opts.method;
    const std::string &cut = opts.cut, &dist = opts.dist, &classes_text = opts.classes_text;
    const int64_t per_class = opts.per_class, seed = opts.seed;

    // The request exactly as oblivio forget builds it, checked the same way before any work.
    ForgetRequest req = build_request(opts);
    const MethodInfo& m = find_method(method);
    const ZooEntry& entry = zoo_entry(arch);
    const LoadedModel loaded = load_zoo_model(model_path, arch);
    Classifier& model = *loaded.model;
    read_previously_forgotten(loaded, model_path, req);
    check_forget_request(model, req);

    model.to(device);
    model.train(false);
    const Shape input = entry.input_shape();
    const Split sp = split(model, cut, input);
    const HeadStructure hs = head_structure(*sp.head);
    const Overrides head_overrides = head_default_overrides(method, hs);
    const std::vector<FieldInfo> config = m.resolve(
        with_head_defaults(method, *sp.head, opts.overrides));  // validates the --set values

    const int k = model.num_classes();
    std::vector<int64_t> quota(static_cast<size_t>(k), per_class), heldout_quota = quota;
    std::fill(heldout_quota.begin(), heldout_quota.end(), req.selection.per_class);
    for (int c : req.previously_forgotten) quota.at(c) = heldout_quota.at(c) = 0;

    std::printf("oblivio explain: a dry run of oblivio forget (nothing is trained or written)\n\n");
    std::printf("   model    %s (%s, %d classes, %lld parameters)\n", model_path.c_str(),
                arch.c_str(), k, static_cast<long long>(model.num_parameters()));
    std::printf("   forget   class(es) %s with %s, cut %s, %lld %s draws per class, seed %lld\n",
                classes_text.c_str(), method.c_str(), cut.c_str(),
                static_cast<long long>(per_class), dist.c_str(), static_cast<long long>(seed));
    if (!req.previously_forgotten.empty())
        std::printf("   already  forgotten class(es) %s (model metadata): they stay forgotten\n",
                    count_list(req.previously_forgotten).c_str());
    std::printf("\n");

    print_split(model, input, sp, cut, device);
    print_head(sp, hs);
    const Probe probe =
        run_probe(*sp.head, sp.embedding_shape, req.sampler, req.seed, probe_draws, k, device);
    const SamplingPlan train_plan = plan_sampling(probe, quota, req.sampler);
    // The held-out set: its own seed, so its own candidates; the probe's rates stand for them.
    SamplerConfig heldout_cfg = req.sampler;
    heldout_cfg.per_class = req.selection.per_class;
    const SamplingPlan heldout_plan = plan_sampling(probe, heldout_quota, heldout_cfg);
    print_draws(probe, train_plan, quota, req.sampler, req.classes, req.previously_forgotten,
                req.seed);
    print_method(m, config, head_overrides, opts.overrides, hs, req.selection);

    int64_t forget_n = 0, retain_n = 0, heldout_n = 0;
    for (int c = 0; c < k; ++c) {
        (contains(req.classes, c) ? forget_n : retain_n) += quota[static_cast<size_t>(c)];
        heldout_n += heldout_quota[static_cast<size_t>(c)];
    }
    const EpochPlan ep = plan_epochs(m.name, config, forget_n, retain_n);
    const auto batch = static_cast<int64_t>(field_number(config, "batch_size", 256));
    bool fused = false;
    const double step_s = time_training_step(*sp.head, sp.embedding_shape, req.sampler, req.seed,
                                             batch, config, k, device, &fused);
    print_estimate(probe, train_plan, heldout_plan, ep, step_s, fused, batch, heldout_n,
                   req.sampler, device);
    std::fflush(stdout);
    return 0;
}

}  // namespace

int cmd_explain(int argc, char** argv) {
    try {
        return run_explain(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace obl::cli
