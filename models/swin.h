// Swin Transformer (v1) as torchvision's SwinTransformer, swin_t by default (torchvision 0.14,
// torchvision/models/swin_transformer.py; Liu et al. 2021, https://arxiv.org/abs/2103.14030).
//
//   features.0   patch embedding: conv P x P / P, (N, 3, S, S) -> (N, C, S/P, S/P) -> permute to
//                (N, H, W, C) -> LayerNorm                                   (channels-last below)
//   block        x = x + W-MSA(norm1(x));  x = x + mlp.3(GELU(mlp.0(norm2(x))))
//   W-MSA        pad H, W up to multiples of the window w; if the shift s > 0, roll by (-s, -s);
//                split into w x w windows; per window and head softmax(q k^T / sqrt(d) + B + M) v
//                with B the relative position bias (table[relative_position_index]) and M the
//                shifted-window mask (-100 between tokens from different regions); proj; merge
//                windows; roll back by (s, s); crop the padding. Blocks alternate s = 0, w / 2, and
//                s is set to 0 along a dim whose padded size is <= w (torchvision 0.14's only
//                clamping rule; the window itself is never shrunk, padded zero tokens take part in
//                attention exactly as in torchvision).
//   PatchMerging pad H, W to even, concat x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]
//                (4C) -> LayerNorm(4C) -> reduction Linear(4C, 2C, no bias)
//   norm         LayerNorm, then the mean over H and W (torchvision: permute, AdaptiveAvgPool2d(1),
//                flatten) -> (N, C_last)
//   head         Linear(C_last, K)
// LayerNorm eps 1e-5, GELU exact (erf). Dropout rates are 0 (torchvision's default). Stochastic
// depth (swin_t trains with p up to 0.2) is identity at eval, as in torchvision, and is not
// modelled in training either (identity).
//
// Stages and PyTorch names (Classifier, DESIGN.md §F):
//   "stem"             prefix "features.0"        0.{weight,bias} (conv), 2.{weight,bias} (norm)
//   "stage<s>.block<b>" prefix "features.<2s-1>.<b>"  norm1, attn.{qkv, proj,
//                      relative_position_bias_table, relative_position_index (i64 buffer)}, norm2,
//                      mlp.0, mlp.3                    (s = 1.., b = 0..depth-1)
//   "merge<s>"         prefix "features.<2s>"     reduction.weight, norm.{weight,bias}
//   "norm"             prefix "norm"              weight, bias
//   "head"             prefix "head"              weight, bias
// Aliases: "pre_logits" -> "head" (the pooled (N, C_last) embedding), "last_block" -> the last
// Swin block's stage. The pooled-norm stage is named "norm", not "pre_logits", so that the alias
// does not shadow its boundary (Classifier::resolve looks aliases up first).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/classifier.h"
#include "nn/modules/layer_norm.h"
#include "nn/modules/linear.h"

namespace obl {

// image_size is the nominal input size (checked to be >= patch_size); like torchvision's, the
// model itself accepts any (N, 3, H, W), padding feature maps as needed.
struct SwinConfig {
    int64_t image_size = 224, patch_size = 4, embed_dim = 96, window_size = 7;
    std::vector<int64_t> depths{2, 2, 6, 2}, num_heads{3, 6, 12, 24};
    double mlp_ratio = 4.0;
    int num_classes = 1000;
};

// torchvision's ShiftedWindowAttention (square window w, shift s): parameters qkv (Linear D->3D),
// proj (Linear D->D), relative_position_bias_table ((2w-1)^2, heads); persistent i64 buffer
// relative_position_index (w^4).
class ShiftedWindowAttention : public Module {
   public:
    ShiftedWindowAttention(int64_t dim, int64_t window, int64_t shift, int64_t num_heads,
                           uint64_t seed = 0);
    // x (N, H, W, D) -> (N, H, W, D), any H, W >= 1.
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

    // The additive shifted-window mask for a padded map (pad_h, pad_w): (num_windows, w^2, w^2)
    // f32, 0 within a region and -100 across, exactly as torchvision paints it (Python slices
    // (0, -w), (-w, -s), (-s, None) per dim). Exposed for tests.
    static Tensor window_mask(int64_t pad_h, int64_t pad_w, int64_t window, int64_t shift_h,
                              int64_t shift_w);

   private:
    int64_t dim_, window_, shift_, heads_;
    uint64_t seed_;
    std::shared_ptr<Linear> qkv_, proj_;
    Tensor table_, index_;
    // The mask depends only on the padded map size and the device: cached per (pad_h, pad_w).
    Tensor mask_cache_;
    int64_t mask_h_ = -1, mask_w_ = -1;
};

// torchvision's SwinTransformerBlock (v1), channels-last (N, H, W, D) in and out.
class SwinBlock : public Module {
   public:
    SwinBlock(int64_t dim, int64_t num_heads, int64_t window, int64_t shift, double mlp_ratio,
              uint64_t seed = 0);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t dim_, heads_, window_, shift_;
    double mlp_ratio_;
    uint64_t seed_;
    std::shared_ptr<LayerNorm> norm1_, norm2_;
    std::shared_ptr<ShiftedWindowAttention> attn_;
    std::shared_ptr<Linear> fc1_, fc2_;
};

// torchvision's PatchMerging (v1): (N, H, W, C) -> (N, ceil(H/2), ceil(W/2), 2C).
class PatchMerging : public Module {
   public:
    explicit PatchMerging(int64_t dim, uint64_t seed = 0);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t dim_;
    uint64_t seed_;
    std::shared_ptr<Linear> reduction_;
    std::shared_ptr<LayerNorm> norm_;
};

// Builds the Swin classifier for `c` (depths and num_heads of equal, non-zero length; each stage
// dim embed_dim * 2^i divisible by its heads). Initialisation follows torchvision's (linears and
// the bias tables N(0, 0.02), zero biases) with our Philox draws; load weights by name.
std::shared_ptr<Classifier> make_swin(const SwinConfig& c);

}  // namespace obl
