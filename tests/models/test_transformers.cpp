// ViT and Swin (models/vit.h, models/swin.h): full-size parameter counts and torchvision names
// (built, never run), the split invariant head(body(x)) == model(x) bit for bit at every split
// point of reduced models, aliases, clone independence, the shifted-window mask, config errors.
// Numerical agreement with torchvision is tests/models/test_golden.cpp's job.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/split.h"
#include "models/swin.h"
#include "models/vit.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::test_device;
using test::uniform_tensor;
using ::testing::HasSubstr;

std::vector<uint8_t> bytes(const Tensor& t) {
    Tensor h = t.detach().cpu();
    std::vector<uint8_t> out(h.nbytes());
    if (!out.empty()) std::memcpy(out.data(), h.raw(), out.size());
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

// Every floating parameter and buffer gets seeded uniform values in [-0.5, 0.5) (+1 for norm
// weights), so that no stage is trivially zero (torchvision zeroes ViT's head).
void randomise(Module& m) {
    uint64_t seed = 1;
    for (auto& [name, t] : m.state_dict()) {
        if (t.dtype() != DType::F32) continue;
        const bool norm_weight =
            name.size() > 7 && name.rfind(".weight") == name.size() - 7 && t.dim() == 1;
        Tensor v = uniform_tensor(t.shape(), -0.5, 0.5, seed++);
        if (norm_weight) v = add_scalar(v, 1.0);
        Tensor(t).copy_(v.to(t.device()));
    }
}

VitConfig tiny_vit() {
    VitConfig c;
    c.image_size = 32, c.patch_size = 8, c.num_layers = 2, c.num_heads = 4, c.hidden_dim = 64,
    c.mlp_dim = 128, c.num_classes = 10;
    return c;
}

SwinConfig tiny_swin() {
    SwinConfig c;
    c.image_size = 36, c.patch_size = 4, c.embed_dim = 8, c.window_size = 4;
    c.depths = {2, 2, 2}, c.num_heads = {2, 2, 4};
    c.num_classes = 10;
    return c;
}

std::map<std::string, Tensor> by_name(const Module& m) {
    std::map<std::string, Tensor> out;
    for (const auto& [name, t] : m.state_dict()) out[name] = t;
    return out;
}

// ---- full-size models: counts and names (torchvision 0.14 vit_b_16 / swin_t) -----------------

TEST(Transformers, VitB16ParameterCountAndNames) {
    auto m = make_vit(VitConfig{});
    EXPECT_EQ(m->arch(), "vit_b_16");
    EXPECT_EQ(m->num_parameters(), 86567656);
    const auto sd = by_name(*m);
    EXPECT_EQ(sd.size(), 152u);  // len(torchvision.models.vit_b_16().state_dict())
    for (const char* name :
         {"class_token", "conv_proj.weight", "conv_proj.bias", "encoder.pos_embedding",
          "encoder.layers.encoder_layer_0.ln_1.weight",
          "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
          "encoder.layers.encoder_layer_0.self_attention.in_proj_bias",
          "encoder.layers.encoder_layer_0.self_attention.out_proj.weight",
          "encoder.layers.encoder_layer_0.self_attention.out_proj.bias",
          "encoder.layers.encoder_layer_0.ln_2.bias", "encoder.layers.encoder_layer_0.mlp.0.weight",
          "encoder.layers.encoder_layer_11.mlp.3.bias", "encoder.ln.weight", "encoder.ln.bias",
          "heads.head.weight", "heads.head.bias"})
        EXPECT_EQ(sd.count(name), 1u) << name;
    EXPECT_EQ(sd.at("encoder.pos_embedding").shape(), (Shape{1, 197, 768}));
    EXPECT_EQ(sd.at("encoder.layers.encoder_layer_3.self_attention.in_proj_weight").shape(),
              (Shape{2304, 768}));
    EXPECT_EQ(sd.at("heads.head.weight").shape(), (Shape{1000, 768}));
}

TEST(Transformers, SwinTParameterCountAndNames) {
    auto m = make_swin(SwinConfig{});
    EXPECT_EQ(m->arch(), "swin_t");
    EXPECT_EQ(m->num_parameters(), 28288354);
    const auto sd = by_name(*m);
    EXPECT_EQ(sd.size(), 185u);  // len(torchvision.models.swin_t().state_dict())
    for (const char* name :
         {"features.0.0.weight", "features.0.2.bias", "features.1.0.norm1.weight",
          "features.1.0.attn.relative_position_bias_table",
          "features.1.0.attn.relative_position_index", "features.1.1.attn.qkv.weight",
          "features.1.1.attn.proj.bias", "features.1.1.norm2.weight", "features.1.1.mlp.0.weight",
          "features.1.1.mlp.3.bias", "features.2.reduction.weight", "features.2.norm.weight",
          "features.5.5.mlp.3.weight", "features.6.reduction.weight", "features.7.1.mlp.3.bias",
          "norm.weight", "norm.bias", "head.weight", "head.bias"})
        EXPECT_EQ(sd.count(name), 1u) << name;
    EXPECT_EQ(sd.count("features.2.reduction.bias"), 0u);  // PatchMerging: bias=False
    EXPECT_EQ(sd.at("features.1.0.attn.relative_position_bias_table").shape(), (Shape{169, 3}));
    const Tensor index = sd.at("features.7.1.attn.relative_position_index");
    EXPECT_EQ(index.dtype(), DType::I64);
    EXPECT_EQ(index.shape(), (Shape{2401}));
    // torchvision's index: (dh + 6) * 13 + (dw + 6) for token pairs of a 7x7 window.
    const auto idx = index.to_vector<int64_t>();
    EXPECT_EQ(idx[0], 84);             // p = q = (0, 0): dh = dw = 0
    EXPECT_EQ(idx[1], 83);             // p = (0, 0), q = (0, 1): dw = -1
    EXPECT_EQ(idx[7], 71);             // q = (1, 0): dh = -1
    EXPECT_EQ(idx[48 * 49 + 0], 168);  // p = (6, 6), q = (0, 0)
    EXPECT_EQ(sd.at("head.weight").shape(), (Shape{1000, 768}));
}

// ---- the split invariant ---------------------------------------------------------------------

void check_split_invariant(Classifier& m, const Tensor& x) {
    m.eval();
    NoGradGuard no_grad;
    const std::vector<uint8_t> full = bytes(m.forward(x));
    Shape sample;
    for (int i = 1; i < x.dim(); ++i) sample.push_back(x.size(i));
    const auto points = m.split_points();
    ASSERT_EQ(points.size(), m.stages().size() - 1 + m.aliases().size());
    for (const std::string& point : points) {
        Split s = split(m, point, sample);
        Tensor e = s.body->forward(x);
        EXPECT_EQ(bytes(s.head->forward(e)), full) << m.arch() << " at " << point;
        Shape per;
        for (int i = 1; i < e.dim(); ++i) per.push_back(e.size(i));
        EXPECT_EQ(per, s.embedding_shape) << point;
    }
}

TEST(Transformers, VitSplitInvariantAtEveryPoint) {
    auto m = make_vit(tiny_vit());
    randomise(*m);
    m->to(test_device());
    check_split_invariant(*m, uniform_tensor({2, 3, 32, 32}, -1, 1, 7, DType::F32, test_device()));
}

TEST(Transformers, SwinSplitInvariantAtEveryPoint) {
    auto m = make_swin(tiny_swin());
    randomise(*m);
    m->to(test_device());
    check_split_invariant(*m, uniform_tensor({2, 3, 36, 36}, -1, 1, 8, DType::F32, test_device()));
}

TEST(Transformers, StagesAndAliases) {
    auto v = make_vit(tiny_vit());
    std::vector<std::string> names;
    for (const Stage& s : v->stages()) names.push_back(s.name + "|" + s.param_prefix);
    EXPECT_EQ(names, (std::vector<std::string>{"stem|", "block0|encoder.layers.encoder_layer_0",
                                               "block1|encoder.layers.encoder_layer_1",
                                               "norm|encoder.ln", "head|heads.head"}));
    EXPECT_EQ(v->stages()[v->resolve("pre_logits")].name, "head");
    EXPECT_EQ(v->stages()[v->resolve("last_block")].name, "block1");
    EXPECT_EQ(split(*v, "pre_logits", {3, 32, 32}).embedding_shape, (Shape{64}));
    EXPECT_EQ(split(*v, "block1", {3, 32, 32}).embedding_shape, (Shape{17, 64}));

    auto s = make_swin(tiny_swin());
    names.clear();
    for (const Stage& st : s->stages()) names.push_back(st.name + "|" + st.param_prefix);
    EXPECT_EQ(names,
              (std::vector<std::string>{"stem|features.0", "stage1.block0|features.1.0",
                                        "stage1.block1|features.1.1", "merge1|features.2",
                                        "stage2.block0|features.3.0", "stage2.block1|features.3.1",
                                        "merge2|features.4", "stage3.block0|features.5.0",
                                        "stage3.block1|features.5.1", "norm|norm", "head|head"}));
    EXPECT_EQ(s->stages()[s->resolve("pre_logits")].name, "head");
    EXPECT_EQ(s->stages()[s->resolve("last_block")].name, "stage3.block1");
    // 36 / 4 = 9 -> merge (odd, padded) -> 5 -> 3; dims 8, 16, 32.
    EXPECT_EQ(split(*s, "merge1", {3, 36, 36}).embedding_shape, (Shape{9, 9, 8}));
    EXPECT_EQ(split(*s, "stage2.block0", {3, 36, 36}).embedding_shape, (Shape{5, 5, 16}));
    EXPECT_EQ(split(*s, "norm", {3, 36, 36}).embedding_shape, (Shape{3, 3, 32}));
    EXPECT_EQ(split(*s, "pre_logits", {3, 36, 36}).embedding_shape, (Shape{32}));
}

// ---- clone, gradients, mask, errors ----------------------------------------------------------

TEST(Transformers, CloneIsIndependentAndEqual) {
    for (auto m : {make_vit(tiny_vit()), make_swin(tiny_swin())}) {
        randomise(*m);
        m->eval();
        auto c = std::shared_ptr<Module>(m->clone());
        const int64_t size = m->arch() == "vit_custom" ? 32 : 36;
        Tensor x = uniform_tensor({1, 3, size, size}, -1, 1, 9);
        NoGradGuard no_grad;
        EXPECT_EQ(bytes(c->forward(x)), bytes(m->forward(x))) << m->arch();
        const auto before = bytes(m->forward(x));
        for (auto& [name, t] : c->state_dict())
            if (t.dtype() == DType::F32) Tensor(t).fill_(0.25);
        EXPECT_EQ(bytes(m->forward(x)), before) << m->arch();
        for (const auto& [name, t] : m->state_dict())
            EXPECT_FALSE(t.same(by_name(*c).at(name))) << name;
    }
}

TEST(Transformers, EveryParameterGetsAGradient) {
    for (auto m : {make_vit(tiny_vit()), make_swin(tiny_swin())}) {
        randomise(*m);
        m->train();
        const int64_t size = m->arch() == "vit_custom" ? 32 : 36;
        Tensor x = uniform_tensor({2, 3, size, size}, -1, 1, 10);
        Tensor y = Tensor::from_vector<int64_t>({1, 7}, {2});
        backward(cross_entropy(m->forward(x), y));
        for (const auto& [name, p] : m->named_parameters()) {
            ASSERT_TRUE(p.grad().defined()) << m->arch() << " " << name;
            EXPECT_GT(sum_all(abs(p.grad())).item(), 0.0) << m->arch() << " " << name;
        }
    }
}

TEST(Transformers, ShiftedWindowMaskMatchesTorchvisionRegions) {
    // 4x4 map, window 2, shift 1: regions along each dim are [0, 2), [2, 3), [3, 4).
    Tensor m = ShiftedWindowAttention::window_mask(4, 4, 2, 1, 1);
    ASSERT_EQ(m.shape(), (Shape{4, 4, 4}));
    const auto v = m.to_vector<float>();
    auto at = [&](int w, int p, int q) { return v[static_cast<size_t>((w * 4 + p) * 4 + q)]; };
    for (int p = 0; p < 4; ++p)
        for (int q = 0; q < 4; ++q) EXPECT_EQ(at(0, p, q), 0.f);  // top-left window: one region
    // Window 1 (top-right) covers columns 2, 3: tokens (r, 2) and (r, 3) differ in region.
    EXPECT_EQ(at(1, 0, 2), 0.f);     // (0, 2) and (1, 2)
    EXPECT_EQ(at(1, 0, 1), -100.f);  // (0, 2) and (0, 3)
    // Window 3 (bottom-right): four different regions, only the diagonal is unmasked.
    for (int p = 0; p < 4; ++p)
        for (int q = 0; q < 4; ++q) EXPECT_EQ(at(3, p, q), p == q ? 0.f : -100.f);
    // A zero shift along one dim (torchvision's slices (-w, -0) and (-0, None)): one region there.
    Tensor rows = ShiftedWindowAttention::window_mask(2, 4, 2, 0, 1);
    const auto r = rows.to_vector<float>();
    EXPECT_EQ(r[(1 * 4 + 0) * 4 + 2], 0.f);  // window 1, (0, 2) vs (1, 2): same region
    EXPECT_EQ(r[(1 * 4 + 0) * 4 + 1], -100.f);
}

TEST(Transformers, ConfigErrorsNameTheValues) {
    VitConfig v = tiny_vit();
    v.image_size = 30;
    EXPECT_THAT(error_of([&] { make_vit(v); }), HasSubstr("image_size 30"));
    v = tiny_vit();
    v.num_heads = 5;
    EXPECT_THAT(error_of([&] { make_vit(v); }), HasSubstr("num_heads 5"));
    SwinConfig s = tiny_swin();
    s.num_heads = {2, 2};
    EXPECT_THAT(error_of([&] { make_swin(s); }), HasSubstr("num_heads (2)"));
    s = tiny_swin();
    s.num_heads = {3, 2, 4};
    EXPECT_THAT(error_of([&] { make_swin(s); }), HasSubstr("stage 1"));
    auto m = make_vit(tiny_vit());
    EXPECT_THAT(error_of([&] {
                    m->forward(Tensor::zeros({1, 3, 24, 24}));
                }),
                HasSubstr("(N, 3, 32, 32)"));
}

}  // namespace
}  // namespace obl
