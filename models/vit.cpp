// Vision Transformer (see vit.h); mirrors torchvision 0.14 vision_transformer.py
// (VisionTransformer._process_input / forward, Encoder, EncoderBlock, MLPBlock) and
// torch.nn.MultiheadAttention's self-attention path.
#include "models/vit.h"

#include <cmath>
#include <sstream>
#include <string>

#include "nn/init.h"
#include "nn/modules/activation.h"
#include "nn/modules/conv2d.h"
#include "nn/modules/sequential.h"
#include "nn/ops.h"

namespace obl {
namespace {

// Xavier/Glorot uniform, torch.nn.init.xavier_uniform_: U(-b, b), b = sqrt(6 / (fan_in + fan_out))
// for a 2-D weight (fan_out, fan_in).
Tensor xavier_uniform(const Shape& shape, uint64_t seed, uint64_t offset = 0) {
    const double b = std::sqrt(6.0 / static_cast<double>(shape[0] + shape[1]));
    return init::uniform(shape, -b, b, seed, offset);
}

// The torchvision MLP initialisation: xavier weights, N(0, 1e-6) biases.
void init_mlp_linear(Linear& l, uint64_t seed) {
    Tensor(l.weight()).copy_(xavier_uniform(l.weight().shape(), seed));
    Tensor(l.bias()).copy_(randn(l.bias().shape(), 0.0, 1e-6, seed, l.weight().numel()));
}

// Holds encoder.pos_embedding (1, T, D): x + pos_embedding, the first line of Encoder.forward.
class VitPosEmbedding : public Module {
   public:
    VitPosEmbedding(int64_t seq_length, int64_t dim, uint64_t seed) {
        pos_embedding =
            register_parameter("pos_embedding", randn(Shape{1, seq_length, dim}, 0.0, 0.02, seed));
    }
    Tensor forward(const Tensor& x) override {
        return add(x, broadcast_to(pos_embedding, x.shape()));
    }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<VitPosEmbedding>(pos_embedding.size(1), pos_embedding.size(2), 0);
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "VitPosEmbedding"; }

    Tensor pos_embedding;
};

// Stem: patchify conv, class token, position embedding (VisionTransformer._process_input, the
// class-token concat of forward, and the input half of Encoder.forward). Its names: class_token,
// conv_proj.{weight,bias}, encoder.pos_embedding.
class VitStem : public Module {
   public:
    VitStem(int64_t image_size, int64_t patch_size, int64_t dim, uint64_t seed)
        : image_size_(image_size), patch_(patch_size), dim_(dim), seed_(seed) {
        const int64_t grid = image_size / patch_size;
        class_token_ = register_parameter("class_token", Tensor::zeros(Shape{1, 1, dim}));
        conv_proj_ = register_module(
            "conv_proj", std::make_shared<Conv2d>(
                             3, dim, patch_size, Conv2dParams{patch_size, patch_size}, true, seed));
        // torchvision: trunc_normal_(std = sqrt(1 / fan_in)) (truncated at +-2, i.e. > 10 std
        // for any real patch size, so a plain normal), bias zero.
        const Shape w = conv_proj_->weight().shape();
        Tensor(conv_proj_->weight()).copy_(randn(w, 0.0, std::sqrt(1.0 / init::fan_in(w)), seed));
        Tensor(conv_proj_->bias()).fill_(0.0);
        encoder_ = register_module(
            "encoder", std::make_shared<VitPosEmbedding>(grid * grid + 1, dim, seed + 1));
    }

    Tensor forward(const Tensor& x) override {
        OBL_CHECK(
            x.dim() == 4 && x.size(1) == 3 && x.size(2) == image_size_ && x.size(3) == image_size_,
            "ViT stem: expected input (N, 3, ", image_size_, ", ", image_size_, "), got ",
            x.describe());
        const int64_t n = x.size(0), grid = image_size_ / patch_;
        // (N, 3, S, S) -> (N, D, S/P, S/P) -> (N, D, T0) -> (N, T0, D)
        Tensor t = permute((*conv_proj_)(x).reshape(Shape{n, dim_, grid * grid}), {0, 2, 1});
        Tensor cls = broadcast_to(class_token_, Shape{n, 1, dim_});
        return (*encoder_)(concat({cls, t}, 1));
    }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<VitStem>(image_size_, patch_, dim_, seed_);
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "VitStem"; }

   private:
    int64_t image_size_, patch_, dim_;
    uint64_t seed_;
    Tensor class_token_;
    std::shared_ptr<Conv2d> conv_proj_;
    std::shared_ptr<VitPosEmbedding> encoder_;
};

// encoder.ln, then the class token: (N, T, D) -> (N, D).
class VitFinalNorm : public Module {
   public:
    explicit VitFinalNorm(int64_t dim) : dim_(dim) {
        ln_ = register_module("", std::make_shared<LayerNorm>(dim, 1e-6));
    }
    Tensor forward(const Tensor& x) override {
        OBL_CHECK(x.dim() == 3, "ViT norm: expected (N, T, D), got ", x.describe());
        return slice((*ln_)(x), 1, 0, 1).reshape(Shape{x.size(0), dim_});
    }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<VitFinalNorm>(dim_);
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "VitFinalNorm"; }

   private:
    int64_t dim_;
    std::shared_ptr<LayerNorm> ln_;
};

}  // namespace

// ---- MultiheadSelfAttention ------------------------------------------------------------------

MultiheadSelfAttention::MultiheadSelfAttention(int64_t dim, int64_t num_heads, uint64_t seed)
    : dim_(dim), heads_(num_heads), seed_(seed) {
    OBL_CHECK(dim > 0 && num_heads > 0 && dim % num_heads == 0, "MultiheadSelfAttention: dim ", dim,
              " must be a positive multiple of num_heads ", num_heads);
    // nn.MultiheadAttention._reset_parameters: xavier in_proj, zero biases.
    in_proj_weight_ =
        register_parameter("in_proj_weight", xavier_uniform(Shape{3 * dim, dim}, seed));
    in_proj_bias_ = register_parameter("in_proj_bias", Tensor::zeros(Shape{3 * dim}));
    out_proj_ = register_module("out_proj", std::make_shared<Linear>(dim, dim, true, seed + 1));
    Tensor(out_proj_->bias()).fill_(0.0);
}

Tensor MultiheadSelfAttention::forward(const Tensor& x) {
    OBL_CHECK(x.dim() == 3 && x.size(2) == dim_, repr(), ": expected (N, T, ", dim_, "), got ",
              x.describe());
    const int64_t n = x.size(0), t = x.size(1), hd = dim_ / heads_;
    // (N, T, 3D) -> (N, T, 3, H, hd) -> (3, N, H, T, hd)
    Tensor qkv =
        permute(linear(x, in_proj_weight_, in_proj_bias_).reshape(Shape{n, t, 3, heads_, hd}),
                {2, 0, 3, 1, 4});
    const Shape per{n * heads_, t, hd};
    Tensor q = qkv.slice0(0, 1).reshape(per);
    Tensor k = qkv.slice0(1, 2).reshape(per);
    Tensor v = qkv.slice0(2, 3).reshape(per);
    // softmax(q k^T / sqrt(hd)) v, per (batch, head)
    Tensor attn =
        softmax(bmm(mul_scalar(q, 1.0 / std::sqrt(static_cast<double>(hd))), k, false, true));
    Tensor o = permute(bmm(attn, v).reshape(Shape{n, heads_, t, hd}), {0, 2, 1, 3});
    return (*out_proj_)(o.reshape(Shape{n, t, dim_}));
}

std::unique_ptr<Module> MultiheadSelfAttention::clone() const {
    auto c = std::make_unique<MultiheadSelfAttention>(dim_, heads_, seed_);
    c->copy_state_from(*this);
    return c;
}

std::string MultiheadSelfAttention::repr() const {
    std::ostringstream os;
    os << "MultiheadSelfAttention(dim=" << dim_ << ", heads=" << heads_ << ")";
    return os.str();
}

// ---- VitEncoderBlock ---------------------------------------------------------------------------

VitEncoderBlock::VitEncoderBlock(int64_t hidden_dim, int64_t num_heads, int64_t mlp_dim,
                                 uint64_t seed)
    : hidden_(hidden_dim), heads_(num_heads), mlp_(mlp_dim), seed_(seed) {
    ln_1_ = register_module("ln_1", std::make_shared<LayerNorm>(hidden_dim, 1e-6));
    attn_ = register_module("self_attention",
                            std::make_shared<MultiheadSelfAttention>(hidden_dim, num_heads, seed));
    ln_2_ = register_module("ln_2", std::make_shared<LayerNorm>(hidden_dim, 1e-6));
    // MLPBlock = MLP(D, [mlp_dim, D]): 0 Linear, 1 GELU, 2 Dropout, 3 Linear, 4 Dropout.
    auto mlp = std::make_shared<Sequential>();
    fc1_ = mlp->push_back("0", std::make_shared<Linear>(hidden_dim, mlp_dim, true, seed + 2));
    mlp->push_back("1", std::make_shared<GELU>());
    fc2_ = mlp->push_back("3", std::make_shared<Linear>(mlp_dim, hidden_dim, true, seed + 3));
    register_module("mlp", mlp);
    init_mlp_linear(*fc1_, seed + 2);
    init_mlp_linear(*fc2_, seed + 3);
}

Tensor VitEncoderBlock::forward(const Tensor& x) {
    OBL_CHECK(x.dim() == 3, "ViT encoder block: expected (N, T, D), got ", x.describe());
    Tensor h = add((*attn_)((*ln_1_)(x)), x);
    return add(h, (*fc2_)(gelu((*fc1_)((*ln_2_)(h)))));
}

std::unique_ptr<Module> VitEncoderBlock::clone() const {
    auto c = std::make_unique<VitEncoderBlock>(hidden_, heads_, mlp_, seed_);
    c->copy_state_from(*this);
    return c;
}

// ---- make_vit ----------------------------------------------------------------------------------

std::shared_ptr<Classifier> make_vit(const VitConfig& c) {
    OBL_CHECK(c.image_size > 0 && c.patch_size > 0 && c.image_size % c.patch_size == 0,
              "make_vit: image_size ", c.image_size, " must be a positive multiple of patch_size ",
              c.patch_size);
    OBL_CHECK(c.num_layers >= 1 && c.num_heads >= 1 && c.hidden_dim % c.num_heads == 0 &&
                  c.mlp_dim >= 1 && c.num_classes >= 1,
              "make_vit: invalid config (num_layers ", c.num_layers, ", num_heads ", c.num_heads,
              ", hidden_dim ", c.hidden_dim, ", mlp_dim ", c.mlp_dim, ", num_classes ",
              c.num_classes, ")");
    std::vector<Stage> stages;
    stages.push_back(
        {"stem", "", std::make_shared<VitStem>(c.image_size, c.patch_size, c.hidden_dim, 1000)});
    for (int64_t i = 0; i < c.num_layers; ++i) {
        const std::string idx = std::to_string(i);
        stages.push_back({"block" + idx, "encoder.layers.encoder_layer_" + idx,
                          std::make_shared<VitEncoderBlock>(c.hidden_dim, c.num_heads, c.mlp_dim,
                                                            2000 + 16 * static_cast<uint64_t>(i))});
    }
    stages.push_back({"norm", "encoder.ln", std::make_shared<VitFinalNorm>(c.hidden_dim)});
    // torchvision zeroes the head (heads.head.weight and .bias).
    auto head = std::make_shared<Linear>(c.hidden_dim, c.num_classes, true, 3000);
    Tensor(head->weight()).fill_(0.0);
    Tensor(head->bias()).fill_(0.0);
    stages.push_back({"head", "heads.head", head});
    const std::map<std::string, std::string> aliases{
        {"pre_logits", "head"}, {"last_block", "block" + std::to_string(c.num_layers - 1)}};
    const bool b16 = c.patch_size == 16 && c.num_layers == 12 && c.num_heads == 12 &&
                     c.hidden_dim == 768 && c.mlp_dim == 3072;
    return std::make_shared<Classifier>(b16 ? "vit_b_16" : "vit_custom", std::move(stages), aliases,
                                        c.num_classes);
}

}  // namespace obl
