// The split invariant (DESIGN.md §F): for every zoo architecture and every split point (stage
// names and aliases), head(body(x)) is bit-identical to model(x) on the CPU, the body and head
// share the model's parameter tensors under its PyTorch names, and the embedding shape is the
// body's output shape. Full size for cifar_resnet20 and resnet18_cifar; reduced configurations
// built by the same builders for the others. Also: a head keeps its BatchNorm in eval mode when
// the model is in eval mode, and FrozenBody has no parameters and records no graph.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "models/split.h"
#include "models/swin.h"
#include "models/vit.h"
#include "models/zoo.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::test_device;
using ::testing::HasSubstr;

struct SplitCase {
    std::string zoo_name;
    std::function<std::shared_ptr<Classifier>()> build;
    Shape input;  // one sample
};

std::shared_ptr<Classifier> reduced_resnet(ResNetConfig::Block block, std::vector<int64_t> layers,
                                           bool cifar_stem) {
    ResNetConfig c;
    c.block = block;
    c.layers = std::move(layers);
    c.widths = {4, 8, 16, 32};
    c.stem_width = 8;
    c.num_classes = 7;
    c.cifar_stem = cifar_stem;
    return make_resnet(c);
}

std::vector<SplitCase> split_cases() {
    using B = ResNetConfig::Block;
    std::vector<SplitCase> cases;
    cases.push_back({"cifar_resnet20", [] { return make_model("cifar_resnet20"); }, {3, 32, 32}});
    cases.push_back({"fmnist_cnn", [] { return make_model("fmnist_cnn"); }, {1, 28, 28}});
    for (int depth : {32, 44, 56})
        cases.push_back({"cifar_resnet" + std::to_string(depth),
                         [depth] {
                             return make_cifar_resnet(depth, 10, {4, 8, 16});
                         },
                         {3, 16, 16}});
    cases.push_back({"resnet18",
                     [] {
                         return reduced_resnet(B::Basic, {2, 2, 2, 2}, false);
                     },
                     {3, 64, 64}});
    cases.push_back({"resnet50",
                     [] {
                         return reduced_resnet(B::Bottleneck, {3, 4, 6, 3}, false);
                     },
                     {3, 64, 64}});
    cases.push_back({"resnet18_cifar", [] { return make_model("resnet18_cifar"); }, {3, 32, 32}});
    cases.push_back({"resnet50_cifar",
                     [] {
                         return reduced_resnet(B::Bottleneck, {3, 4, 6, 3}, true);
                     },
                     {3, 16, 16}});
    cases.push_back({"vit_b_16",
                     [] {
                         VitConfig c;
                         c.image_size = 32;
                         c.patch_size = 8;
                         c.num_layers = 2;
                         c.num_heads = 2;
                         c.hidden_dim = 32;
                         c.mlp_dim = 64;
                         c.num_classes = 7;
                         return make_vit(c);
                     },
                     {3, 32, 32}});
    cases.push_back({"swin_t",
                     [] {
                         SwinConfig c;
                         c.image_size = 32;
                         c.patch_size = 4;
                         c.embed_dim = 16;
                         c.window_size = 4;
                         c.depths = {2, 2, 2, 2};
                         c.num_heads = {1, 2, 4, 8};
                         c.num_classes = 7;
                         return make_swin(c);
                     },
                     {3, 32, 32}});
    return cases;
}

Shape batch_of(int64_t n, const Shape& sample) {
    Shape s{n};
    for (int64_t d : sample) s.push_back(d);
    return s;
}

std::vector<uint8_t> bytes(const Tensor& t) {
    const Tensor h = t.detach().cpu();
    std::vector<uint8_t> out(h.nbytes());
    if (!out.empty()) std::memcpy(out.data(), h.raw(), out.size());
    return out;
}

// Bit-identical on the CPU; on CUDA (OBL_TEST_DEVICE=cuda) the same kernels run on the same
// data, but library algorithm choices are not promised to be bitwise stable: 1e-5 there.
void expect_same(const Tensor& got, const Tensor& want, const std::string& what) {
    ASSERT_EQ(got.shape(), want.shape()) << what;
    if (got.device().is_cpu()) {
        EXPECT_TRUE(bytes(got) == bytes(want)) << what << ": head(body(x)) differs from model(x)";
    } else {
        EXPECT_TRUE(test::all_close(got, want, 1e-5, 1e-5, what));
    }
}

TEST(Split, CasesCoverTheWholeZoo) {
    std::set<std::string> covered;
    for (const SplitCase& c : split_cases()) covered.insert(c.zoo_name);
    for (const ZooEntry& e : zoo()) EXPECT_TRUE(covered.count(e.name)) << e.name << " has no case";
}

TEST(Split, HeadOfBodyIsBitIdenticalAtEveryPoint) {
    for (const SplitCase& c : split_cases()) {
        SCOPED_TRACE(c.zoo_name);
        std::shared_ptr<Classifier> model = c.build();
        model->to(test_device());
        model->eval();
        const Tensor x = test::uniform_tensor(batch_of(2, c.input), -1, 1, test::fnv1a(c.zoo_name),
                                              DType::F32, test_device());
        NoGradGuard no_grad;
        const Tensor want = model->forward(x);
        const std::vector<std::string> points = model->split_points();
        ASSERT_EQ(points.size(), model->stages().size() - 1 + model->aliases().size());
        for (const std::string& point : points) {
            const obl::Split s = split(*model, point, c.input);
            const Tensor e = s.body->forward(x);
            expect_same(s.head->forward(e), want, c.zoo_name + " at " + point);
            ASSERT_EQ(e.dim(), s.embedding_shape.size() + 1) << point;
            for (int i = 1; i < e.dim(); ++i)
                EXPECT_EQ(e.size(i), s.embedding_shape[static_cast<size_t>(i - 1)]) << point;
            EXPECT_EQ(s.body->size() + s.head->size(), model->stages().size());
            EXPECT_EQ(s.point, model->stages()[model->resolve(point)].name);
        }
    }
}

TEST(Split, HoldsInTrainingModeToo) {
    auto model = make_cifar_resnet(8, 5, {4, 8, 16});
    model->to(test_device());
    model->train();
    const Tensor x = test::uniform_tensor({4, 3, 16, 16}, -1, 1, 5, DType::F32, test_device());
    const Tensor want = model->forward(x);  // batch statistics
    for (const std::string& point : model->split_points()) {
        const obl::Split s = split(*model, point, {3, 16, 16});
        EXPECT_TRUE(s.head->is_training());
        expect_same(s.head->forward(s.body->forward(x)), want, "train mode at " + point);
    }
}

TEST(Split, BodyAndHeadShareTheModelsParametersByName) {
    auto model = make_model("cifar_resnet20");
    const obl::Split s = split(*model, "layer2.1", {3, 32, 32});
    EXPECT_EQ(s.point, "layer2.1");
    EXPECT_EQ(s.embedding_shape, (Shape{32, 16, 16}));
    const NamedTensors all = model->named_parameters();
    NamedTensors parts = s.body->named_parameters();
    for (auto& p : s.head->named_parameters()) parts.push_back(p);
    ASSERT_EQ(parts.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(parts[i].first, all[i].first);
        EXPECT_TRUE(parts[i].second.same(all[i].second)) << all[i].first << " was copied";
    }
    EXPECT_EQ(s.head->named_parameters().front().first, "layer2.1.conv1.weight");
    EXPECT_EQ(s.head->named_parameters().back().first, "linear.bias");

    const obl::Split p = split(*model, "pre_logits", {3, 32, 32});
    EXPECT_EQ(p.point, "linear");
    EXPECT_EQ(p.embedding_shape, (Shape{64}));
    EXPECT_EQ(split(*model, "pool", {3, 32, 32}).embedding_shape, (Shape{64, 8, 8}));
}

TEST(Split, UnknownPointListsTheValidOnes) {
    auto model = make_model("cifar_resnet20");
    try {
        split(*model, "layer4.0", {3, 32, 32});
        FAIL() << "no error for an unknown split point";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("unknown split point 'layer4.0'"));
        EXPECT_THAT(e.what(), HasSubstr("layer3.2"));
        EXPECT_THAT(e.what(), HasSubstr("pre_logits"));
    }
    EXPECT_THROW(split(*model, "stem", {3, 32, 32}), Error);  // nothing before the first stage
}

// A head holding BatchNorms (split inside layer3) of an eval model: it stays in eval mode, so a
// forward pass does not move the running statistics.
TEST(Split, HeadBatchNormStaysInEvalWhenTheModelIs) {
    auto model = make_model("cifar_resnet20");
    model->to(test_device());
    model->eval();
    const obl::Split s = split(*model, "layer3.0", {3, 32, 32});
    EXPECT_FALSE(s.head->is_training());
    for (const auto& [name, m] : s.head->named_modules()) EXPECT_FALSE(m->is_training()) << name;
    std::vector<std::vector<uint8_t>> before;
    for (const auto& [name, b] : s.head->named_buffers()) before.push_back(bytes(b));
    const Tensor e = test::uniform_tensor({4, 32, 16, 16}, 0, 2, 9, DType::F32, test_device());
    s.head->forward(e);
    size_t i = 0;
    for (const auto& [name, b] : s.head->named_buffers())
        EXPECT_TRUE(bytes(b) == before[i++]) << name << " moved";
}

TEST(Split, FrozenBodyHasNoParametersAndRecordsNoGraph) {
    auto model = make_model("cifar_resnet20");
    model->to(test_device());
    model->train();
    const obl::Split s = split(*model, "layer3.0", {3, 32, 32});
    auto frozen = std::make_shared<FrozenBody>(s.body);
    EXPECT_TRUE(frozen->parameters().empty());
    EXPECT_TRUE(frozen->named_buffers().empty());
    EXPECT_TRUE(frozen->state_dict().empty());
    EXPECT_FALSE(frozen->is_training());
    EXPECT_FALSE(s.body->is_training());
    frozen->train(true);  // stays frozen
    EXPECT_FALSE(frozen->is_training());
    EXPECT_FALSE(s.body->is_training());

    std::vector<std::vector<uint8_t>> buffers;
    for (const auto& [name, b] : s.body->named_buffers()) buffers.push_back(bytes(b));
    const Tensor x = test::uniform_tensor({2, 3, 32, 32}, -1, 1, 4, DType::F32, test_device());
    const Tensor e = frozen->forward(x);
    EXPECT_FALSE(e.requires_grad());
    EXPECT_EQ(e.grad_fn(), nullptr);

    Sequential net(
        std::vector<std::pair<std::string, std::shared_ptr<Module>>>{{"", frozen}, {"", s.head}});
    EXPECT_EQ(net.named_parameters().size(), s.head->named_parameters().size());
    net.train(true);
    EXPECT_TRUE(s.head->is_training());
    EXPECT_FALSE(s.body->is_training());
    backward(sum_all(net.forward(x)));
    for (const auto& [name, p] : s.head->named_parameters())
        EXPECT_TRUE(p.grad().defined()) << name << " got no gradient";
    for (const auto& [name, p] : s.body->named_parameters())
        EXPECT_FALSE(p.grad().defined()) << name << " got a gradient through the frozen body";
    size_t i = 0;
    for (const auto& [name, b] : s.body->named_buffers())
        EXPECT_TRUE(bytes(b) == buffers[i++]) << name << " moved in a frozen body";
}

}  // namespace
}  // namespace obl
