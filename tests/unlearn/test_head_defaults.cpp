// Method defaults by head structure (unlearn/head_defaults.h): the structure walk on tiny heads
// and on the zoo's ResNet-20 cuts (counts computed by hand), the rule (linear heads: nothing;
// deep heads: the documented table), the order (the user's --set values win) and that every
// override is a valid setting of its method.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "models/split.h"
#include "nn/modules.h"
#include "nn/ops.h"
#include "unlearn/head_defaults.h"
#include "unlearn/methods.h"

namespace obl {
namespace {

std::shared_ptr<Module> pool() {
    return std::make_shared<Lambda>(
        "pool", [](const Tensor& x) { return adaptive_avg_pool2d(x, 1, 1).flatten(1); });
}

// conv 3 -> 4 (3x3, bias) + BN(4) + ReLU + pool + fc 4 -> 2.
std::shared_ptr<Sequential> tiny_conv_head() {
    Conv2dParams p;
    p.pad_h = p.pad_w = 1;
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Conv2d>(3, 4, 3, p, true, 1), std::make_shared<BatchNorm2d>(4),
        std::make_shared<ReLU>(), pool(), std::make_shared<Linear>(4, 2, true, 2)});
}

std::string value_of(const std::vector<FieldInfo>& cfg, const std::string& key) {
    for (const FieldInfo& f : cfg)
        if (f.name == key) return f.value;
    ADD_FAILURE() << "no field " << key;
    return "";
}

TEST(HeadDefaults, StructureOfTinyHeads) {
    Sequential linear({std::make_shared<Linear>(8, 3, true, 1)});
    HeadStructure s = head_structure(linear);
    EXPECT_EQ(s.parameters, 8 * 3 + 3);
    EXPECT_EQ(s.weight_tensors, 1);
    EXPECT_EQ(s.conv_kernels, 0);
    EXPECT_EQ(s.norm_layers, 0);
    EXPECT_FALSE(s.deep());
    EXPECT_EQ(s.describe(), "linear head (1 weight tensor; 27 parameters)");

    // Parameter-free layers in front of the Linear do not make it deep.
    Sequential pooled({pool(), std::make_shared<Linear>(4, 2, true, 1)});
    EXPECT_FALSE(head_structure(pooled).deep());

    auto conv = tiny_conv_head();
    s = head_structure(*conv);
    // conv 4*3*3*3 + 4, BN 4 + 4, fc 2*4 + 2
    EXPECT_EQ(s.parameters, 108 + 4 + 8 + 10);
    EXPECT_EQ(s.weight_tensors, 2);
    EXPECT_EQ(s.conv_kernels, 1);
    EXPECT_EQ(s.norm_layers, 1);
    EXPECT_TRUE(s.deep());
    EXPECT_EQ(s.describe(),
              "deep head (2 weight tensors: 1 conv kernel; 1 norm layer; 130 parameters)");

    // Only what trains counts: a conv head whose conv and BN are frozen trains like a linear one.
    (*conv)[0]->set_requires_grad(false);
    (*conv)[1]->set_requires_grad(false);
    s = head_structure(*conv);
    EXPECT_EQ(s.parameters, 10);
    EXPECT_EQ(s.weight_tensors, 1);
    EXPECT_EQ(s.norm_layers, 0);
    EXPECT_FALSE(s.deep());
}

TEST(HeadDefaults, StructureOfTheResNet20Cuts) {
    std::shared_ptr<Classifier> model = make_cifar_resnet(20, 10);
    const Split pre = split(*model, "pre_logits", {3, 32, 32});
    const HeadStructure p = head_structure(*pre.head);
    EXPECT_EQ(p.parameters, 64 * 10 + 10);
    EXPECT_FALSE(p.deep());

    const Split last = split(*model, "last_block", {3, 32, 32});
    const HeadStructure l = head_structure(*last.head);
    // layer3.2: conv1 and conv2 64x64x3x3 (no bias), bn1 and bn2 (64 + 64 each); fc 64 x 10 + 10
    EXPECT_EQ(l.parameters, 2 * 36864 + 2 * 128 + 650);
    EXPECT_EQ(l.weight_tensors, 3);
    EXPECT_EQ(l.conv_kernels, 2);
    EXPECT_EQ(l.norm_layers, 2);
    EXPECT_TRUE(l.deep());
}

TEST(HeadDefaults, LinearHeadsKeepTheMethodDefaults) {
    Sequential linear({std::make_shared<Linear>(8, 3, true, 1)});
    for (const MethodInfo& m : methods()) {
        SCOPED_TRACE(m.name);
        EXPECT_TRUE(head_default_overrides(m.name, linear).empty());
        const Overrides user{{"lr", "0.2"}};
        EXPECT_EQ(with_head_defaults(m.name, linear, user), user);
    }
}

TEST(HeadDefaults, DeepHeadsGetOneHundredthOfTheLearningRate) {
    auto conv = tiny_conv_head();
    // The rule of head_defaults.h, written out again for two methods with different defaults.
    EXPECT_EQ(head_default_overrides("neg_grad_plus", *conv), (Overrides{{"lr", "0.0005"}}));
    EXPECT_EQ(head_default_overrides("neg_grad", *conv), (Overrides{{"lr", "0.0001"}}));
    // A fresh head keeps its from-scratch learning rate; unknown names get nothing.
    EXPECT_TRUE(head_default_overrides("retrain_head", *conv).empty());
    EXPECT_TRUE(head_default_overrides("no_such_method", *conv).empty());
    // Every other method: exactly its default lr / 100, nothing else.
    for (const MethodInfo& m : methods()) {
        if (m.fresh_head) continue;
        SCOPED_TRACE(m.name);
        const Overrides o = head_default_overrides(m.name, *conv);
        ASSERT_EQ(o.size(), 1u);
        EXPECT_EQ(o[0].first, "lr");
        EXPECT_NEAR(std::stod(o[0].second), std::stod(value_of(m.resolve({}), "lr")) / 100, 1e-12);
    }

    // Applied before the user's values: the user's lr wins.
    const MethodInfo& ngp = find_method("neg_grad_plus");
    EXPECT_EQ(
        value_of(ngp.resolve(with_head_defaults("neg_grad_plus", *conv, {{"lr", "0.2"}})), "lr"),
        "0.2");
    EXPECT_EQ(value_of(ngp.resolve(with_head_defaults("neg_grad_plus", *conv, {})), "lr"),
              "0.0005");
}

TEST(HeadDefaults, EveryOverrideIsAValidSettingOfItsMethod) {
    auto conv = tiny_conv_head();
    for (const MethodInfo& m : methods()) {
        SCOPED_TRACE(m.name);
        const Overrides o = head_default_overrides(m.name, *conv);
        EXPECT_NO_THROW(m.resolve(o));
        // Each key at most once, so the table reads unambiguously.
        for (size_t i = 0; i < o.size(); ++i)
            for (size_t j = i + 1; j < o.size(); ++j) EXPECT_NE(o[i].first, o[j].first);
    }
}

}  // namespace
}  // namespace obl
