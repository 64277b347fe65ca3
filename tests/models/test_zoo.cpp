// The model zoo and the ResNets (models/zoo.h, models/resnet.h): the table, parameter counts at
// torchvision's sizes, torchvision / akamaster parameter names, stage lists and aliases, the
// option-A shortcut on hand-computed values, deterministic init, clone independence, and the
// strict-load failures (missing key, unexpected key, shape mismatch) on a real model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "models/small_cnn.h"
#include "models/split.h"
#include "models/zoo.h"
#include "nn/io/safetensors.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no obl::Error thrown)";
}

std::vector<std::string> stage_names(const Classifier& m) {
    std::vector<std::string> out;
    for (const Stage& s : m.stages()) out.push_back(s.name);
    return out;
}

std::vector<std::string> keys(const StateDict& sd) {
    std::vector<std::string> out;
    for (const auto& [k, v] : sd) out.push_back(k);
    return out;
}

// A temporary file removed at scope exit.
struct TempFile {
    explicit TempFile(const std::string& name)
        : path((std::filesystem::temp_directory_path() /
                ("obl_test_zoo_" + std::to_string(::getpid()) + "_" + name))
                   .string()) {}
    ~TempFile() { std::remove(path.c_str()); }
    std::string path;
};

// ---- the table --------------------------------------------------------------------------------

TEST(Zoo, TableListsTheArchitecturesInOrder) {
    std::vector<std::string> names;
    for (const ZooEntry& e : zoo()) names.push_back(e.name);
    EXPECT_THAT(names, ElementsAre("cifar_resnet20", "cifar_resnet32", "cifar_resnet44",
                                   "cifar_resnet56", "resnet18", "resnet50", "resnet18_cifar",
                                   "resnet50_cifar", "vit_b_16", "swin_t", "fmnist_cnn"));
    for (const ZooEntry& e : zoo()) {
        SCOPED_TRACE(e.name);
        EXPECT_FALSE(e.description.empty());
        EXPECT_TRUE(e.build);
        if (e.name == "fmnist_cnn") {
            // Grayscale 28x28, Fashion-MNIST's own statistics (oblivio data info).
            EXPECT_EQ(e.input_shape(), (Shape{1, 28, 28}));
            EXPECT_THAT(e.mean, ElementsAre(0.2860f));
            EXPECT_THAT(e.std, ElementsAre(0.3530f));
            continue;
        }
        EXPECT_EQ(e.in_channels, 3);
        EXPECT_EQ(e.input_size, e.name.find("cifar") != std::string::npos ? 32 : 224);
        // ImageNet statistics for every RGB entry (shared models' README; torchvision).
        EXPECT_THAT(e.mean, ElementsAre(0.485f, 0.456f, 0.406f));
        EXPECT_THAT(e.std, ElementsAre(0.229f, 0.224f, 0.225f));
    }
    EXPECT_EQ(zoo_entry("cifar_resnet32").default_num_classes, 10);
    EXPECT_EQ(zoo_entry("resnet18_cifar").default_num_classes, 100);
    EXPECT_EQ(zoo_entry("resnet50").default_num_classes, 1000);
}

TEST(Zoo, UnknownNameListsTheValidOnes) {
    EXPECT_THAT(error_of([] { zoo_entry("resnet19"); }),
                AllOf(HasSubstr("unknown model 'resnet19'"), HasSubstr("cifar_resnet20"),
                      HasSubstr("swin_t")));
}

TEST(Zoo, DefaultSplitIsAValidPoint) {
    for (const char* name : {"cifar_resnet20", "resnet18_cifar"}) {
        auto m = make_model(name);
        EXPECT_FALSE(m->is_training());
        EXPECT_THAT(m->split_points(), Contains(zoo_entry(name).default_split)) << name;
        EXPECT_EQ(m->stages()[m->resolve(zoo_entry(name).default_split)].name,
                  name == std::string("cifar_resnet20") ? "linear" : "fc");
    }
}

// ---- parameter counts ---------------------------------------------------------------------------

TEST(Zoo, ResNetParameterCountsMatchTorchvision) {
    // torchvision 0.14 ResNet18_Weights / ResNet50_Weights meta "num_params".
    EXPECT_EQ(make_model("resnet18", 1000)->num_parameters(), 11689512);
    EXPECT_EQ(make_model("resnet50", 1000)->num_parameters(), 25557032);
}

TEST(Zoo, CifarResNetParameterCounts) {
    // resnet20: the shared checkpoint's README (269,722); the others counted from akamaster's
    // resnet.py (resnet32 matches the shared resnet32 checkpoint tensor by tensor).
    EXPECT_EQ(make_model("cifar_resnet20")->num_parameters(), 269722);
    EXPECT_EQ(make_model("cifar_resnet32")->num_parameters(), 464154);
    EXPECT_EQ(make_model("cifar_resnet44")->num_parameters(), 658586);
    EXPECT_EQ(make_model("cifar_resnet56")->num_parameters(), 853018);
}

TEST(Zoo, CifarStemResNetParameterCounts) {
    // conv1 3x3 instead of 7x7: 64 * 3 * (49 - 9) = 7,680 fewer parameters than torchvision's.
    EXPECT_EQ(make_model("resnet18_cifar", 1000)->num_parameters(), 11689512 - 7680);
    EXPECT_EQ(make_model("resnet50_cifar", 1000)->num_parameters(), 25557032 - 7680);
}

// ---- names and stages ---------------------------------------------------------------------------

TEST(ResNet, Resnet18NamesFollowTorchvision) {
    auto m = make_model("resnet18", 1000);
    EXPECT_EQ(m->arch(), "resnet18");
    const StateDict sd = m->state_dict();
    // torchvision resnet18().state_dict() has 122 entries (20 BatchNorms x 5, 21 conv/fc ...).
    EXPECT_EQ(sd.size(), 122u);
    const std::vector<std::string> k = keys(sd);
    for (const char* name :
         {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
          "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.1.bn2.running_var",
          "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
          "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight", "fc.weight", "fc.bias"})
        EXPECT_THAT(k, Contains(name));
    EXPECT_THAT(k, Not(Contains("layer1.0.downsample.0.weight")));
    EXPECT_EQ(sd.at("conv1.weight").shape(), (Shape{64, 3, 7, 7}));
    EXPECT_EQ(sd.at("layer2.0.downsample.0.weight").shape(), (Shape{128, 64, 1, 1}));
    EXPECT_EQ(sd.at("fc.weight").shape(), (Shape{1000, 512}));
    EXPECT_THAT(stage_names(*m),
                ElementsAre("stem", "layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0",
                            "layer3.1", "layer4.0", "layer4.1", "pool", "fc"));
    EXPECT_THAT(m->split_points(),
                ElementsAre("layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0", "layer3.1",
                            "layer4.0", "layer4.1", "pool", "fc", "last_block", "pre_logits"));
    EXPECT_EQ(m->stages()[m->resolve("last_block")].name, "layer4.1");
    EXPECT_EQ(m->stages()[m->resolve("pre_logits")].name, "fc");
    EXPECT_EQ(m->stages()[0].param_prefix, "");
    EXPECT_EQ(m->stages()[1].param_prefix, "layer1.0");
    EXPECT_EQ(m->stages().back().param_prefix, "fc");
}

TEST(ResNet, Resnet50BottleneckNamesAndShapes) {
    auto m = make_model("resnet50", 1000);
    EXPECT_EQ(m->arch(), "resnet50");
    const StateDict sd = m->state_dict();
    EXPECT_EQ(sd.size(), 320u);  // torchvision resnet50().state_dict()
    EXPECT_EQ(sd.at("layer1.0.conv1.weight").shape(), (Shape{64, 64, 1, 1}));
    EXPECT_EQ(sd.at("layer1.0.conv3.weight").shape(), (Shape{256, 64, 1, 1}));
    EXPECT_EQ(sd.at("layer1.0.downsample.0.weight").shape(), (Shape{256, 64, 1, 1}));
    // v1.5: the stride sits on conv2 (3x3); downsample strides too.
    EXPECT_EQ(sd.at("layer2.0.conv2.weight").shape(), (Shape{128, 128, 3, 3}));
    EXPECT_EQ(sd.at("layer4.2.bn3.running_var").shape(), (Shape{2048}));
    EXPECT_EQ(sd.at("fc.weight").shape(), (Shape{1000, 2048}));
    EXPECT_EQ(sd.count("layer1.1.downsample.0.weight"), 0u);
    EXPECT_EQ(m->stages().size(), 1u + 16u + 2u);
    EXPECT_EQ(m->stages()[m->resolve("last_block")].name, "layer4.2");
}

TEST(ResNet, CifarResNet20NamesFollowAkamaster) {
    auto m = make_model("cifar_resnet20");
    EXPECT_EQ(m->arch(), "cifar_resnet20");
    const StateDict sd = m->state_dict();
    // The shared checkpoint has 97 tensors; we add num_batches_tracked for its 19 BatchNorms.
    EXPECT_EQ(sd.size(), 97u + 19u);
    EXPECT_EQ(sd.at("conv1.weight").shape(), (Shape{16, 3, 3, 3}));
    EXPECT_EQ(sd.at("layer2.0.conv1.weight").shape(), (Shape{32, 16, 3, 3}));
    EXPECT_EQ(sd.at("layer3.2.bn2.running_mean").shape(), (Shape{64}));
    EXPECT_EQ(sd.at("linear.weight").shape(), (Shape{10, 64}));
    for (const auto& [name, t] : sd) EXPECT_THAT(name, Not(HasSubstr("downsample")));
    EXPECT_THAT(stage_names(*m),
                ElementsAre("stem", "layer1.0", "layer1.1", "layer1.2", "layer2.0", "layer2.1",
                            "layer2.2", "layer3.0", "layer3.1", "layer3.2", "pool", "linear"));
    EXPECT_EQ(m->stages()[m->resolve("pre_logits")].name, "linear");
    EXPECT_EQ(m->stages()[m->resolve("last_block")].name, "layer3.2");
}

TEST(ResNet, ArchNamesAndReducedConfigs) {
    ResNetConfig c;
    c.widths = {8, 16, 32, 64};
    c.stem_width = 8;
    c.num_classes = 5;
    EXPECT_EQ(make_resnet(c)->arch(), "resnet_custom");
    c.cifar_stem = true;
    auto m = make_resnet(c);
    EXPECT_EQ(m->arch(), "resnet_custom_cifar");
    EXPECT_EQ(m->num_classes(), 5);
    NoGradGuard no_grad;
    m->eval();
    EXPECT_EQ(m->forward(test::uniform_tensor({2, 3, 16, 16}, -1, 1, 3)).shape(), (Shape{2, 5}));
    EXPECT_EQ(make_cifar_resnet(8, 3, {4, 8})->arch(), "cifar_resnet8_custom");
    EXPECT_EQ(make_cifar_resnet(8, 3, {4, 8})->stages().size(), 1u + 2u + 2u);
}

TEST(ResNet, ConfigErrors) {
    EXPECT_THAT(error_of([] { make_cifar_resnet(21); }), HasSubstr("6n + 2"));
    EXPECT_THAT(error_of([] {
                    make_cifar_resnet(20, 10, {16, 8, 64});
                }),
                HasSubstr("planes (8) must be >= in_planes (16)"));
    ResNetConfig c;
    c.widths = {64, 128};
    EXPECT_THAT(error_of([&] { make_resnet(c); }), HasSubstr("same non-zero length"));
    c = ResNetConfig{};
    c.layers = {2, 0, 2, 2};
    EXPECT_THAT(error_of([&] { make_resnet(c); }), HasSubstr("layers must be >= 1"));
}

// ---- forward values -----------------------------------------------------------------------------

// Zero convolutions make the residual branch bn2(0) = 0 (fresh BN in eval: mean 0, var 1, weight
// 1, bias 0), so the block returns relu(shortcut(x)): x[:, :, ::2, ::2] with (planes - in) / 2
// zero channels on each side.
TEST(ResNet, OptionAShortcutSubsamplesAndZeroPadsChannels) {
    CifarBasicBlock block(2, 6, 2);
    {
        NoGradGuard no_grad;
        for (auto& [name, p] : block.named_parameters())
            if (p.dim() == 4) p.fill_(0.0);
    }
    block.eval();
    std::vector<float> xv(2 * 4 * 4);
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<float>(i) - 10.f;
    const Tensor x = Tensor::from_vector(xv, {1, 2, 4, 4});
    const Tensor y = block.forward(x);
    ASSERT_EQ(y.shape(), (Shape{1, 6, 2, 2}));
    std::vector<float> want(6 * 4, 0.f);
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j)
                want[static_cast<size_t>(((c + 2) * 2 + i) * 2 + j)] =
                    std::max(0.f, xv[static_cast<size_t>((c * 4 + 2 * i) * 4 + 2 * j)]);
    EXPECT_EQ(y.to_vector<float>(), want);
    EXPECT_TRUE(block.named_parameters().size() == 6u);  // conv1, bn1 (2), conv2, bn2 (2)
}

// Identity shortcut with the same zero trick: y = relu(x).
TEST(ResNet, BasicBlockIdentityShortcut) {
    BasicBlock block(3, 3, 1);
    {
        NoGradGuard no_grad;
        for (auto& [name, p] : block.named_parameters())
            if (p.dim() == 4) p.fill_(0.0);
    }
    block.eval();
    const Tensor x = test::uniform_tensor({2, 3, 5, 5}, -1, 1, 7);
    EXPECT_EQ(block.forward(x).to_vector<float>(), relu(x).to_vector<float>());
}

// ---- init, clone --------------------------------------------------------------------------------

TEST(ResNet, InitIsDeterministicWithTorchvisionScales) {
    auto a = make_model("resnet18", 10), b = make_model("resnet18", 10);
    for (const auto& [name, t] : a->state_dict())
        EXPECT_EQ(t.to_vector<double>(), b->state_dict().at(name).to_vector<double>()) << name;
    // kaiming_normal_(fan_out, relu): std = sqrt(2 / (512 * 9)) for layer4 convs.
    const std::vector<double> w = a->state_dict().at("layer4.1.conv2.weight").to_vector<double>();
    double s2 = 0;
    for (double v : w) s2 += v * v;
    EXPECT_NEAR(std::sqrt(s2 / static_cast<double>(w.size())), std::sqrt(2.0 / (512 * 9)),
                0.01 * std::sqrt(2.0 / (512 * 9)));
    EXPECT_EQ(a->state_dict().at("layer1.0.bn1.weight").to_vector<float>(),
              std::vector<float>(64, 1.f));
    // Different tensors draw from different streams.
    EXPECT_NE(a->state_dict().at("layer1.0.conv1.weight").to_vector<float>(),
              a->state_dict().at("layer1.0.conv2.weight").to_vector<float>());
}

TEST(ResNet, CloneIsIndependent) {
    auto m = make_cifar_resnet(8, 4, {4, 8, 16});
    m->eval();
    auto c = m->clone();
    EXPECT_FALSE(c->is_training());
    const Tensor x = test::uniform_tensor({2, 3, 8, 8}, -1, 1, 11);
    NoGradGuard no_grad;
    EXPECT_EQ(m->forward(x).to_vector<float>(), c->forward(x).to_vector<float>());
    c->state_dict().at("layer2.0.conv1.weight").fill_(0.5);
    EXPECT_NE(m->state_dict().at("layer2.0.conv1.weight").to_vector<float>()[0], 0.5f);
    EXPECT_NE(m->forward(x).to_vector<float>(), c->forward(x).to_vector<float>());
    auto* cc = dynamic_cast<Classifier*>(c.get());
    ASSERT_NE(cc, nullptr);
    EXPECT_EQ(stage_names(*cc), stage_names(*m));
}

// ---- the small grayscale CNN --------------------------------------------------------------------

TEST(SmallCnn, FmnistCnnStagesNamesAndParameterCount) {
    auto m = make_model("fmnist_cnn");
    EXPECT_EQ(m->arch(), "fmnist_cnn");
    EXPECT_EQ(m->num_classes(), 10);
    // conv 1*32*9 + bn 2*32, conv 32*64*9 + bn 2*64, conv 64*128*9 + bn 2*128, fc 128*10 + 10.
    EXPECT_EQ(m->num_parameters(), 288 + 64 + 18432 + 128 + 73728 + 256 + 1290);
    EXPECT_THAT(stage_names(*m), ElementsAre("block1", "block2", "block3", "pool", "fc"));
    EXPECT_EQ(m->stages()[m->resolve("pre_logits")].name, "fc");
    EXPECT_EQ(m->stages()[m->resolve("last_block")].name, "block3");
    const StateDict sd = m->state_dict();
    EXPECT_EQ(sd.size(), 3u * 6u + 2u);  // conv.weight + 5 BatchNorm tensors per block, fc
    EXPECT_EQ(sd.at("block1.conv.weight").shape(), (Shape{32, 1, 3, 3}));
    EXPECT_EQ(sd.at("block3.bn.running_var").shape(), (Shape{128}));
    EXPECT_EQ(sd.at("fc.weight").shape(), (Shape{10, 128}));
    EXPECT_EQ(make_small_cnn(10, 3)->arch(), "small_cnn_custom");
    EXPECT_THAT(error_of([] { make_small_cnn(0); }), HasSubstr("num_classes"));
}

TEST(SmallCnn, ShapesAndTheSplitInvariantAtEveryPoint) {
    auto m = make_model("fmnist_cnn", 10);
    const Tensor x = test::uniform_tensor({2, 1, 28, 28}, -1, 1, 5);
    NoGradGuard no_grad;
    const Tensor y = m->forward(x);
    EXPECT_EQ(y.shape(), (Shape{2, 10}));
    for (const std::string& point : m->split_points()) {
        SCOPED_TRACE(point);
        const Split s = split(*m, point, zoo_entry("fmnist_cnn").input_shape());
        EXPECT_EQ(s.head->forward(s.body->forward(x)).to_vector<float>(), y.to_vector<float>());
    }
    EXPECT_EQ(split(*m, "block2", {1, 28, 28}).embedding_shape, (Shape{32, 14, 14}));
    EXPECT_EQ(split(*m, "block3", {1, 28, 28}).embedding_shape, (Shape{64, 7, 7}));
    EXPECT_EQ(split(*m, "pool", {1, 28, 28}).embedding_shape, (Shape{128, 7, 7}));
    EXPECT_EQ(split(*m, "pre_logits", {1, 28, 28}).embedding_shape, (Shape{128}));
    // A clone is independent.
    auto c = m->clone();
    c->state_dict().at("block2.conv.weight").fill_(0.25);
    EXPECT_NE(m->state_dict().at("block2.conv.weight").to_vector<float>()[0], 0.25f);
}

// ---- strict loading -----------------------------------------------------------------------------

TEST(Zoo, StrictLoadFailuresOnARealModel) {
    auto m = make_model("cifar_resnet20");
    const StateDict good = m->state_dict();

    StateDict missing = good;
    missing.erase("layer2.1.bn1.running_var");
    EXPECT_THAT(error_of([&] { m->load_state_dict(missing); }),
                AllOf(HasSubstr("missing"), HasSubstr("layer2.1.bn1.running_var")));

    StateDict unexpected = good;
    unexpected["layer2.0.downsample.0.weight"] = Tensor::zeros({32, 16, 1, 1});
    EXPECT_THAT(error_of([&] { m->load_state_dict(unexpected); }),
                AllOf(HasSubstr("unexpected"), HasSubstr("layer2.0.downsample.0.weight")));

    StateDict mismatch = good;
    mismatch["linear.weight"] = Tensor::zeros({100, 64});
    EXPECT_THAT(error_of([&] { m->load_state_dict(mismatch); }),
                AllOf(HasSubstr("linear.weight"), HasSubstr("100, 64"), HasSubstr("10, 64")));
}

TEST(Zoo, LoadZooModelChecksMetadataAndLoadsStrictly) {
    auto src = make_model("cifar_resnet20");
    StateDict sd = src->state_dict();
    // Like the shared akamaster checkpoints: no num_batches_tracked (PyTorch's rule: taken as 0).
    for (auto it = sd.begin(); it != sd.end();)
        it = it->first.find("num_batches_tracked") != std::string::npos ? sd.erase(it) : ++it;
    TempFile f("r20.safetensors");
    write_safetensors(f.path, sd, {{"arch", "cifar_resnet20"}, {"num_classes", "10"}});

    const LoadedModel loaded = load_zoo_model(f.path, "cifar_resnet20");
    EXPECT_EQ(loaded.entry->name, "cifar_resnet20");
    EXPECT_FALSE(loaded.model->is_training());
    EXPECT_EQ(loaded.metadata.at("arch"), "cifar_resnet20");
    for (const auto& [name, t] : src->state_dict())
        EXPECT_EQ(loaded.model->state_dict().at(name).to_vector<double>(), t.to_vector<double>())
            << name;

    EXPECT_THAT(error_of([&] { load_zoo_model(f.path, "cifar_resnet32"); }),
                AllOf(HasSubstr("'cifar_resnet20'"), HasSubstr("'cifar_resnet32'")));
    EXPECT_THAT(error_of([&] { load_zoo_model(f.path, "nope"); }),
                HasSubstr("unknown model 'nope'"));

    TempFile g("r20_k100.safetensors");  // metadata says 100 classes, the tensors say 10
    write_safetensors(g.path, sd, {{"arch", "cifar_resnet20"}, {"num_classes", "100"}});
    EXPECT_THAT(error_of([&] { load_zoo_model(g.path, "cifar_resnet20"); }),
                AllOf(HasSubstr(g.path), HasSubstr("linear.weight")));

    TempFile h("r20_noarch.safetensors");
    write_safetensors(h.path, sd, {{"num_classes", "10"}});
    EXPECT_THAT(error_of([&] { load_zoo_model(h.path, "cifar_resnet20"); }),
                HasSubstr("no 'arch'"));

    sd.erase("layer1.0.conv1.weight");
    TempFile k("r20_missing.safetensors");
    write_safetensors(k.path, sd, {{"arch", "cifar_resnet20"}, {"num_classes", "10"}});
    EXPECT_THAT(error_of([&] { load_zoo_model(k.path, "cifar_resnet20"); }),
                HasSubstr("layer1.0.conv1.weight"));
}

}  // namespace
}  // namespace obl
