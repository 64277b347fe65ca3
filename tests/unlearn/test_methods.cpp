// The unlearning methods (unlearn/): the contract of DESIGN.md §G checked over EVERY entry of the
// method table, on every source; per-method behaviour on 4-class 16-D Gaussian blobs with a linear
// head (single-class, multi-class and sequential requests); fused vs autodiff; the data-free
// monitor; config parsing, listing and hashing; and the shared helpers of train_loop.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "nn/autograd.h"
#include "nn/modules.h"
#include "nn/ops.h"
#include "tests/test_util.h"
#include "unlearn/configs.h"
#include "unlearn/methods.h"
#include "unlearn/synthetic.h"
#include "unlearn/train_loop.h"

namespace obl {

namespace test {
// Sequential{FrozenBody(body), head} (defined in test_head_step.cpp: see the note there).
std::shared_ptr<Module> make_frozen_body_model(std::shared_ptr<Module> body,
                                               std::shared_ptr<Module> head);
}  // namespace test

namespace {

using test::test_device;
using ::testing::HasSubstr;

constexpr int kClasses = 4;
constexpr int64_t kDim = 16;

// ---- fixtures ---------------------------------------------------------------------------------

// 4 Gaussian blobs in 16-D: class c has mean 3 e_c and identity covariance; sample i has class
// i mod 4. (Bayes accuracy ~0.95.)
std::shared_ptr<TensorDataset> blobs(int64_t per_class, uint64_t seed) {
    const int64_t n = per_class * kClasses;
    std::vector<float> x = randn({n, kDim}, 0, 1, seed).to_vector<float>();
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        y[static_cast<size_t>(i)] = i % kClasses;
        x[static_cast<size_t>(i * kDim + i % kClasses)] += 3.f;
    }
    return std::make_shared<TensorDataset>(Tensor::from_vector(x, {n, kDim}),
                                           Tensor::from_vector(y, {n}), kClasses);
}

// The Bayes classifier of the blobs as a linear head (a pre_logits cut: Sequential{Linear}):
// logits_c = mu_c . z - |mu_c|^2 / 2.
std::shared_ptr<Sequential> blob_head() {
    auto lin = std::make_shared<Linear>(kDim, kClasses);
    std::vector<float> w(static_cast<size_t>(kClasses * kDim), 0.f);
    for (int c = 0; c < kClasses; ++c) w[static_cast<size_t>(c * kDim + c)] = 3.f;
    Tensor(lin->weight()).copy_(Tensor::from_vector(w, {kClasses, kDim}));
    Tensor(lin->bias()).fill_(-4.5);
    auto head = std::make_shared<Sequential>(
        std::vector<std::pair<std::string, std::shared_ptr<Module>>>{{"fc", lin}});
    head->eval();
    return head;
}

struct Accuracy {
    double forget = 0, retain = 0;
    std::vector<double> per_class;
    std::string str() const {
        std::string out = std::to_string(forget).substr(0, 5) + "/" +
                          std::to_string(retain).substr(0, 5) + " (per class";
        for (double a : per_class) out += " " + std::to_string(a).substr(0, 5);
        return out + ")";
    }
};

// Accuracy on the forget classes and on the others.
Accuracy evaluate(Module& model, const Dataset& test, const std::vector<int>& forget) {
    const Batch b = fetch(test, sequential_batches(test.size(), test.size())[0], model.device());
    const std::vector<int64_t> pred = argmax(no_grad_forward(model, b.x), 1).to_vector<int64_t>();
    const std::vector<int64_t> y = b.y.to_vector<int64_t>();
    int64_t fc = 0, fn = 0, rc = 0, rn = 0;
    std::vector<double> hit(kClasses, 0.0), count(kClasses, 0.0);
    for (size_t i = 0; i < y.size(); ++i) {
        const bool f =
            std::find(forget.begin(), forget.end(), static_cast<int>(y[i])) != forget.end();
        (f ? fn : rn) += 1;
        if (pred[i] == y[i]) (f ? fc : rc) += 1;
        count[static_cast<size_t>(y[i])] += 1;
        if (pred[i] == y[i]) hit[static_cast<size_t>(y[i])] += 1;
    }
    Accuracy a{fn ? double(fc) / fn : 0.0, rn ? double(rc) / rn : 0.0, {}};
    for (int c = 0; c < kClasses; ++c) a.per_class.push_back(count[c] ? hit[c] / count[c] : 0.0);
    return a;
}

UnlearnData request(std::shared_ptr<const Dataset> all, std::vector<int> forget) {
    const ClassSplit s = split_by_classes(std::move(all), forget);
    return UnlearnData{s.forget, s.retain, kClasses, forget};
}

// Every parameter and buffer as raw bytes, by name (bit-identity checks).
std::map<std::string, std::vector<uint8_t>> snapshot(const Module& m) {
    std::map<std::string, std::vector<uint8_t>> out;
    auto add = [&](const std::string& name, const Tensor& t) {
        const Tensor h = t.detach().cpu().clone();
        std::vector<uint8_t> bytes(h.nbytes());
        if (!bytes.empty()) std::memcpy(bytes.data(), h.raw(), bytes.size());
        out[name] = std::move(bytes);
    };
    for (const auto& [name, t] : m.named_parameters()) add("param " + name, t);
    for (const auto& [name, t] : m.named_buffers()) add("buffer " + name, t);
    return out;
}

// ---- the three sources (+ a head with trainable BatchNorm) -------------------------------------

enum class Source { Synthetic, Embeddings, Images, BatchNormHead };
const char* source_name(Source s) {
    switch (s) {
        case Source::Synthetic:
            return "synthetic";
        case Source::Embeddings:
            return "embeddings";
        case Source::Images:
            return "images";
        case Source::BatchNormHead:
            return "bn_head";
    }
    return "?";
}

struct Fixture {
    std::shared_ptr<Module> model;  // what the method gets
    std::shared_ptr<Module> body;   // the frozen body (images) or null
    UnlearnData data;
    Tensor probe;  // a few inputs of the model's kind
};

Fixture make_setup(Source source, std::vector<int> forget = {1}) {
    Fixture s;
    const Device dev = test_device();
    switch (source) {
        case Source::Synthetic: {
            auto head = blob_head();
            head->to(dev);
            SamplerConfig cfg;
            cfg.per_class = 48;
            const SyntheticSet set = sample_embeddings(*head, {kDim}, cfg, 5);
            s.model = head;
            s.data = request(as_dataset(set), forget);
            break;
        }
        case Source::Embeddings: {
            auto head = blob_head();
            head->to(dev);
            s.model = head;
            s.data = request(blobs(48, 9), forget);
            break;
        }
        case Source::Images: {
            auto bn = std::make_shared<BatchNorm2d>(4);
            Tensor(bn->running_mean()).copy_(test::uniform_tensor({4}, -0.5, 0.5, 3));
            Tensor(bn->running_var()).copy_(test::uniform_tensor({4}, 0.5, 2.0, 4));
            s.body = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
                std::make_shared<Conv2d>(3, 4, 3, Conv2dParams{1, 1, 1, 1}, true, 7), bn,
                std::make_shared<ReLU>(), std::make_shared<AdaptiveAvgPool2d>(1),
                std::make_shared<Flatten>()});
            auto head = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
                std::make_shared<Linear>(4, kClasses, true, 8)});
            s.model = test::make_frozen_body_model(s.body, head);
            s.model->to(dev);
            s.body->to(dev);
            const int64_t n = 32 * kClasses;
            std::vector<int64_t> y(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) y[static_cast<size_t>(i)] = i % kClasses;
            auto images =
                std::make_shared<TensorDataset>(test::uniform_tensor({n, 3, 6, 6}, -1, 1, 10),
                                                Tensor::from_vector(y, {n}), kClasses);
            s.data = request(images, forget);
            break;
        }
        case Source::BatchNormHead: {
            auto bn = std::make_shared<BatchNorm1d>(kDim);
            Tensor(bn->running_mean()).copy_(test::uniform_tensor({kDim}, -0.2, 0.2, 11));
            Tensor(bn->running_var()).copy_(test::uniform_tensor({kDim}, 0.8, 1.2, 12));
            auto lin = std::make_shared<Linear>(kDim, kClasses, true, 13);
            s.model = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{bn, lin});
            s.model->eval();
            s.model->to(dev);
            s.data = request(blobs(48, 14), forget);
            break;
        }
    }
    s.probe = fetch(*s.data.forget, {0, 1, 2}, dev).x;
    return s;
}

// Small-data overrides: several steps per epoch.
Overrides small(const std::string& method) {
    (void)method;
    return {{"batch_size", "32"}};
}

std::vector<std::string> method_names() {
    std::vector<std::string> names;
    for (const MethodInfo& m : methods()) names.push_back(m.name);
    return names;
}

// ---- the contract, for every method and every source ---------------------------------------

class MethodContract : public ::testing::TestWithParam<std::tuple<std::string, Source>> {};

TEST_P(MethodContract, ClonesTrainsOnlyTheHeadAndIsDeterministic) {
    const auto& [name, source] = GetParam();
    const MethodInfo& method = find_method(name);
    Fixture s = make_setup(source);
    const auto input_before = snapshot(*s.model);
    const auto body_before = s.body ? snapshot(*s.body) : decltype(input_before){};

    std::vector<int> epochs_seen;
    RunContext ctx;
    ctx.seed = 7;
    ctx.on_epoch_end = [&](int epoch, const EpochStats& st) {
        epochs_seen.push_back(epoch);
        EXPECT_TRUE(std::isfinite(st.loss)) << "epoch " << epoch;
        EXPECT_GT(st.steps, 0);
    };
    const std::unique_ptr<Module> a = method.run(*s.model, s.data, small(name), ctx);
    ASSERT_NE(a, nullptr);

    // (1) the input is bit-unchanged, and so is the body it shares.
    EXPECT_EQ(snapshot(*s.model), input_before) << "the input model changed";
    if (s.body) {
        EXPECT_EQ(snapshot(*s.body), body_before) << "the frozen body changed";
    }
    // The result has the input's architecture (names, shapes), in eval mode, on its device.
    const auto after = snapshot(*a);
    ASSERT_EQ(after.size(), input_before.size());
    for (const auto& [key, bytes] : input_before) {
        ASSERT_TRUE(after.count(key)) << key;
        EXPECT_EQ(after.at(key).size(), bytes.size()) << key;
    }
    EXPECT_FALSE(a->is_training());
    EXPECT_EQ(a->device(), s.model->device());
    // (2) trainable parameters moved; buffers (BatchNorm running statistics) did not.
    bool moved = false;
    for (const auto& [key, bytes] : input_before) {
        if (key.rfind("buffer ", 0) == 0) {
            EXPECT_EQ(after.at(key), bytes) << key << " moved";
        }
        if (key.rfind("param ", 0) == 0 && after.at(key) != bytes) moved = true;
    }
    EXPECT_TRUE(moved) << "no parameter was trained";
    if (s.body) {  // the result's frozen body computes exactly what the original body computes
        NoGradGuard no_grad;
        const Tensor want = s.body->forward(s.probe);
        const Tensor got = module_chain(*a)[0]->forward(s.probe);
        EXPECT_TRUE(test::all_close(got, want, 0, 0, "frozen body of the result"));
    }
    // (5) one report per epoch, in order.
    ASSERT_FALSE(epochs_seen.empty());
    for (size_t i = 0; i < epochs_seen.size(); ++i) EXPECT_EQ(epochs_seen[i], static_cast<int>(i));

    // (4) the same seed gives the same result (bit-identical on the CPU).
    RunContext again;
    again.seed = 7;
    const std::unique_ptr<Module> b = method.run(*s.model, s.data, small(name), again);
    if (test_device().is_cpu()) {
        EXPECT_EQ(snapshot(*b), after) << "same seed, different result";
    } else {
        for (const auto& [key, t] : a->state_dict())
            EXPECT_TRUE(test::all_close(b->state_dict().at(key), t, 1e-5, 1e-5, key));
    }
}

std::string contract_name(const ::testing::TestParamInfo<std::tuple<std::string, Source>>& info) {
    return std::get<0>(info.param) + "_" + source_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(EveryMethod, MethodContract,
                         ::testing::Combine(::testing::ValuesIn(method_names()),
                                            ::testing::Values(Source::Synthetic, Source::Embeddings,
                                                              Source::Images,
                                                              Source::BatchNormHead)),
                         contract_name);

class MethodRequests : public ::testing::TestWithParam<std::string> {};

// Stopping through the monitor after the first epoch gives exactly the one-epoch run, and the
// monitor sees the model in eval mode.
TEST_P(MethodRequests, MonitorStopsTraining) {
    const MethodInfo& method = find_method(GetParam());
    Fixture s = make_setup(Source::Embeddings);
    int reports = 0, asked = 0;
    RunContext ctx;
    ctx.seed = 3;
    ctx.on_epoch_end = [&](int, const EpochStats&) { ++reports; };
    ctx.monitor = [&](int epoch, Module& m) {
        ++asked;
        EXPECT_EQ(epoch, 0);
        EXPECT_FALSE(m.is_training());
        return true;
    };
    Overrides ov = small(GetParam());
    // SCRUB's last epochs skip the max pass, so "stop after epoch 0 of 3" equals "1 epoch" only
    // when no epoch is a final min-only one.
    for (const FieldInfo& f : method.fields)
        if (f.name == "final_min_epochs") ov.push_back({"final_min_epochs", "0"});
    ov.push_back({"epochs", "3"});
    const auto stopped = method.run(*s.model, s.data, ov, ctx);
    EXPECT_EQ(reports, 1);
    EXPECT_EQ(asked, 1);
    RunContext plain;
    plain.seed = 3;
    ov.back().second = "1";
    const auto one_epoch = method.run(*s.model, s.data, ov, plain);
    if (test_device().is_cpu()) {
        EXPECT_EQ(snapshot(*stopped), snapshot(*one_epoch));
    }
}

// Several forget classes at once, and a second request on the first one's result.
TEST_P(MethodRequests, MultiClassAndSequentialRequestsRun) {
    const MethodInfo& method = find_method(GetParam());
    Fixture s = make_setup(Source::Embeddings, {1, 3});
    RunContext ctx;
    ctx.seed = 5;
    const auto multi = method.run(*s.model, s.data, small(GetParam()), ctx);
    EXPECT_NE(snapshot(*multi), snapshot(*s.model));

    const auto all = blobs(48, 9);
    const auto first = method.run(*s.model, request(all, {1}), small(GetParam()), ctx);
    // Forget 3 next: the forget set holds class 3 only, the retain set neither 1 nor 3, and the
    // request lists both so that no method sends a sample back to class 1.
    UnlearnData second;
    second.forget = filter_classes(all, {3}, true);
    second.retain = filter_classes(all, {1, 3}, false);
    second.num_classes = kClasses;
    second.forget_classes = {1, 3};
    const auto before = snapshot(*first);
    const auto result = method.run(*first, second, small(GetParam()), ctx);
    EXPECT_EQ(snapshot(*first), before);
    EXPECT_NE(snapshot(*result), before);
}

INSTANTIATE_TEST_SUITE_P(EveryMethod, MethodRequests, ::testing::ValuesIn(method_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// ---- behaviour on the blobs -------------------------------------------------------------------

// Declared per method and per request (one class; two classes at once; a second class on the
// result of the first): whether the DEFAULT config must forget (forget accuracy <= 0.10). Retain
// accuracy >= 0.85 is required of every method in every case. The cases a method opts out of, and
// why (measured on these blobs; the defaults are set for the shared ResNets, see configs.h):
//   finetune      forgets only by interference (forget accuracy 0.5-0.7 here).
//   neg_grad      no retain term: the budget that forgets class 1 on the original head is 2 epochs
//                 short on the already-unlearned head, and 2 more epochs break the original case.
//   scrub         the max step has zero gradient while the student equals its teacher; on a
//                 second request the teacher is the already-fitted first result, so the escape
//                 (driven by the retain CE) takes ~9 epochs instead of 1.
//   bad_teacher   the student learns the random teacher's outputs on the forget samples, whose
//                 argmax is itself a forget class with probability |forget| / K (here 1/2).
//   retrain_head  the forgotten classes' rows are random and only pushed down on retain samples,
//                 which here lie in orthogonal directions: ~10% of the forgotten test samples keep
//                 their class on the second request.
struct Bar {
    bool single, multi, sequential;
};
const std::map<std::string, Bar>& behaviour_bar() {
    static const std::map<std::string, Bar> table = {
        {"finetune", {false, false, false}},     {"neg_grad", {true, true, false}},
        {"neg_grad_plus", {true, true, true}},   {"random_labels", {true, true, true}},
        {"boundary_shrink", {true, true, true}}, {"boundary_expand", {true, true, true}},
        {"scrub", {true, true, false}},          {"scar", {true, true, true}},
        {"delete", {true, true, true}},          {"bad_teacher", {true, false, false}},
        {"retrain_head", {true, true, false}},
    };
    return table;
}

TEST(MethodBehaviour, EveryMethodDeclaresItsBar) {
    for (const MethodInfo& m : methods())
        EXPECT_TRUE(behaviour_bar().count(m.name)) << m.name << " has no behaviour declaration";
}

struct BlobTask {
    std::shared_ptr<TensorDataset> train = blobs(5000, 101), test = blobs(1000, 202);
};
const BlobTask& blob_task() {
    static const BlobTask task;
    return task;
}

class MethodBehaviourOnBlobs : public ::testing::TestWithParam<std::string> {};

TEST_P(MethodBehaviourOnBlobs, DefaultsForgetAndKeep) {
    const std::string& name = GetParam();
    const MethodInfo& method = find_method(name);
    const BlobTask& task = blob_task();
    auto head = blob_head();
    head->to(test_device());
    const Accuracy original = evaluate(*head, *task.test, {1});
    ASSERT_GT(original.retain, 0.9);
    RunContext ctx;
    ctx.seed = 1;

    // One class.
    const auto single = method.run(*head, request(task.train, {1}), {}, ctx);
    const Accuracy a = evaluate(*single, *task.test, {1});
    // Two classes at once.
    const auto multi = method.run(*head, request(task.train, {0, 2}), {}, ctx);
    const Accuracy b = evaluate(*multi, *task.test, {0, 2});
    // Sequential: class 3 on the result of forgetting class 1.
    UnlearnData second;
    second.forget = filter_classes(task.train, {3}, true);
    second.retain = filter_classes(task.train, {1, 3}, false);
    second.num_classes = kClasses;
    second.forget_classes = {1, 3};
    const auto seq = method.run(*single, second, {}, ctx);
    const Accuracy c = evaluate(*seq, *task.test, {1, 3});

    const std::string got = "single " + a.str() + ", multi " + b.str() + ", sequential " + c.str();
    const Bar bar = behaviour_bar().at(name);
    const std::vector<std::pair<const Accuracy*, bool>> cases = {
        {&a, bar.single}, {&b, bar.multi}, {&c, bar.sequential}};
    for (const auto& [r, must] : cases) {
        EXPECT_GE(r->retain, 0.85) << name << ": " << got;
        if (must) {
            EXPECT_LE(r->forget, 0.10) << name << ": " << got;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryMethod, MethodBehaviourOnBlobs, ::testing::ValuesIn(method_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// The fused head step and the autodiff path train the same model (up to rounding).
TEST(MethodFusion, FusedAndAutodiffPathsAgree) {
    Fixture s = make_setup(Source::Embeddings);
    for (const MethodInfo& m : methods()) {
        const bool has_fused = std::any_of(m.fields.begin(), m.fields.end(),
                                           [](const FieldInfo& f) { return f.name == "fused"; });
        if (!has_fused) continue;
        RunContext ctx;
        ctx.seed = 2;
        Overrides ov = small(m.name);
        ov.push_back({"fused", "true"});
        const auto fused = m.run(*s.model, s.data, ov, ctx);
        ov.back().second = "false";
        const auto plain = m.run(*s.model, s.data, ov, ctx);
        const StateDict sf = fused->state_dict(), sp = plain->state_dict();
        for (const auto& [key, t] : sp)
            EXPECT_TRUE(test::all_close(sf.at(key), t, 1e-4, 1e-4, m.name + " " + key));
    }
}

// ---- configs ----------------------------------------------------------------------------------

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(MethodConfig, UnknownKeyListsTheValidKeys) {
    const MethodInfo& m = find_method("neg_grad_plus");
    const std::string msg = error_of([&] { m.resolve({{"lrr", "0.1"}}); });
    EXPECT_THAT(msg, HasSubstr("'lrr'"));
    EXPECT_THAT(msg, HasSubstr("lr, epochs, batch_size, momentum, weight_decay, beta, fused"));
}

TEST(MethodConfig, BadValuesNameTheKeyAndTheValue) {
    const MethodInfo& m = find_method("neg_grad_plus");
    for (const auto& [key, value] : Overrides{{"lr", "nan"},
                                              {"lr", "inf"},
                                              {"lr", "0"},
                                              {"lr", "-0.1"},
                                              {"lr", "0.1x"},
                                              {"epochs", "-1"},
                                              {"epochs", "1.5"},
                                              {"epochs", "abc"},
                                              {"epochs", ""},
                                              {"beta", "1.5"},
                                              {"fused", "maybe"},
                                              {"batch_size", "0"}}) {
        const std::string msg = error_of([&] { m.resolve({{key, value}}); });
        EXPECT_THAT(msg, HasSubstr("'" + key + "'")) << key << "=" << value;
        EXPECT_THAT(msg, HasSubstr("'" + value + "'")) << key << "=" << value;
    }
    EXPECT_THAT(error_of([&] { m.resolve({{"beta", "2"}}); }), HasSubstr("in [0, 1]"));
}

TEST(MethodConfig, OverridesApplyInOrderAndRoundTrip) {
    const MethodInfo& m = find_method("neg_grad_plus");
    auto value = [](const std::vector<FieldInfo>& fs, const std::string& name) {
        for (const FieldInfo& f : fs)
            if (f.name == name) return f.value;
        return std::string("(missing)");
    };
    const auto fs = m.resolve({{"lr", "0.1"}, {"epochs", "2"}, {"lr", "0.2"}, {"fused", "off"}});
    EXPECT_EQ(value(fs, "lr"), "0.2");
    EXPECT_EQ(value(fs, "epochs"), "2");
    EXPECT_EQ(value(fs, "fused"), "false");
    // Every listed default parses back to itself, for every method.
    for (const MethodInfo& method : methods()) {
        Overrides same;
        for (const FieldInfo& f : method.fields) same.push_back({f.name, f.value});
        const auto back = method.resolve(same);
        ASSERT_EQ(back.size(), method.fields.size());
        for (size_t i = 0; i < back.size(); ++i)
            EXPECT_EQ(back[i].value, method.fields[i].value) << method.name << " " << back[i].name;
    }
}

TEST(MethodConfig, DirectCallsValidateTheStruct) {
    Fixture s = make_setup(Source::Embeddings);
    NegGradPlusConfig cfg;
    cfg.epochs = -2;
    const std::string msg = error_of([&] { neg_grad_plus(*s.model, s.data, cfg, RunContext{}); });
    EXPECT_THAT(msg, HasSubstr("'epochs'"));
    EXPECT_THAT(msg, HasSubstr("-2"));
    ScrubConfig sc;
    sc.temperature = std::nanf("");
    EXPECT_THAT(error_of([&] { scrub(*s.model, s.data, sc, RunContext{}); }),
                HasSubstr("'temperature'"));
}

TEST(MethodConfig, HashDependsOnlyOnTheResolvedConfig) {
    const MethodInfo& m = find_method("scrub");
    const std::string h0 = config_hash(m.name, m.resolve({}));
    EXPECT_EQ(h0.size(), 16u);
    EXPECT_EQ(h0, config_hash(m.name, m.fields));
    EXPECT_EQ(h0, config_hash(m.name, m.resolve({{"lr", m.fields[0].value}})));
    EXPECT_NE(h0, config_hash(m.name, m.resolve({{"lr", "0.5"}})));
    EXPECT_NE(h0, config_hash("other", m.resolve({})));
}

TEST(MethodTable, ListsEveryMethodOnceWithDocumentedFields) {
    const std::vector<std::string> want = {
        "finetune",        "neg_grad",        "neg_grad_plus", "random_labels",
        "boundary_shrink", "boundary_expand", "scrub",         "scar",
        "delete",          "bad_teacher",     "retrain_head"};
    EXPECT_EQ(method_names(), want);
    for (const MethodInfo& m : methods()) {
        EXPECT_FALSE(m.summary.empty()) << m.name;
        std::set<std::string> seen;
        for (const FieldInfo& f : m.fields) {
            EXPECT_TRUE(seen.insert(f.name).second) << m.name << " lists " << f.name << " twice";
            EXPECT_FALSE(f.doc.empty()) << m.name << "." << f.name;
            EXPECT_FALSE(f.value.empty()) << m.name << "." << f.name;
        }
        EXPECT_TRUE(seen.count("lr") && seen.count("epochs")) << m.name;
    }
    EXPECT_EQ(find_method("neg_grad_plus").fields[0].value, "0.05");
    EXPECT_EQ(find_method("neg_grad_plus").fields[0].range, "> 0");
    EXPECT_EQ(find_method("neg_grad_plus").fields[0].type, "float");
    const std::string msg = error_of([] { find_method("forget_everything"); });
    EXPECT_THAT(msg, HasSubstr("forget_everything"));
    EXPECT_THAT(msg, HasSubstr("neg_grad_plus"));
    EXPECT_THAT(msg, HasSubstr("retrain_head"));
}

TEST(MethodConfig, KeyValueParsing) {
    EXPECT_EQ(parse_key_value("lr=0.1"), (std::pair<std::string, std::string>{"lr", "0.1"}));
    EXPECT_EQ(parse_key_value("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
    EXPECT_THROW(parse_key_value("lr"), Error);
    EXPECT_THROW(parse_key_value("=1"), Error);
}

// String and integer-list fields (training recipes, experiment files use them).
struct TextFieldsConfig {
    std::string schedule = "cosine";
    std::vector<int> classes;
};
template <class V>
void fields(TextFieldsConfig& c, V&& v) {
    v("schedule", c.schedule, "a name");
    v("classes", c.classes, "a class list", kNonNegative);
}

TEST(MethodConfig, StringAndIntListFields) {
    TextFieldsConfig c =
        config_from<TextFieldsConfig>("recipe", {{"schedule", "step"}, {"classes", "[3, 5]"}});
    EXPECT_EQ(c.schedule, "step");
    EXPECT_EQ(c.classes, (std::vector<int>{3, 5}));
    set_field(c, "recipe", "classes", "");
    EXPECT_TRUE(c.classes.empty());
    const std::vector<FieldInfo> info =
        describe_fields(config_from<TextFieldsConfig>("recipe", {{"classes", "1,2"}}));
    EXPECT_EQ(info[0].type, "string");
    EXPECT_EQ(info[1].type, "int list");
    EXPECT_EQ(info[1].value, "1,2");
    EXPECT_EQ(info[1].range, ">= 0");
    EXPECT_THAT(error_of([&] { set_field(c, "recipe", "classes", "3,x"); }),
                HasSubstr("comma-separated integers"));
    EXPECT_THAT(error_of([&] { set_field(c, "recipe", "classes", "3,"); }), HasSubstr("'3,'"));
    EXPECT_THAT(error_of([&] { set_field(c, "recipe", "classes", "-1"); }), HasSubstr(">= 0"));
}

TEST(UnlearnRequest, InvalidRequestsAreRejected) {
    const auto all = blobs(8, 1);
    UnlearnData d = request(all, {1});
    EXPECT_NO_THROW(check_unlearn_data(d));
    EXPECT_EQ(retain_classes(d), (std::vector<int>{0, 2, 3}));
    d.forget_classes = {1, 1};
    EXPECT_THAT(error_of([&] { check_unlearn_data(d); }), HasSubstr("twice"));
    d.forget_classes = {4};
    EXPECT_THAT(error_of([&] { check_unlearn_data(d); }), HasSubstr("out of range"));
    d.forget_classes = {0, 1, 2, 3};
    EXPECT_THAT(error_of([&] { check_unlearn_data(d); }), HasSubstr("retained"));
    d.forget_classes = {1};
    d.retain = nullptr;
    EXPECT_THROW(find_method("delete").run(*blob_head(), d, {}, RunContext{}), Error);
}

// ---- train_loop helpers -----------------------------------------------------------------------

TEST(TrainLoop, ShufflingIsASeededPermutation) {
    const auto a = shuffled(1000, 42), b = shuffled(1000, 42), c = shuffled(1000, 43);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
    EXPECT_NE(derive_seed(1, kForgetOrder, 0), derive_seed(1, kRetainOrder, 0));
    EXPECT_NE(derive_seed(1, kForgetOrder, 0), derive_seed(1, kForgetOrder, 1));
    EXPECT_NE(derive_seed(1, kForgetOrder, 0), derive_seed(2, kForgetOrder, 0));
}

TEST(TrainLoop, BatchesCoverEverySampleOnceAndCycleReusesRetain) {
    const auto bs = batches(10, 4, 7);
    ASSERT_EQ(bs.size(), 3u);
    EXPECT_EQ(bs[2].size(), 2u);
    std::vector<int64_t> all;
    for (const auto& b : bs) all.insert(all.end(), b.begin(), b.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_TRUE(batches(0, 4, 7).empty());
    const std::vector<IndexBatch> f = {{0}, {1}, {2}}, r = {{10}, {11}};
    const auto pairs = cycle(f, r);
    ASSERT_EQ(pairs.size(), 3u);
    EXPECT_EQ(pairs[2].retain, IndexBatch{10});
    EXPECT_TRUE(cycle(f, {})[0].retain.empty());
    const auto sub = random_subset(100, 30, 5);
    EXPECT_EQ(sub.size(), 30u);
    EXPECT_TRUE(std::is_sorted(sub.begin(), sub.end()));
}

TEST(TrainLoop, ReinitialiseTouchesOnlyTrainableParameters) {
    auto frozen = std::make_shared<Linear>(4, 4, true, 1);
    frozen->set_requires_grad(false);
    auto bn = std::make_shared<BatchNorm1d>(4);
    Tensor(bn->weight()).fill_(3.0);
    auto lin = std::make_shared<Linear>(4, 2, true, 2);
    Sequential m(std::vector<std::shared_ptr<Module>>{frozen, bn, lin});
    const auto frozen_before = snapshot(*frozen);
    const auto lin_before = snapshot(*lin);
    reinitialise(m, 9);
    EXPECT_EQ(snapshot(*frozen), frozen_before);
    EXPECT_NE(snapshot(*lin), lin_before);
    EXPECT_EQ(bn->weight().to_vector<float>(), std::vector<float>(4, 1.f));
    const float bound = 0.5f;  // 1 / sqrt(fan_in = 4)
    for (float w : lin->weight().to_vector<float>()) EXPECT_LE(std::fabs(w), bound);
}

TEST(TrainLoop, DistillKlIsZeroAtTheTeacherAndMasksMinusInfinity) {
    const Tensor t = test::uniform_tensor({5, 3}, -2, 2, 1);
    EXPECT_NEAR(distill_kl(t, t, 2.0).item(), 0.0, 1e-6);
    // A masked teacher class gets probability 0: KL = sum over the unmasked classes only.
    const Tensor teacher =
        Tensor::from_vector(std::vector<float>{0.f, -INFINITY, std::log(3.f)}, {1, 3});
    const Tensor student = Tensor::from_vector(std::vector<float>{0.f, 0.f, 0.f}, {1, 3});
    const double want = 0.25 * std::log(0.25 / (1.0 / 3)) + 0.75 * std::log(0.75 / (1.0 / 3));
    EXPECT_NEAR(distill_kl(student, teacher, 1.0).item(), want, 1e-5);
}

}  // namespace
}  // namespace obl
