// Module system tests: dotted names, deep-clone independence for every module type, strict and
// non-strict state-dict loading, train/eval, requires_grad, device moves, init, and forward values
// of Linear / BatchNorm / LayerNorm / Dropout on hand-computed numbers (DESIGN.md §F, §K).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "nn/modules.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::test_device;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Raw bytes of a tensor (copied to the host).
std::vector<uint8_t> bytes(const Tensor& t) {
    Tensor h = t.detach().cpu();
    std::vector<uint8_t> out(h.nbytes());
    if (!out.empty()) std::memcpy(out.data(), h.raw(), out.size());
    return out;
}

std::map<std::string, std::vector<uint8_t>> snapshot(const Module& m) {
    std::map<std::string, std::vector<uint8_t>> out;
    for (const auto& [name, t] : m.state_dict()) out[name] = bytes(t);
    return out;
}

std::vector<std::string> names(const NamedTensors& v) {
    std::vector<std::string> out;
    for (const auto& [name, t] : v) out.push_back(name);
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no obl::Error thrown)";
}

// A ResNet-like block and net, to get torchvision-style nested names.
class Block : public Module {
 public:
    Block(int64_t c, uint64_t seed) : c_(c), seed_(seed) {
        conv1 = register_module(
            "conv1", std::make_shared<Conv2d>(c, c, 3, Conv2dParams{1, 1, 1, 1}, false, seed));
        bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(c));
    }
    Tensor forward(const Tensor& x) override { return add(relu((*bn1)((*conv1)(x))), x); }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<Block>(c_, seed_);
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "Block"; }

    std::shared_ptr<Conv2d> conv1;
    std::shared_ptr<BatchNorm2d> bn1;

 private:
    int64_t c_;
    uint64_t seed_;
};

class Net : public Module {
 public:
    Net() {
        conv1 = register_module(
            "conv1", std::make_shared<Conv2d>(1, 4, 3, Conv2dParams{1, 1, 1, 1}, false, 1));
        bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(4));
        layer1 = register_module(
            "layer1", std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
                          std::make_shared<Block>(4, 2), std::make_shared<Block>(4, 3)}));
        pool = register_module("pool", std::make_shared<AdaptiveAvgPool2d>(1));
        fc = register_module("fc", std::make_shared<Linear>(4, 3, true, 4));
    }
    Tensor forward(const Tensor& x) override {
        Tensor h = (*layer1)(relu((*bn1)((*conv1)(x))));
        return (*fc)((*pool)(h).flatten(1));
    }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<Net>();
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "Net"; }

    std::shared_ptr<Conv2d> conv1;
    std::shared_ptr<BatchNorm2d> bn1;
    std::shared_ptr<Sequential> layer1;
    std::shared_ptr<AdaptiveAvgPool2d> pool;
    std::shared_ptr<Linear> fc;
};

std::shared_ptr<Sequential> small_mlp(uint64_t seed) {
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Linear>(3, 4, true, seed), std::make_shared<ReLU>(),
        std::make_shared<Linear>(4, 2, true, seed + 1)});
}

// ---- names -------------------------------------------------------------------------------------

TEST(Modules, NestedParameterNamesFollowPyTorch) {
    Net net;
    EXPECT_THAT(names(net.named_parameters()),
                ElementsAre("conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight",
                            "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.1.conv1.weight",
                            "layer1.1.bn1.weight", "layer1.1.bn1.bias", "fc.weight", "fc.bias"));
    EXPECT_THAT(names(net.named_buffers()),
                ElementsAre("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                            "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
                            "layer1.0.bn1.num_batches_tracked", "layer1.1.bn1.running_mean",
                            "layer1.1.bn1.running_var", "layer1.1.bn1.num_batches_tracked"));
    const StateDict sd = net.state_dict();
    EXPECT_EQ(sd.size(), 20u);
    EXPECT_TRUE(sd.count("layer1.1.bn1.num_batches_tracked"));
    EXPECT_EQ(sd.at("layer1.1.bn1.num_batches_tracked").dtype(), DType::I64);
    EXPECT_EQ(sd.at("layer1.1.bn1.num_batches_tracked").dim(), 0);
    EXPECT_EQ(sd.at("fc.weight").shape(), (Shape{3, 4}));

    std::vector<std::string> module_names;
    for (const auto& [name, m] : net.named_modules()) module_names.push_back(name);
    EXPECT_THAT(module_names, ElementsAre("", "conv1", "bn1", "layer1", "layer1.0",
                                          "layer1.0.conv1", "layer1.0.bn1", "layer1.1",
                                          "layer1.1.conv1", "layer1.1.bn1", "pool", "fc"));
    EXPECT_THAT(net.print(), HasSubstr("    layer1.0.conv1: Conv2d(4, 4, kernel=3"));
}

TEST(Modules, SequentialNamesDefaultToPositions) {
    auto mlp = small_mlp(0);
    EXPECT_THAT(names(mlp->named_parameters()),
                ElementsAre("0.weight", "0.bias", "2.weight", "2.bias"));
    EXPECT_EQ(mlp->size(), 3u);
    EXPECT_EQ((*mlp)[1]->repr(), "ReLU");
}

TEST(Modules, EmptyAndDottedChildNamesReproduceTorchvisionPaths) {
    // A classifier's stages (DESIGN.md §F): the stem spliced in without a prefix, a ViT block
    // under a dotted path.
    Sequential model(std::vector<std::pair<std::string, std::shared_ptr<Module>>>{
        {"",
         std::make_shared<Sequential>(std::vector<std::pair<std::string, std::shared_ptr<Module>>>{
             {"conv1", std::make_shared<Conv2d>(1, 2, 1)}})},
        {"encoder.layers.encoder_layer_0", std::make_shared<LayerNorm>(2)}});
    EXPECT_THAT(names(model.named_parameters()),
                ElementsAre("conv1.weight", "conv1.bias", "encoder.layers.encoder_layer_0.weight",
                            "encoder.layers.encoder_layer_0.bias"));
    EXPECT_THAT(error_of([&] { model.register_module("a..b", std::make_shared<Identity>()); }),
                HasSubstr("empty component"));
}

TEST(Modules, RegistrationRejectsDuplicatesAndBadNames) {
    Sequential s;
    s.push_back("fc", std::make_shared<Linear>(2, 2));
    EXPECT_THAT(error_of([&] { s.push_back("fc", std::make_shared<Linear>(2, 2)); }),
                HasSubstr("'fc' is already registered"));
    EXPECT_THAT(error_of([&] { s.register_parameter("a.b", Tensor::zeros({2})); }),
                HasSubstr("must not contain '.'"));
    EXPECT_THAT(error_of([&] { s.register_parameter("i", Tensor::zeros({2}, DType::I64)); }),
                HasSubstr("must be f32 or f64"));
    EXPECT_THAT(error_of([&] { (void)s.parameter("nope"); }), HasSubstr("no parameter 'nope'"));
}

TEST(Modules, SharedTensorsAreListedOnce) {
    auto fc = std::make_shared<Linear>(2, 2);
    Sequential tied(std::vector<std::shared_ptr<Module>>{fc, std::make_shared<ReLU>(), fc});
    EXPECT_THAT(names(tied.named_parameters()), ElementsAre("0.weight", "0.bias"));
    EXPECT_EQ(tied.num_parameters(), 6);
    // state_dict lists a tied tensor under every name, as PyTorch's does, and loads it back.
    const StateDict sd = tied.state_dict();
    EXPECT_EQ(sd.size(), 4u);
    EXPECT_TRUE(sd.count("2.weight"));
    EXPECT_NO_THROW(tied.load_state_dict(sd));
}

TEST(Modules, ParameterCountOfSmallModels) {
    Sequential mlp(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Linear>(2, 32), std::make_shared<ReLU>(), std::make_shared<Linear>(32, 32),
        std::make_shared<ReLU>(), std::make_shared<Linear>(32, 4)});
    EXPECT_EQ(mlp.num_parameters(), 2 * 32 + 32 + 32 * 32 + 32 + 32 * 4 + 4);  // 1284
    Sequential cnn(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Conv2d>(1, 8, 3, Conv2dParams{1, 1, 1, 1}),
        std::make_shared<BatchNorm2d>(8), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
        std::make_shared<Flatten>(), std::make_shared<Linear>(8 * 6 * 6, 4)});
    EXPECT_EQ(cnn.num_parameters(), 8 * 9 + 8 + 2 * 8 + 288 * 4 + 4);  // 1252
    Net net;
    EXPECT_EQ(net.num_parameters(), 36 + 8 + 2 * (144 + 8) + 12 + 3);
}

// ---- clone independence, every module type ------------------------------------------------

struct CloneCase {
    std::string name;
    std::function<std::shared_ptr<Module>()> make;
    Shape input;
};

// The independence checks run on any module: values equal, storage distinct, and writes to one
// side never reach the other, for parameters, buffers and the mode flag.
void expect_clone_independent(Module& m, const Shape& input) {
    const Device dev = test_device();
    const auto before = snapshot(m);
    auto c = m.clone();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(typeid(*c), typeid(m));
    EXPECT_EQ(c->repr(), m.repr());
    EXPECT_EQ(c->is_training(), m.is_training());
    EXPECT_EQ(snapshot(*c), before) << "clone values differ from the original";

    const NamedTensors mp = m.named_parameters(), cp = c->named_parameters();
    ASSERT_EQ(names(mp), names(cp));
    for (size_t i = 0; i < mp.size(); ++i) {
        const Tensor &a = mp[i].second, &b = cp[i].second;
        EXPECT_FALSE(a.same(b)) << mp[i].first;
        EXPECT_NE(a.raw(), b.raw()) << mp[i].first << " shares storage";
        EXPECT_EQ(a.requires_grad(), b.requires_grad()) << mp[i].first;
        EXPECT_TRUE(b.is_leaf()) << mp[i].first;
        EXPECT_FALSE(b.grad().defined()) << mp[i].first;
        EXPECT_EQ(b.device(), a.device()) << mp[i].first;
    }
    const NamedTensors mb = m.named_buffers(), cb = c->named_buffers();
    ASSERT_EQ(names(mb), names(cb));
    for (size_t i = 0; i < mb.size(); ++i)
        EXPECT_NE(mb[i].second.raw(), cb[i].second.raw()) << mb[i].first << " shares storage";

    // Same output on the same input (eval: BatchNorm must not move its statistics here).
    {
        NoGradGuard ng;
        const bool was_training = m.is_training();
        m.eval();
        c->eval();
        Tensor x = test::uniform_tensor(input, -1, 1, 17, DType::F32, dev);
        EXPECT_EQ(bytes(m(x)), bytes((*c)(x))) << "clone computes something else";
        m.train(was_training);
        c->train(was_training);
    }

    // Writes to the clone leave the original bit-unchanged...
    for (auto& [name, t] : c->state_dict()) t.fill_(7);
    c->train(!m.is_training());
    EXPECT_EQ(snapshot(m), before) << "writing the clone changed the original";
    EXPECT_NE(c->is_training(), m.is_training());
    // ...and writes to the original leave the clone unchanged.
    for (auto& [name, t] : m.state_dict()) t.fill_(-3);
    for (auto& [name, t] : c->state_dict()) {
        for (double v : t.to_vector<double>()) ASSERT_EQ(v, 7.0) << name;
    }
    // Gradients are per copy as well.
    for (Tensor& p : c->parameters()) p.set_grad(Tensor::ones(p.shape(), p.dtype(), p.device()));
    for (const Tensor& p : m.parameters()) EXPECT_FALSE(p.grad().defined());
}

class CloneIndependence : public ::testing::TestWithParam<CloneCase> {};

TEST_P(CloneIndependence, CloneSharesNothingWithTheOriginal) {
    std::shared_ptr<Module> m = GetParam().make();
    m->to(test_device());
    expect_clone_independent(*m, GetParam().input);
}

Shape img(int64_t c) { return Shape{2, c, 6, 6}; }

std::vector<CloneCase> clone_cases() {
    return {
        {"Linear", [] { return std::make_shared<Linear>(5, 3, true, 1); }, Shape{4, 5}},
        {"LinearNoBias", [] { return std::make_shared<Linear>(5, 3, false, 1); }, Shape{4, 5}},
        {"Conv2d",
         [] {
             return std::make_shared<Conv2d>(2, 3, 3, Conv2dParams{2, 2, 1, 1});
         },
         img(2)},
        {"BatchNorm2d",
         [] {
             auto bn = std::make_shared<BatchNorm2d>(3);
             (*bn)(test::uniform_tensor(img(3), -1, 2, 5));  // non-default running stats
             Tensor w = bn->weight();
             w.set_requires_grad(false);
             return bn;
         },
         img(3)},
        {"BatchNorm1d",
         [] {
             auto bn = std::make_shared<BatchNorm1d>(4);
             (*bn)(test::uniform_tensor(Shape{5, 4}, -1, 2, 6));
             bn->eval();
             return bn;
         },
         Shape{5, 4}},
        {"LayerNorm", [] { return std::make_shared<LayerNorm>(6); }, Shape{3, 6}},
        {"Dropout", [] { return std::make_shared<Dropout>(0.3, 9); }, Shape{4, 8}},
        {"Identity", [] { return std::make_shared<Identity>(); }, Shape{4, 3}},
        {"Lambda",
         [] { return std::make_shared<Lambda>("x2", [](const Tensor& x) { return add(x, x); }); },
         Shape{4, 3}},
        {"MaxPool2d", [] { return std::make_shared<MaxPool2d>(2); }, img(2)},
        {"AvgPool2d", [] { return std::make_shared<AvgPool2d>(3, 2, 1); }, img(2)},
        {"AdaptiveAvgPool2d", [] { return std::make_shared<AdaptiveAvgPool2d>(4, 3); }, img(2)},
        {"ReLU", [] { return std::make_shared<ReLU>(); }, Shape{4, 3}},
        {"GELU", [] { return std::make_shared<GELU>(); }, Shape{4, 3}},
        {"Tanh", [] { return std::make_shared<Tanh>(); }, Shape{4, 3}},
        {"Sigmoid", [] { return std::make_shared<Sigmoid>(); }, Shape{4, 3}},
        {"Flatten", [] { return std::make_shared<Flatten>(); }, img(2)},
        {"Sequential",
         [] {
             auto s = small_mlp(3);
             s->push_back("bn", std::make_shared<BatchNorm1d>(2));
             s->named_parameters()[0].second.set_requires_grad(false);
             return s;
         },
         Shape{4, 3}},
        {"NestedCustomModule",
         [] {
             auto net = std::make_shared<Net>();
             net->layer1->eval();  // mixed modes must survive the clone
             return net;
         },
         Shape{2, 1, 5, 5}},
    };
}

INSTANTIATE_TEST_SUITE_P(EveryModule, CloneIndependence, ::testing::ValuesIn(clone_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Modules, CloneKeepsMixedTrainingFlags) {
    Net net;
    net.layer1->eval();
    auto c = net.clone();
    auto* cn = dynamic_cast<Net*>(c.get());
    ASSERT_NE(cn, nullptr);
    EXPECT_TRUE(cn->is_training());
    EXPECT_TRUE(cn->bn1->is_training());
    EXPECT_FALSE(cn->layer1->is_training());
    EXPECT_FALSE(dynamic_cast<Block&>(*(*cn->layer1)[1]).bn1->is_training());
    // The clone's typed members alias its registered state (not the original's).
    EXPECT_TRUE(cn->fc->weight().same(cn->named_parameters()[9].second));
    EXPECT_FALSE(cn->fc->weight().same(net.fc->weight()));
}

TEST(Modules, CloneOfDropoutContinuesTheSameStream) {
    Dropout d(0.5, 11);
    Tensor x = Tensor::ones({64});
    d(x);
    auto c = d.clone();
    EXPECT_EQ(bytes(d(x)), bytes((*c)(x)));
}

// ---- state dicts -----------------------------------------------------------------------------

TEST(Modules, StateDictIsDetachedAndAliasesTheModule) {
    auto mlp = small_mlp(0);
    StateDict sd = mlp->state_dict();
    std::vector<std::string> keys;
    for (const auto& [name, t] : sd) keys.push_back(name);
    EXPECT_THAT(keys, ElementsAre("0.bias", "0.weight", "2.bias", "2.weight"));
    EXPECT_FALSE(sd.at("0.weight").requires_grad());
    EXPECT_TRUE(mlp->named_parameters()[0].second.requires_grad());
    EXPECT_EQ(sd.at("0.weight").raw(), mlp->named_parameters()[0].second.raw());
}

TEST(Modules, LoadStateDictCopiesValuesInPlace) {
    auto a = small_mlp(0), b = small_mlp(100);
    const Tensor w = a->named_parameters()[0].second;  // a handle held elsewhere (an optimizer)
    StateDict sd = b->state_dict();
    LoadResult r = a->load_state_dict(sd);
    EXPECT_TRUE(r.missing_keys.empty());
    EXPECT_TRUE(r.unexpected_keys.empty());
    EXPECT_EQ(snapshot(*a), snapshot(*b));
    EXPECT_TRUE(w.same(a->named_parameters()[0].second));
    EXPECT_EQ(bytes(w), bytes(b->named_parameters()[0].second));
    EXPECT_NE(w.raw(), sd.at("0.weight").raw()) << "load must copy, not alias";
    // The source can change afterwards without touching the loaded module.
    sd.at("0.weight").fill_(5);
    EXPECT_NE(bytes(w), bytes(sd.at("0.weight")));
}

TEST(Modules, LoadStateDictConvertsDtype) {
    Linear fc(2, 1, true, 0);
    StateDict sd{{"weight", Tensor::from_vector<double>({0.25, -0.5}, {1, 2})},
                 {"bias", Tensor::from_vector<double>({2.0}, {1})}};
    fc.load_state_dict(sd);
    EXPECT_EQ(fc.weight().dtype(), DType::F32);
    EXPECT_EQ(fc.weight().to_vector<float>(), (std::vector<float>{0.25f, -0.5f}));
    EXPECT_EQ(fc.bias().to_vector<float>(), (std::vector<float>{2.f}));
}

TEST(Modules, StrictLoadReportsMissingKey) {
    auto m = small_mlp(0);
    StateDict sd = small_mlp(1)->state_dict();
    sd.erase("2.bias");
    const std::string msg = error_of([&] { m->load_state_dict(sd); });
    EXPECT_THAT(msg, HasSubstr("missing keys (1): [2.bias]"));
    EXPECT_THAT(msg, HasSubstr("unexpected keys (0): []"));
    EXPECT_THAT(msg, HasSubstr("shape mismatches (0): []"));
}

TEST(Modules, StrictLoadReportsUnexpectedKey) {
    auto m = small_mlp(0);
    StateDict sd = small_mlp(1)->state_dict();
    sd["3.weight"] = Tensor::zeros({2, 2});
    EXPECT_THAT(error_of([&] { m->load_state_dict(sd); }),
                HasSubstr("unexpected keys (1): [3.weight]"));
}

TEST(Modules, StrictLoadReportsShapeMismatch) {
    auto m = small_mlp(0);
    StateDict sd = small_mlp(1)->state_dict();
    sd["0.weight"] = Tensor::zeros({5, 3});
    EXPECT_THAT(error_of([&] { m->load_state_dict(sd); }),
                HasSubstr("shape mismatches (1): [0.weight: checkpoint [5, 3] vs model [4, 3]]"));
}

TEST(Modules, StrictLoadListsAllThreeProblemsAtOnceAndChangesNothing) {
    Net net;
    const auto before = snapshot(net);
    StateDict sd = Net().state_dict();
    for (auto& [n, t] : sd) t.fill_(1);
    sd.erase("layer1.0.bn1.running_var");
    sd.erase("fc.bias");
    sd["fc.extra"] = Tensor::zeros({1});
    sd["conv1.weight"] = Tensor::zeros({4, 1, 5, 5});
    const std::string msg = error_of([&] { net.load_state_dict(sd); });
    EXPECT_THAT(msg, HasSubstr("missing keys (2): [fc.bias, layer1.0.bn1.running_var]"));
    EXPECT_THAT(msg, HasSubstr("unexpected keys (1): [fc.extra]"));
    EXPECT_THAT(msg,
                HasSubstr("shape mismatches (1): [conv1.weight: checkpoint [4, 1, 5, 5] vs model "
                          "[4, 1, 3, 3]]"));
    EXPECT_EQ(snapshot(net), before) << "a failed load must not modify the module";
}

TEST(Modules, NonStrictLoadSkipsMissingAndUnexpectedKeys) {
    auto m = small_mlp(0);
    const auto before = snapshot(*m);
    StateDict sd = small_mlp(1)->state_dict();
    const std::vector<uint8_t> w0 = bytes(sd.at("0.weight"));
    sd.erase("2.weight");
    sd.erase("2.bias");
    sd["head.weight"] = Tensor::zeros({1});
    LoadResult r = m->load_state_dict(sd, /*strict=*/false);
    EXPECT_THAT(r.missing_keys, ElementsAre("2.weight", "2.bias"));
    EXPECT_THAT(r.unexpected_keys, ElementsAre("head.weight"));
    const StateDict now = m->state_dict();
    EXPECT_EQ(bytes(now.at("0.weight")), w0);
    EXPECT_EQ(bytes(now.at("2.weight")), before.at("2.weight"));
    // A shape mismatch is an error even when not strict (PyTorch's rule).
    sd["0.bias"] = Tensor::zeros({7});
    EXPECT_THAT(error_of([&] { m->load_state_dict(sd, false); }),
                HasSubstr("0.bias: checkpoint [7] vs model [4]"));
}

TEST(Modules, NonPersistentBuffersStayOutOfStateDict) {
    Sequential s;
    s.register_buffer("cache", Tensor::zeros({3}), /*persistent=*/false);
    s.register_buffer("kept", Tensor::zeros({3}));
    EXPECT_THAT(names(s.named_buffers()), ElementsAre("cache", "kept"));
    EXPECT_EQ(s.state_dict().size(), 1u);
    EXPECT_NO_THROW(s.load_state_dict({{"kept", Tensor::ones({3})}}));
}

// ---- mode, gradients, devices --------------------------------------------------------------

TEST(Modules, TrainAndEvalPropagateToEveryDescendant) {
    Net net;
    for (const auto& [name, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << name;
    net.eval();
    for (const auto& [name, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << name;
    net.train();
    for (const auto& [name, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Modules, SetRequiresGradReachesEveryParameterButNoBuffer) {
    Net net;
    for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
    net.set_requires_grad(false);
    for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.requires_grad());
    Tensor y = net(Tensor::ones({2, 1, 5, 5}));
    EXPECT_FALSE(y.requires_grad());
    net.set_requires_grad(true);
    for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
    for (const Tensor& b : net.buffers()) EXPECT_FALSE(b.requires_grad());
}

TEST(Modules, ZeroGradDropsEveryGradient) {
    auto m = small_mlp(0);
    backward(sum_all((*m)(Tensor::ones({2, 3}))));
    for (const Tensor& p : m->parameters()) EXPECT_TRUE(p.grad().defined());
    m->zero_grad();
    for (const Tensor& p : m->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Modules, ToSameDeviceKeepsIdentityAndData) {
    auto m = small_mlp(0);
    const Tensor w = m->named_parameters()[0].second;
    const void* data = w.raw();
    m->to(Device::cpu());
    EXPECT_EQ(w.raw(), data);
    EXPECT_EQ(m->device(), Device::cpu());
}

TEST(ModulesCudaOnly, ToDeviceMovesStateInPlace) {
    OBL_SKIP_WITHOUT_GPU();
    Net net;
    (void)net(Tensor::ones({2, 1, 5, 5}));
    const auto before = snapshot(net);
    Tensor w = net.fc->weight();
    w.set_grad(Tensor::ones(w.shape()));
    net.to(Device::cuda());
    EXPECT_TRUE(w.device().is_cuda());
    EXPECT_TRUE(w.grad().device().is_cuda());
    EXPECT_TRUE(w.requires_grad());
    for (const Tensor& t : net.buffers()) EXPECT_TRUE(t.device().is_cuda());
    EXPECT_EQ(snapshot(net), before);
    Tensor y = net(Tensor::ones({2, 1, 5, 5}, DType::F32, Device::cuda()));  // BN counts on GPU
    EXPECT_EQ(net.bn1->num_batches_tracked().item(), 2.0);
    net.to(Device::cpu());
    EXPECT_TRUE(w.device().is_cpu());
    EXPECT_EQ(y.device(), Device::cuda());
}

// ---- init --------------------------------------------------------------------------------------

TEST(Modules, InitIsDeterministicPerSeedWithPyTorchBounds) {
    Linear a(50, 20, true, 7), b(50, 20, true, 7), c(50, 20, true, 8);
    EXPECT_EQ(snapshot(a), snapshot(b));
    EXPECT_NE(bytes(a.weight()), bytes(c.weight()));
    EXPECT_NE(bytes(a.bias()), bytes(c.bias()));
    const double bound = 1.0 / std::sqrt(50.0);
    double mean = 0;
    for (double v : a.weight().to_vector<double>()) {
        EXPECT_LE(std::fabs(v), bound);
        mean += v / 1000.0;
    }
    EXPECT_LT(std::fabs(mean), 0.2 * bound);
    for (double v : a.bias().to_vector<double>()) EXPECT_LE(std::fabs(v), bound);

    Conv2d conv(6, 4, 3, Conv2dParams{1, 1, 0, 0, 1, 1, 2});  // groups 2: fan_in 3 * 3 * 3
    EXPECT_EQ(conv.weight().shape(), (Shape{4, 3, 3, 3}));
    const double cb = 1.0 / std::sqrt(27.0);
    double max_abs = 0;
    for (double v : conv.weight().to_vector<double>()) max_abs = std::max(max_abs, std::fabs(v));
    EXPECT_LE(max_abs, cb);
    EXPECT_GT(max_abs, 0.8 * cb);  // 108 draws fill the range
    EXPECT_EQ(init::fan_in(Shape{4, 3, 3, 3}), 27);
    EXPECT_EQ(init::fan_in(Shape{10, 64}), 64);
}

// ---- forward values ----------------------------------------------------------------------------

TEST(Modules, LinearForwardIsXWTransposedPlusB) {
    const Device dev = test_device();
    Linear fc(2, 3);
    fc.load_state_dict({{"weight", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2})},
                        {"bias", Tensor::from_vector<float>({0.5f, -1, 2}, {3})}});
    fc.to(dev);
    Tensor x = Tensor::from_vector<float>({1, 1, 2, -1}, {2, 2}, dev);
    Tensor y = fc(x);
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{3.5f, 6, 13, 0.5f, 1, 6}));
    // d sum(y) / dW = column sums of x per output row; d sum(y) / db = N.
    backward(sum_all(y));
    EXPECT_EQ(fc.weight().grad().to_vector<float>(), (std::vector<float>{3, 0, 3, 0, 3, 0}));
    EXPECT_EQ(fc.bias().grad().to_vector<float>(), (std::vector<float>{2, 2, 2}));

    Linear nb(2, 1, false);
    nb.load_state_dict({{"weight", Tensor::from_vector<float>({2, -3}, {1, 2})}});
    nb.to(dev);
    EXPECT_EQ(nb(x).to_vector<float>(), (std::vector<float>{-1, 7}));
    EXPECT_THAT(error_of([&] {
                    fc(Tensor::zeros({2, 5}, DType::F32, dev));
                }),
                HasSubstr("must end with dim 2"));
}

TEST(Modules, BatchNorm2dEvalUsesRunningStatistics) {
    const Device dev = test_device();
    BatchNorm2d bn(2);
    bn.load_state_dict({{"weight", Tensor::from_vector<float>({2, 1}, {2})},
                        {"bias", Tensor::from_vector<float>({0, 3}, {2})},
                        {"running_mean", Tensor::from_vector<float>({1, -2}, {2})},
                        {"running_var", Tensor::from_vector<float>({4, 0.25f}, {2})},
                        {"num_batches_tracked", Tensor::from_vector<int64_t>({5}, {})}});
    bn.to(dev);
    bn.eval();
    // One image, 1x2 pixels: channel 0 (3, 5), channel 1 (-2, -1).
    Tensor x = Tensor::from_vector<float>({3, 5, -2, -1}, {1, 2, 1, 2}, dev);
    const double e = 1e-5;
    const std::vector<double> ref{(3 - 1) / std::sqrt(4 + e) * 2, (5 - 1) / std::sqrt(4 + e) * 2,
                                  0 / std::sqrt(0.25 + e) + 3, 1 / std::sqrt(0.25 + e) + 3};
    EXPECT_TRUE(test::all_close(bn(x).to_vector<double>(), ref, 1e-5, 1e-4, "bn eval"));
    EXPECT_EQ(bn.running_mean().to_vector<float>(), (std::vector<float>{1, -2}));
    EXPECT_EQ(bn.running_var().to_vector<float>(), (std::vector<float>{4, 0.25f}));
    EXPECT_EQ(bn.num_batches_tracked().item(), 5.0);
}

TEST(Modules, BatchNorm2dTrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
    const Device dev = test_device();
    BatchNorm2d bn(1);
    bn.to(dev);
    // Channel values 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased var 5/3.
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 1, 1, 2}, dev);
    Tensor y = bn(x);
    std::vector<double> ref;
    for (double v : {1.0, 2.0, 3.0, 4.0}) ref.push_back((v - 2.5) / std::sqrt(1.25 + 1e-5));
    EXPECT_TRUE(test::all_close(y.to_vector<double>(), ref, 1e-5, 1e-4, "bn train"));
    EXPECT_NEAR(bn.running_mean().item(), 0.1 * 2.5, 1e-6);
    EXPECT_NEAR(bn.running_var().item(), 0.9 + 0.1 * 5.0 / 3.0, 1e-6);
    EXPECT_EQ(bn.num_batches_tracked().item(), 1.0);
    bn(x);
    EXPECT_EQ(bn.num_batches_tracked().item(), 2.0);
    EXPECT_THAT(error_of([&] {
                    bn(Tensor::zeros({1, 1, 1, 1}, DType::F32, dev));
                }),
                HasSubstr("more than one value per channel"));
    EXPECT_THAT(error_of([&] {
                    bn(Tensor::zeros({2, 3, 1, 1}, DType::F32, dev));
                }),
                HasSubstr("with C = 1"));
}

TEST(Modules, LayerNormNormalisesTheLastDim) {
    const Device dev = test_device();
    LayerNorm ln(3);
    ln.load_state_dict({{"weight", Tensor::from_vector<float>({1, 2, 1}, {3})},
                        {"bias", Tensor::from_vector<float>({0, 0, 1}, {3})}});
    ln.to(dev);
    Tensor x = Tensor::from_vector<float>({1, 2, 3, -1, -1, -1}, {2, 3}, dev);
    const double s = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
    EXPECT_TRUE(test::all_close(ln(x).to_vector<double>(), {-s, 0, s + 1, 0, 0, 1}, 1e-5, 1e-4,
                                "layer norm"));
}

TEST(Modules, NormalisationWithoutAffineHasNoParameters) {
    const Device dev = test_device();
    LayerNorm ln(3, 1e-5, /*affine=*/false);
    BatchNorm1d bn(3, 1e-5, 0.1, /*affine=*/false);
    EXPECT_TRUE(ln.named_parameters().empty());
    EXPECT_THAT(names(bn.named_buffers()),
                ElementsAre("running_mean", "running_var", "num_batches_tracked"));
    ln.to(dev);
    bn.to(dev);
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 3, 2, 1}, {2, 3}, dev);
    const double s = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5), t = 1.0 / std::sqrt(1.0 + 1e-5);
    EXPECT_TRUE(test::all_close(ln(x).to_vector<double>(), {-s, 0, s, s, 0, -s}, 1e-5, 1e-4,
                                "layer norm without affine"));
    EXPECT_TRUE(test::all_close(bn(x).to_vector<double>(), {-t, 0, t, t, 0, -t}, 1e-5, 1e-4,
                                "batch norm without affine"));
}

TEST(Modules, DropoutDrawsFreshMasksPerCallReproduciblyAndIsIdentityInEval) {
    const Device dev = test_device();
    Dropout a(0.25, 3), b(0.25, 3);
    Tensor x = Tensor::ones({4096}, DType::F32, dev);
    const std::vector<float> a1 = a(x).to_vector<float>(), a2 = a(x).to_vector<float>();
    EXPECT_NE(a1, a2) << "successive calls must draw different masks";
    EXPECT_EQ(b(x).to_vector<float>(), a1) << "the same seed must give the same run";
    EXPECT_EQ(b(x).to_vector<float>(), a2);
    int dropped = 0;
    for (float v : a1) {
        EXPECT_TRUE(v == 0.f || v == 1.f / 0.75f) << v;
        dropped += v == 0.f;
    }
    EXPECT_NEAR(dropped / 4096.0, 0.25, 0.03);
    a.eval();
    EXPECT_TRUE(a(x).same(x));
    EXPECT_EQ(a.calls(), 2u);
}

TEST(Modules, PoolingAndActivationModulesWrapTheirOps) {
    const Device dev = test_device();
    Tensor x = Tensor::from_vector<float>(
        {1, -2, 3, 4, 5, -6, 7, 8, 9, 10, -11, 12, 13, 14, 15, -16}, {1, 1, 4, 4}, dev);
    EXPECT_EQ(MaxPool2d(2)(x).to_vector<float>(), (std::vector<float>{5, 8, 14, 15}));
    EXPECT_EQ(AvgPool2d(2)(x).to_vector<float>(), (std::vector<float>{-0.5f, 5.5f, 11.5f, 0}));
    EXPECT_EQ(AdaptiveAvgPool2d(1)(x).to_vector<float>(), (std::vector<float>{66.f / 16}));
    EXPECT_EQ(Flatten()(x).shape(), (Shape{1, 16}));
    EXPECT_EQ(Flatten(0)(x).shape(), (Shape{16}));
    Tensor v = Tensor::from_vector<float>({-1, 0, 2}, {3}, dev);
    EXPECT_EQ(ReLU()(v).to_vector<float>(), (std::vector<float>{0, 0, 2}));
    EXPECT_TRUE(test::all_close(Tanh()(v).to_vector<double>(), {std::tanh(-1.0), 0, std::tanh(2.0)},
                                1e-6, 1e-5, "tanh"));
    EXPECT_TRUE(test::all_close(Sigmoid()(v).to_vector<double>(),
                                {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-2.0))}, 1e-6,
                                1e-5, "sigmoid"));
    EXPECT_TRUE(test::all_close(GELU()(v).to_vector<double>(),
                                {-0.5 * (1 + std::erf(-1 / std::sqrt(2.0))), 0,
                                 2 * 0.5 * (1 + std::erf(2 / std::sqrt(2.0)))},
                                1e-6, 1e-5, "gelu"));
    EXPECT_TRUE(Identity()(v).same(v));
    EXPECT_THAT(error_of([&] { MaxPool2d(2)(v); }), HasSubstr("must be (N, C, H, W)"));
}

}  // namespace
}  // namespace obl
