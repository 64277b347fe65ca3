// `oblivio forget`: source-free class unlearning of a zoo checkpoint (unlearn/forget.h), with the
// data-free selection monitor (unlearn/selection.h). Writes the full classifier (same parameter
// names as the input, metadata arch / num_classes / forgotten_classes) atomically, plus
// <out>.report.json. `oblivio methods [-v]`: the method table.
#include "experiments/cmd_forget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/embed.h"
#include "experiments/cli_util.h"
#include "experiments/figures.h"
#include "experiments/request_options.h"
#include "models/zoo.h"
#include "nn/cuda_context.h"
#include "nn/io/atomic_file.h"
#include "unlearn/forget.h"
#include "unlearn/methods.h"

namespace obl::cli {

namespace {

constexpr const char* kForgetUsage =
    "usage: oblivio forget --model IN.safetensors --arch NAME --classes C[,C...] --method NAME\n"
    "                      --out OUT.safetensors [options]\n"
    "\n"
    "Source-free class unlearning: the head after --cut is trained on synthetic embeddings it\n"
    "labels itself; epochs are selected on a held-out synthetic set (no real data).\n"
    "\n"
    "  --cut P                 pre_logits (default) | last_block | a stage name\n"
    "  --samples-per-class N   synthetic draws per class (default 5000)\n"
    "  --dist D                gaussian | uniform | laplace | matched | rectified\n"
    "                          (default gaussian; unlearn/synthetic.h describes each)\n"
    "  --sigma S               the distribution's standard deviation (default 1)\n"
    "  --seed S                (default 0)\n"
    "  --set key=value         method setting (see oblivio methods -v); select.<key> sets the\n"
    "                          selection rule (per_class, confident_share, margin_ratio,\n"
    "                          tau_f, tau_r, batch)\n"
    "  --force                 write the model even if retain agreement is below tau_r\n"
    "  --eval-dataset NAME     report real accuracy before/after (never used to select)\n"
    "  --eval-root DIR\n"
    "  --eval-split S          test (default) | val: the declared validation split, the last\n"
    "                          --val-per-class (default 500) TRAIN images of each class; use it,\n"
    "                          never test, to calibrate settings\n"
    "  --eval-cache DIR        cache the evaluation embeddings there (keyed by the model's\n"
    "                          weights, cut, dataset and split; reused by later runs)\n"
    "  --trace                 run the whole epoch budget (same selection), and with --eval-*\n"
    "                          measure real accuracy after every epoch (report.json 'epochs')\n"
    "  --figures DIR           also write DIR/agreement.svg (synthetic agreement per epoch;\n"
    "                          real accuracy too with --trace --eval-*) and\n"
    "                          DIR/projection_before.svg, projection_after.svg (real and\n"
    "                          synthetic embeddings of the forget class and its two nearest\n"
    "                          classes on the head's two most discriminative directions;\n"
    "                          experiments/figures.h explains the plane)\n"
    "  --device D              cpu | cuda (default cpu)\n";

// The name of the model's first parameter or buffer holding a NaN or an infinity ("" if none),
// one tensor at a time on the host.
std::string first_non_finite_tensor(const Classifier& model) {
    for (const NamedTensors& group : {model.named_parameters(), model.named_buffers()})
        for (const auto& [name, t] : group) {
            if (!is_floating(t.dtype())) continue;
            const std::vector<double> v = t.to_vector<double>();
            if (!std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); }))
                return name;
        }
    return "";
}

// Per-class real accuracy before and after, forget classes marked.
void print_class_table(const ForgetReport& rep, const std::vector<std::string>& names) {
    std::printf("\n  %-3s %-14s %9s %9s\n", "", "class", "before", "after");
    for (size_t c = 0; c < rep.before.count.size(); ++c) {
        const auto pct = [&](const HeadAccuracy& a) {
            return a.count[c]
                       ? 100.0 * static_cast<double>(a.correct[c]) / static_cast<double>(a.count[c])
                       : 0.0;
        };
        const auto listed = [c](const std::vector<int>& v) {
            return std::find(v.begin(), v.end(), static_cast<int>(c)) != v.end();
        };
        const bool forget = listed(rep.classes) || listed(rep.previously_forgotten);
        const std::string name = c < names.size() ? names[c] : std::to_string(c);
        std::printf("  %-3s %-14s %8.2f%% %8.2f%%\n", forget ? "[F]" : "",
                    (std::to_string(c) + " " + name).c_str(), pct(rep.before), pct(rep.after));
    }
    std::printf("  %-3s %-14s %8.2f%% %8.2f%%\n  %-3s %-14s %8.2f%% %8.2f%%\n\n", "",
                "forget (A_f)", 100 * rep.before.forget, 100 * rep.after.forget, "", "retain (A_r)",
                100 * rep.before.retain, 100 * rep.after.retain);
}

int run_forget_cmd(int argc, char** argv) {
    RequestOptions opts;
    std::string out, eval_dataset, eval_root, eval_split = "test", eval_cache, figures_dir, v;
    int64_t val_per_class = 500;
    bool force = false, trace = false;
    for (ArgCursor args(argc, argv, "forget"); args.next();) {
        std::string error;
        const OptionStatus shared = take_request_option(args, opts, error);
        if (shared == OptionStatus::Bad) return fail(error);
        if (shared == OptionStatus::Taken) continue;
        const std::string arg = args.current();
        if (arg == "--help" || arg == "-h") {
            std::fputs(kForgetUsage, stdout);
            return 0;
        } else if (arg == "--out") {
            if (!args.value(out)) return fail("--out needs a file name");
        } else if (arg == "--force") {
            force = true;
        } else if (arg == "--eval-dataset") {
            if (!args.value(eval_dataset)) return fail("--eval-dataset needs a name");
        } else if (arg == "--eval-root") {
            if (!args.value(eval_root)) return fail("--eval-root needs a directory");
        } else if (arg == "--eval-split") {
            if (!args.value(eval_split) || (eval_split != "test" && eval_split != "val"))
                return fail("--eval-split must be test or val");
        } else if (arg == "--val-per-class") {
            if (!args.value(v) || !parse_int(v, 1, int64_t(1) << 32, val_per_class))
                return fail("--val-per-class needs a positive integer");
        } else if (arg == "--eval-cache") {
            if (!args.value(eval_cache)) return fail("--eval-cache needs a directory");
        } else if (arg == "--figures") {
            if (!args.value(figures_dir)) return fail("--figures needs a directory");
        } else if (arg == "--trace") {
            trace = true;
        } else {
            return fail("unknown option '" + arg + "' for oblivio forget (see --help)");
        }
    }
    if (const std::string bad = request_options_problem(opts, "oblivio forget", true); !bad.empty())
        return fail(bad);
    if (out.empty()) return fail("oblivio forget needs --out FILE.safetensors");
    const std::string& model_path = opts.model_path;
    const std::string& arch = opts.arch;
    const std::string& method = opts.method;
    const std::string& cut = opts.cut;
    if (same_file(model_path, out)) return fail("--out must not be the input model " + model_path);
    if (const std::string bad = output_path_problem("--out", out); !bad.empty()) return fail(bad);
    if (!figures_dir.empty() && !std::filesystem::is_directory(figures_dir))
        return fail("--figures: directory " + figures_dir + " does not exist");

    ForgetRequest req = build_request(opts);
    req.trace = trace;
    req.progress = [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    };
    const ZooEntry& entry = zoo_entry(arch);
    const LoadedModel loaded = load_zoo_model(model_path, arch);
    const Classifier& model = *loaded.model;
    // A model an earlier `oblivio forget` wrote: its classes stay forgotten (sequential request).
    if (read_previously_forgotten(loaded, model_path, req))
        std::printf("%s already forgot class(es) %s: they stay forgotten\n", model_path.c_str(),
                    loaded.metadata.at("forgotten_classes").c_str());
    std::shared_ptr<const Dataset> images;
    if (!eval_dataset.empty()) {
        if (eval_root.empty()) eval_root = default_dataset_root(eval_dataset);
        if (eval_root.empty())
            return fail("dataset " + eval_dataset + " has no default root: pass --eval-root DIR");
        if (eval_split == "val")
            images = split_train_val(open_dataset(eval_dataset, eval_root, DataSplit::Train),
                                     val_per_class)
                         .val;
        else
            images = open_dataset(eval_dataset, eval_root, DataSplit::Test);
    }
    const Shape input = entry.input_shape();
    std::shared_ptr<TensorDataset> eval_embeddings;
    check_forget_request(model, req);
    if (!figures_dir.empty())
        if (const std::string bad = projection_problem(model, cut, input, req.previously_forgotten);
            !bad.empty())
            return fail(bad);
    std::printf("forget %s from %s (%s, cut %s) with %s, %lld synthetic draws/class, seed %lld\n",
                opts.classes_text.c_str(), model_path.c_str(), arch.c_str(), cut.c_str(),
                method.c_str(), static_cast<long long>(opts.per_class),
                static_cast<long long>(opts.seed));
    std::fflush(stdout);
    if (images) {
        const auto compute = [&] {
            return embed_at_cut(model, input, cut, images, entry.mean, entry.std, req.device,
                                eval_dataset)
                .data;
        };
        if (eval_cache.empty()) {
            eval_embeddings = compute();
        } else {
            EmbedKey key;
            key.model_digest = state_digest(model);
            key.arch = arch;
            key.cut = model.stages()[model.resolve(cut)].name;  // as oblivio embed / run key it
            key.dataset = eval_dataset;
            key.split = eval_split;
            key.val_per_class = eval_split == "val" ? val_per_class : 0;
            key.input_size = entry.input_size;
            const CachedEmbeddings c = cached_embeddings(
                eval_cache, key, compute,
                [](const std::string& w) { std::fprintf(stderr, "warning: %s\n", w.c_str()); });
            eval_embeddings = c.data;
            std::printf("evaluation embeddings: %s (%s)\n", c.path.c_str(),
                        c.hit ? "cached" : "computed and cached");
        }
    }
    ForgetResult r = run_forget(model, input, req, eval_embeddings,
                                eval_dataset + (eval_split == "val" ? " (val split)" : ""));
    const ForgetReport& rep = r.report;
    std::printf("stop: %s; selected epoch %d of %zu: synF %.3f  margin %+.2f  synR %.3f (%s)\n",
                rep.stop_reason.c_str(), rep.selected.epoch, rep.epochs.size(),
                rep.selected.forget_agreement, rep.selected.margin, rep.selected.retain_agreement,
                rep.selected.forgotten ? "forgotten" : "NOT forgotten by the data-free rule");
    for (const std::string& w : rep.warnings) std::printf("warning: %s\n", w.c_str());
    std::printf("time: sampling %.3f s, training %.3f s, selection %.3f s\n", rep.sampling_seconds,
                rep.training_seconds, rep.selection_seconds);
    if (rep.has_eval)
        std::printf("real %s %s: A_f %.2f%% -> %.2f%%, A_r %.2f%% -> %.2f%%\n",
                    eval_dataset.c_str(), eval_split.c_str(), 100 * rep.before.forget,
                    100 * rep.after.forget, 100 * rep.before.retain, 100 * rep.after.retain);
    if (rep.has_eval) print_class_table(rep, images->class_names());
    std::fflush(stdout);
    // A diverged head (NaN/Inf weights, e.g. the first epoch of a far too high lr selected for
    // want of a finite one) is never written, not even with --force.
    if (const std::string bad = first_non_finite_tensor(*r.model); !bad.empty())
        return fail("the unlearned model's '" + bad + "' holds NaN/Inf (the run diverged; stop " +
                    rep.stop_reason + "): not writing " + out +
                    ", not even with --force; lower the method's lr (--set lr=...)");
    if (!rep.selected.admissible && !force)
        return fail("retain agreement " + std::to_string(rep.selected.retain_agreement) +
                    " is below tau_r " + std::to_string(req.selection.tau_r) + ": not writing " +
                    out + " (use --force to write it anyway)");

    // Figures are drawn before anything is written, so that a failure leaves nothing behind.
    std::vector<std::pair<std::string, std::string>> figures;  // (path, SVG)
    if (!figures_dir.empty()) {
        ProjectionRequest pr;
        pr.cut = cut;
        pr.forget_class = req.classes.front();
        pr.excluded = req.previously_forgotten;
        pr.sampler = req.sampler;
        pr.seed = req.seed;
        pr.method = method;
        const ProjectionFigures pf =
            projection_figures(model, *r.model, input, pr, eval_embeddings.get(),
                               images ? images->class_names() : std::vector<std::string>{});
        const std::filesystem::path dir(figures_dir);
        figures.emplace_back((dir / "agreement.svg").string(), agreement_figure(rep).to_svg());
        figures.emplace_back((dir / "projection_before.svg").string(), pf.before.to_svg());
        figures.emplace_back((dir / "projection_after.svg").string(), pf.after.to_svg());
    }

    std::map<std::string, std::string> meta = loaded.metadata;
    meta["arch"] = arch;
    meta["num_classes"] = std::to_string(model.num_classes());
    std::vector<int> all = req.previously_forgotten;
    all.insert(all.end(), req.classes.begin(), req.classes.end());
    meta["forgotten_classes"] = detail::format_field(all);
    meta["unlearn_method"] = method;
    meta["unlearn_config_hash"] = rep.config_hash;
    const std::string json = rep.to_json();
    r.model->save_safetensors(out, meta);  // atomic (temp + rename)
    write_file_atomic(out + ".report.json", json.data(), json.size());
    std::printf("wrote %s and %s.report.json\n", out.c_str(), out.c_str());
    for (const auto& [path, svg_text] : figures) {
        write_file_atomic(path, svg_text.data(), svg_text.size());
        std::printf("wrote %s\n", path.c_str());
    }
    return 0;
}

int run_methods(int argc, char** argv) {
    bool verbose = false;
    for (int i = first_option(argc, argv, "methods"); i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-v" || arg == "--verbose")
            verbose = true;
        else if (arg == "--help" || arg == "-h") {
            std::fputs("usage: oblivio methods [-v]\n", stdout);
            return 0;
        } else
            return fail("unknown option '" + arg + "' for oblivio methods (see --help)");
    }
    for (const MethodInfo& m : methods()) {
        std::printf("%-18s %s\n", m.name.c_str(), m.summary.c_str());
        if (!verbose) continue;
        for (const FieldInfo& f : m.fields)
            std::printf("    %-16s %-6s %-10s %s%s\n", f.name.c_str(), f.type.c_str(),
                        f.value.c_str(), f.doc.c_str(),
                        f.range.empty() ? "" : (" (" + f.range + ")").c_str());
    }
    return 0;
}

}  // namespace

int cmd_forget(int argc, char** argv) {
    try {
        return run_forget_cmd(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

int cmd_methods(int argc, char** argv) {
    try {
        return run_methods(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace obl::cli
