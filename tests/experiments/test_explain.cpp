// `oblivio explain` (experiments/cmd_explain.cpp), called in-process on small zoo checkpoints made
// here (a randomly initialised ResNet-20, its linear head biased so that one class is rare): the
// split and the cut marker, the head's parameter count, the probe's per-class hits against a
// hand-computed argmax, the sampler's targeted classes against a real sampler run, the resolved
// settings and where each comes from, and usage / data errors (one line, exit 2, nothing written).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "experiments/commands.h"
#include "models/split.h"
#include "models/zoo.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"
#include "unlearn/head_defaults.h"
#include "unlearn/synthetic.h"

namespace obl {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using ::testing::HasSubstr;

using test::CliRun;

CliRun explain(std::vector<std::string> args) {
    return test::run_command(cli::cmd_explain, "explain", std::move(args));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// A random ResNet-20 whose last Linear has bias -3 for class 9 (so N(0, I) draws at pre_logits
// almost never land there) and `metadata` besides arch / num_classes.
constexpr float kRareBias = -3.f;
std::string biased_resnet20(const TempDir& tmp, const std::string& name,
                            std::map<std::string, std::string> metadata = {}) {
    auto model = make_model("cifar_resnet20");
    for (auto& [pname, p] : model->named_parameters())
        if (pname == "linear.bias") p.f32()[9] = kRareBias;
    metadata["arch"] = "cifar_resnet20";
    metadata["num_classes"] = "10";
    const std::string path = tmp / name;
    model->save_safetensors(path, metadata);
    return path;
}

// One row of the hit-rate table: "   3 [F]   424   0.1035   48302  no".
struct ClassRow {
    int cls = -1;
    std::string tag;  // "", "[F]", "[f]"
    int64_t hits = 0;
    double rate = 0;
    std::string need, phase;
};

std::vector<ClassRow> class_rows(const std::string& out, int k) {
    const std::vector<std::string> lines = lines_of(out);
    std::vector<ClassRow> rows;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find("hit rate") == std::string::npos) continue;
        for (int c = 0; c < k; ++c) {
            std::istringstream in(lines.at(i + 1 + static_cast<size_t>(c)));
            ClassRow r;
            in >> r.cls;
            std::string tok;
            in >> tok;
            if (tok == "[F]" || tok == "[f]") {
                r.tag = tok;
                in >> tok;
            }
            r.hits = std::stoll(tok);
            in >> r.rate >> r.need;
            std::getline(in, r.phase);
            r.phase.erase(0, r.phase.find_first_not_of(' '));
            rows.push_back(r);
        }
        break;
    }
    return rows;
}

// The line of the stage table for stage `name`.
std::string stage_row(const std::string& out, const std::string& name) {
    for (const std::string& line : lines_of(out)) {
        std::istringstream in(line);
        int index = -1;
        std::string stage;
        if (in >> index >> stage && stage == name) return line;
    }
    return "";
}

size_t line_index(const std::string& out, const std::string& needle) {
    const std::vector<std::string> lines = lines_of(out);
    for (size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find(needle) != std::string::npos) return i;
    return std::string::npos;
}

TEST(Explain, PreLogitsSplitHeadAndHitRates) {
    TempDir tmp("explain");
    const std::string model = biased_resnet20(tmp, "r20.safetensors");
    const int64_t probe = 2048, per_class = 300;
    const CliRun r =
        explain({"--model", model, "--arch", "cifar_resnet20", "--classes", "3", "--probe-draws",
                 std::to_string(probe), "--samples-per-class", std::to_string(per_class)});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");

    // The split: the marker sits right above the head's first stage, 'linear'.
    const size_t marker = line_index(r.out, "---- cut 'pre_logits' = before stage 'linear'");
    ASSERT_NE(marker, std::string::npos) << r.out;
    EXPECT_EQ(line_index(r.out, stage_row(r.out, "linear")), marker + 1);
    EXPECT_THAT(stage_row(r.out, "linear"), HasSubstr("650  HEAD"));
    EXPECT_THAT(stage_row(r.out, "pool"), HasSubstr("body"));
    EXPECT_THAT(stage_row(r.out, "layer3.2"), HasSubstr("[64, 8, 8]"));
    EXPECT_THAT(stage_row(r.out, "layer3.2"), HasSubstr("<- --cut last_block"));
    EXPECT_THAT(r.out, HasSubstr("body: stages 0-10, 269072 parameters"));

    // The head: the parameter count is the split head's.
    const LoadedModel loaded = load_zoo_model(model, "cifar_resnet20");
    const Split sp = split(*loaded.model, "pre_logits", Shape{3, 32, 32});
    const HeadStructure hs = head_structure(*sp.head);
    ASSERT_EQ(hs.parameters, 650);
    EXPECT_THAT(r.out, HasSubstr("embedding shape   [64] = 64 values per sample"));
    EXPECT_THAT(r.out, HasSubstr("trainable         650 parameters:"));
    EXPECT_THAT(r.out, HasSubstr(hs.describe()));

    // The probe: the first `probe` N(0, I) candidates of seed 0, labelled here by hand (double
    // precision argmax of W z + b on the host).
    std::vector<float> w, b;
    for (const auto& [name, p] : loaded.model->named_parameters()) {
        if (name == "linear.weight") w = p.to_vector<float>();
        if (name == "linear.bias") b = p.to_vector<float>();
    }
    ASSERT_EQ(w.size(), 640u);
    SamplerConfig cfg;
    const std::vector<float> z =
        synth_draw_block(draw_spec(cfg, Shape{64}, Device::cpu()), 64, 0, probe, 0, Device::cpu())
            .to_vector<float>();
    std::vector<int64_t> expected(10, 0);
    for (int64_t i = 0; i < probe; ++i) {
        int best = 0;
        double best_v = -1e300;
        for (int c = 0; c < 10; ++c) {
            double v = b[static_cast<size_t>(c)];
            for (int d = 0; d < 64; ++d)
                v += static_cast<double>(w[static_cast<size_t>(c * 64 + d)]) *
                     z[static_cast<size_t>(i * 64 + d)];
            if (v > best_v) best_v = v, best = c;
        }
        ++expected[static_cast<size_t>(best)];
    }
    const std::vector<ClassRow> rows = class_rows(r.out, 10);
    ASSERT_EQ(rows.size(), 10u) << r.out;
    int64_t hit_sum = 0;
    double rate_sum = 0;
    for (int c = 0; c < 10; ++c) {
        const ClassRow& row = rows[static_cast<size_t>(c)];
        EXPECT_EQ(row.cls, c);
        EXPECT_EQ(row.tag, c == 3 ? "[F]" : "") << c;
        EXPECT_EQ(row.hits, expected[static_cast<size_t>(c)]) << "class " << c;
        EXPECT_NEAR(row.rate, static_cast<double>(row.hits) / probe, 5e-5) << c;
        if (row.hits > 0) {  // draws to fill = quota / hit rate, rounded up
            EXPECT_EQ(row.need, std::to_string(static_cast<int64_t>(
                                    std::ceil(double(per_class) * probe / double(row.hits)))))
                << c;
        }
        hit_sum += row.hits;
        rate_sum += row.rate;
    }
    EXPECT_EQ(hit_sum, probe);
    EXPECT_NEAR(rate_sum, 1.0, 10 * 5e-5);
    EXPECT_THAT(r.out, HasSubstr("total       2048    1.0000"));

    // Class 9 is rare (bias -3): below quota / cap = 300 / 12000 = 0.025, so the targeted phase;
    // the real sampler with the same request agrees class by class.
    EXPECT_LT(rows[9].rate, 0.025);
    EXPECT_THAT(r.out, HasSubstr("quota / cap = 0.0250"));
    cfg.per_class = per_class;
    const SyntheticSet real = sample_embeddings(*sp.head, sp.embedding_shape, cfg, 0);
    const std::vector<int> targeted = real.stats.targeted_classes();
    for (int c = 0; c < 10; ++c) {
        const std::string& phase = rows[static_cast<size_t>(c)].phase;
        if (phase.find("borderline") != std::string::npos) continue;
        const bool yes = phase.rfind("YES", 0) == 0;
        EXPECT_EQ(yes, std::find(targeted.begin(), targeted.end(), c) != targeted.end())
            << "class " << c << ": explain says '" << phase << "'";
    }
    EXPECT_EQ(rows[9].phase.rfind("YES", 0), 0u);
    EXPECT_THAT(r.out, HasSubstr("class(es) 9 go to the targeted phase"));

    // The method: neg_grad_plus at its configs.h defaults (a linear head gets no head defaults).
    EXPECT_THAT(r.out, HasSubstr("4. The method: neg_grad_plus"));
    EXPECT_THAT(r.out, HasSubstr("lr                 0.05       default"));
    EXPECT_THAT(r.out, HasSubstr("epochs             8          default"));
    EXPECT_THAT(r.out, HasSubstr("select.tau_r             0.85"));
    // The estimate: 8 epochs x ceil(300 / 256) = 2 steps, each a forget + a retain batch.
    EXPECT_THAT(r.out, HasSubstr("8 epochs x 2 steps = 32 batch passes"));
    EXPECT_THAT(r.out, HasSubstr("8 epochs x 10000 held-out forwards"));
    EXPECT_THAT(r.out, HasSubstr("ESTIMATE"));

    // Nothing written next to the model.
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator{}), 1);
}

TEST(Explain, SetOverridesSelectionAndEarlierForgottenClasses) {
    TempDir tmp("explain_set");
    const std::string model = biased_resnet20(tmp, "seq.safetensors", {{"forgotten_classes", "5"}});
    const CliRun r = explain({"--model",
                              model,
                              "--arch",
                              "cifar_resnet20",
                              "--classes",
                              "3,4",
                              "--method",
                              "random_labels",
                              "--set",
                              "lr=0.01",
                              "--set",
                              "retain_weight=0",
                              "--set",
                              "select.tau_r=0.9",
                              "--probe-draws",
                              "512",
                              "--samples-per-class",
                              "512",
                              "--seed",
                              "7"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("already  forgotten class(es) 5"));
    const std::vector<ClassRow> rows = class_rows(r.out, 10);
    ASSERT_EQ(rows.size(), 10u) << r.out;
    EXPECT_EQ(rows[3].tag, "[F]");
    EXPECT_EQ(rows[4].tag, "[F]");
    EXPECT_EQ(rows[5].tag, "[f]");
    EXPECT_EQ(rows[5].phase, "skipped (quota 0)");
    EXPECT_THAT(r.out, HasSubstr("lr                 0.01       --set"));
    EXPECT_THAT(r.out, HasSubstr("retain_weight      0          --set"));
    EXPECT_THAT(r.out, HasSubstr("epochs             3          default"));
    EXPECT_THAT(r.out, HasSubstr("select.tau_r             0.9 "));
    EXPECT_THAT(r.out, HasSubstr("of seed 7"));
    // retain_weight 0: one forget batch per step; forget set 2 x 512 draws = 4 steps per epoch.
    EXPECT_THAT(r.out, HasSubstr("3 epochs x 4 steps = 12 batch passes"));
    // Held-out set: 1000 per class over the 9 classes still predicted.
    EXPECT_THAT(r.out, HasSubstr("3 epochs x 9000 held-out forwards"));
}

TEST(Explain, LastBlockIsADeepHeadWithItsOwnDefaults) {
    TempDir tmp("explain_lb");
    const std::string model = biased_resnet20(tmp, "r20.safetensors");
    const CliRun r = explain({"--model", model, "--arch", "cifar_resnet20", "--classes", "0",
                              "--cut", "last_block", "--probe-draws", "128", "--set",
                              "batch_size=16", "--set", "epochs=4"});
    ASSERT_EQ(r.status, 0) << r.err;
    const size_t marker = line_index(r.out, "---- cut 'last_block' = before stage 'layer3.2'");
    ASSERT_NE(marker, std::string::npos) << r.out;
    EXPECT_EQ(line_index(r.out, stage_row(r.out, "layer3.2")), marker + 1);
    EXPECT_THAT(stage_row(r.out, "layer3.1"), HasSubstr("body"));
    EXPECT_THAT(stage_row(r.out, "pool"), HasSubstr("HEAD"));
    EXPECT_THAT(r.out, HasSubstr("head: stages 9-11, 74634 parameters"));
    EXPECT_THAT(r.out, HasSubstr("embedding shape   [64, 8, 8] = 4096 values per sample"));
    const LoadedModel loaded = load_zoo_model(model, "cifar_resnet20");
    const HeadStructure hs =
        head_structure(*split(*loaded.model, "last_block", Shape{3, 32, 32}).head);
    EXPECT_THAT(r.out,
                HasSubstr("trainable         " + std::to_string(hs.parameters) + " parameters:"));
    EXPECT_THAT(r.out, HasSubstr(hs.describe()));
    EXPECT_THAT(r.out, HasSubstr("layer3.2.conv1.weight              [64, 64, 3, 3]       36864"));
    // The deep-head rule sets lr; --set epochs wins over the rule's epochs.
    EXPECT_THAT(r.out, HasSubstr("lr                 0.0005     head default"));
    EXPECT_THAT(r.out, HasSubstr("epochs             4          --set"));
    EXPECT_THAT(r.out, HasSubstr("through draw + head forward on cpu"));
    EXPECT_THAT(r.out, HasSubstr("autodiff"));
    const std::vector<ClassRow> rows = class_rows(r.out, 10);
    ASSERT_EQ(rows.size(), 10u);
    int64_t hits = 0;
    for (const ClassRow& row : rows) hits += row.hits;
    EXPECT_EQ(hits, 128);
}

// Another architecture (grayscale input, no residual blocks): the stage walk and the counts hold.
TEST(Explain, SmallCnnEveryStageAndHeadCount) {
    TempDir tmp("explain_cnn");
    const std::string path = tmp / "cnn.safetensors";
    auto cnn = make_model("fmnist_cnn");
    cnn->save_safetensors(path, {{"arch", "fmnist_cnn"}, {"num_classes", "10"}});
    const CliRun r = explain({"--model", path, "--arch", "fmnist_cnn", "--classes", "7", "--cut",
                              "last_block", "--probe-draws", "256", "--dist", "uniform"});
    ASSERT_EQ(r.status, 0) << r.err;
    const Split sp = split(*cnn, "last_block", Shape{1, 28, 28});
    int64_t body = 0;
    for (size_t i = 0; i < cnn->stages().size(); ++i) {
        const Stage& st = cnn->stages()[i];
        const std::string row = stage_row(r.out, st.name);
        EXPECT_THAT(row, HasSubstr(std::to_string(st.module->num_parameters()))) << st.name;
        const bool head = i >= cnn->resolve("last_block");
        EXPECT_THAT(row, HasSubstr(head ? "HEAD" : "body")) << st.name;
        if (!head) body += st.module->num_parameters();
    }
    EXPECT_THAT(r.out, HasSubstr(", " + std::to_string(body) + " parameters, frozen"));
    EXPECT_THAT(r.out,
                HasSubstr("trainable         " +
                          std::to_string(head_structure(*sp.head).parameters) + " parameters:"));
    EXPECT_THAT(r.out, HasSubstr("embedding shape   " + sp.embedding_shape.str()));
    EXPECT_THAT(r.out, HasSubstr("the first 256 uniform (sigma 1) draws of seed 0"));
    int64_t hits = 0;
    for (const ClassRow& row : class_rows(r.out, 10)) hits += row.hits;
    EXPECT_EQ(hits, 256);
}

TEST(Explain, BadInputIsOneLineErrorExit2AndWritesNothing) {
    TempDir tmp("explain_bad");
    const std::string model = biased_resnet20(tmp, "r20.safetensors");
    const std::string corrupt = tmp / "corrupt.safetensors";
    test::write_text(corrupt, "not a safetensors file");
    const std::vector<std::string> base = {"--model", model, "--arch", "cifar_resnet20"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = base;
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--model", model, "--arch", "no_such_arch", "--classes", "3"}, "no_such_arch"},
        {{"--model", model, "--arch", "cifar_resnet32", "--classes", "3"}, "cifar_resnet32"},
        {{"--model", tmp / "missing.safetensors", "--arch", "cifar_resnet20", "--classes", "3"},
         "missing.safetensors"},
        {{"--model", corrupt, "--arch", "cifar_resnet20", "--classes", "3"}, "corrupt"},
        {{"--arch", "cifar_resnet20", "--classes", "3"}, "needs --model"},
        {with({}), "needs --classes"},
        {with({"--classes", "3", "--cut", "no_such_cut"}), "no_such_cut"},
        {with({"--classes", "3", "--method", "no_such_method"}), "no_such_method"},
        {with({"--classes", "10"}), "10"},
        {with({"--classes", "-1"}), "-1"},
        {with({"--classes", "3,3"}), "3"},
        {with({"--classes", "0,1,2,3,4,5,6,7,8,9"}), "error: "},
        {with({"--classes", "3", "--set", "no_such_key=1"}), "no_such_key"},
        {with({"--classes", "3", "--set", "lr=abc"}), "abc"},
        {with({"--classes", "3", "--set", "select.tau_r=2"}), "tau_r"},
        {with({"--classes", "3", "--dist", "cauchy"}), "cauchy"},
        {with({"--classes", "3", "--sigma", "0"}), "--sigma"},
        {with({"--classes", "3", "--probe-draws", "0"}), "--probe-draws"},
        {with({"--classes", "3", "--samples-per-class", "x"}), "--samples-per-class"},
        {with({"--classes", "3", "--bogus"}), "--bogus"},
        {with({"--classes", "3", "--cut"}), "--cut"},
    };
    for (const auto& [args, needle] : cases) {
        std::string joined;
        for (const auto& a : args) joined += a + " ";
        const CliRun r = explain(args);
        EXPECT_EQ(r.status, 2) << joined;
        EXPECT_EQ(r.out, "") << joined;
        EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << joined << " -> " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << joined << " -> " << r.err;
        EXPECT_THAT(r.err, HasSubstr(needle)) << joined;
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator{}), 2);
}

TEST(Explain, HelpListsEveryOption) {
    const CliRun r = explain({"--help"});
    EXPECT_EQ(r.status, 0);
    for (const char* flag :
         {"--model", "--arch", "--classes", "--cut", "--method", "--samples-per-class", "--dist",
          "--sigma", "--seed", "--set", "--probe-draws", "--device"})
        EXPECT_THAT(r.out, HasSubstr(flag));
    EXPECT_THAT(r.out, HasSubstr("trains nothing, writes nothing"));
}

}  // namespace
}  // namespace obl
