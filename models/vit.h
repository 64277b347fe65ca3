// Vision Transformer (ViT) as torchvision's VisionTransformer, vit_b_16 by default
// (torchvision 0.14, torchvision/models/vision_transformer.py; Dosovitskiy et al. 2021,
// https://arxiv.org/abs/2010.11929).
//
//   stem       x (N, 3, S, S) -> conv_proj (P x P, stride P) -> (N, D, S/P, S/P) -> (N, T0, D),
//              T0 = (S/P)^2 -> [class_token ; x] (N, T, D), T = T0 + 1 -> + encoder.pos_embedding
//   block i    x = x + MHA(ln_1(x));  x = x + mlp.3(GELU(mlp.0(ln_2(x))))   (pre-norm)
//   norm       encoder.ln(x)[:, 0]  -> (N, D): the CLS token after the final LayerNorm
//   head       heads.head: (N, D) -> (N, K)
//
// MHA is torch.nn.MultiheadAttention (batch_first): [q; k; v] = x in_proj_weight^T + in_proj_bias,
// H heads of size D / H, softmax(q k^T / sqrt(D / H)) v, then out_proj. LayerNorm eps 1e-6,
// GELU is the exact (erf) one, dropout is 0 (torchvision's default), so eval == train.
//
// Stages and PyTorch names (Classifier, DESIGN.md §F):
//   "stem"      prefix ""                            conv_proj.*, class_token,
//   encoder.pos_embedding "block<i>"  prefix "encoder.layers.encoder_layer_<i>"  ln_1,
//   self_attention.{in_proj_weight,
//                                                    in_proj_bias, out_proj.*}, ln_2, mlp.0, mlp.3
//   "norm"      prefix "encoder.ln"                  weight, bias
//   "head"      prefix "heads.head"                  weight, bias
// Aliases: "pre_logits" -> "head" (the (N, D) embedding fed to the final linear),
//          "last_block" -> "block<L-1>".
// The final-norm stage is named "norm", not "pre_logits": an alias equal to a stage name would
// shadow that stage's boundary (Classifier::resolve looks aliases up first).
#pragma once

#include <cstdint>
#include <memory>

#include "models/classifier.h"
#include "nn/modules/layer_norm.h"
#include "nn/modules/linear.h"

namespace obl {

struct VitConfig {
    int64_t image_size = 224, patch_size = 16, num_layers = 12, num_heads = 12, hidden_dim = 768,
            mlp_dim = 3072;
    int num_classes = 1000;
};

// torch.nn.MultiheadAttention(D, H, batch_first=True) for self-attention (query = key = value),
// no mask, no dropout: parameters in_proj_weight (3D, D), in_proj_bias (3D), out_proj (Linear).
class MultiheadSelfAttention : public Module {
   public:
    MultiheadSelfAttention(int64_t dim, int64_t num_heads, uint64_t seed = 0);
    // x (N, T, D) -> (N, T, D).
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t dim_, heads_;
    uint64_t seed_;
    Tensor in_proj_weight_, in_proj_bias_;
    std::shared_ptr<Linear> out_proj_;
};

// torchvision's EncoderBlock: pre-norm attention and MLP, each with a residual.
class VitEncoderBlock : public Module {
   public:
    VitEncoderBlock(int64_t hidden_dim, int64_t num_heads, int64_t mlp_dim, uint64_t seed = 0);
    // x (N, T, D) -> (N, T, D).
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "VitEncoderBlock"; }

   private:
    int64_t hidden_, heads_, mlp_;
    uint64_t seed_;
    std::shared_ptr<LayerNorm> ln_1_, ln_2_;
    std::shared_ptr<MultiheadSelfAttention> attn_;
    std::shared_ptr<Linear> fc1_, fc2_;
};

// Builds the ViT classifier for `c` (image_size divisible by patch_size, hidden_dim by
// num_heads). Initialisation follows torchvision's (conv_proj truncated normal, pos_embedding
// N(0, 0.02), class_token and the head zero, MLP xavier) with our Philox draws; load weights with
// load_state_dict / load_safetensors.
std::shared_ptr<Classifier> make_vit(const VitConfig& c);

}  // namespace obl
