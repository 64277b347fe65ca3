// Swin Transformer (see swin.h); mirrors torchvision 0.14 swin_transformer.py
// (shifted_window_attention, ShiftedWindowAttention, SwinTransformerBlock, PatchMerging,
// _patch_merging_pad, SwinTransformer). torch.roll is built from slice + concat.
#include "models/swin.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "nn/init.h"
#include "nn/modules/activation.h"
#include "nn/modules/conv2d.h"
#include "nn/modules/sequential.h"
#include "nn/ops.h"

namespace obl {
namespace {

// torch.roll(x, shift, dim) for one dim: out[i] = x[(i - shift) mod n].
Tensor roll(const Tensor& x, int64_t shift, int dim) {
    const int64_t n = x.size(dim);
    const int64_t s = ((shift % n) + n) % n;
    if (s == 0) return x;
    return concat({slice(x, dim, n - s, n), slice(x, dim, 0, n - s)}, dim);
}

// torchvision's Linear init in SwinTransformer: trunc_normal_(std=0.02) (truncated at +-2, i.e.
// 100 std: a plain normal), zero bias.
void init_linear(Linear& l, uint64_t seed) {
    Tensor(l.weight()).copy_(randn(l.weight().shape(), 0.0, 0.02, seed));
    if (l.bias().defined()) Tensor(l.bias()).fill_(0.0);
}

// Python's slice(start, stop) on a dim of size n, as [lo, hi) (step 1); kNone = None.
constexpr int64_t kNone = INT64_MIN;
std::pair<int64_t, int64_t> py_slice(int64_t start, int64_t stop, int64_t n) {
    auto norm = [n](int64_t i, int64_t dflt) {
        if (i == kNone) return dflt;
        if (i < 0) i += n;
        return std::min(std::max<int64_t>(i, 0), n);
    };
    return {norm(start, 0), norm(stop, n)};
}

// features.0: conv P x P / P -> permute to channels-last -> LayerNorm. Names 0.* and 2.*.
class SwinPatchEmbed : public Module {
   public:
    SwinPatchEmbed(int64_t patch, int64_t dim, uint64_t seed)
        : patch_(patch), dim_(dim), seed_(seed) {
        conv_ = register_module(
            "0", std::make_shared<Conv2d>(3, dim, patch, Conv2dParams{patch, patch}, true, seed));
        norm_ = register_module("2", std::make_shared<LayerNorm>(dim, 1e-5));
    }
    Tensor forward(const Tensor& x) override {
        OBL_CHECK(x.dim() == 4 && x.size(1) == 3, "Swin stem: expected (N, 3, H, W), got ",
                  x.describe());
        return (*norm_)(permute((*conv_)(x), {0, 2, 3, 1}));
    }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<SwinPatchEmbed>(patch_, dim_, seed_);
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "SwinPatchEmbed"; }

   private:
    int64_t patch_, dim_;
    uint64_t seed_;
    std::shared_ptr<Conv2d> conv_;
    std::shared_ptr<LayerNorm> norm_;
};

// norm, then the mean over H and W: (N, H, W, C) -> (N, C). torchvision permutes to NCHW and
// applies AdaptiveAvgPool2d(1) + Flatten, which is the same mean over the H*W positions.
class SwinFinalNorm : public Module {
   public:
    explicit SwinFinalNorm(int64_t dim) : dim_(dim) {
        norm_ = register_module("", std::make_shared<LayerNorm>(dim, 1e-5));
    }
    Tensor forward(const Tensor& x) override {
        OBL_CHECK(x.dim() == 4 && x.size(3) == dim_, "Swin norm: expected (N, H, W, ", dim_,
                  "), got ", x.describe());
        const int64_t n = x.size(0), hw = x.size(1) * x.size(2);
        return mean((*norm_)(x).reshape(Shape{n, hw, dim_}), 1);
    }
    std::unique_ptr<Module> clone() const override {
        auto c = std::make_unique<SwinFinalNorm>(dim_);
        c->copy_state_from(*this);
        return c;
    }
    std::string repr() const override { return "SwinFinalNorm"; }

   private:
    int64_t dim_;
    std::shared_ptr<LayerNorm> norm_;
};

}  // namespace

// ---- ShiftedWindowAttention ------------------------------------------------------------------

ShiftedWindowAttention::ShiftedWindowAttention(int64_t dim, int64_t window, int64_t shift,
                                               int64_t num_heads, uint64_t seed)
    : dim_(dim), window_(window), shift_(shift), heads_(num_heads), seed_(seed) {
    OBL_CHECK(dim > 0 && num_heads > 0 && dim % num_heads == 0 && window >= 1 && shift >= 0 &&
                  shift < window,
              "ShiftedWindowAttention: need dim (", dim, ") divisible by num_heads (", num_heads,
              "), window >= 1 (", window, ") and 0 <= shift < window (", shift, ")");
    qkv_ = register_module("qkv", std::make_shared<Linear>(dim, 3 * dim, true, seed));
    proj_ = register_module("proj", std::make_shared<Linear>(dim, dim, true, seed + 1));
    init_linear(*qkv_, seed);
    init_linear(*proj_, seed + 1);
    const int64_t span = 2 * window - 1;
    table_ = register_parameter("relative_position_bias_table",
                                randn(Shape{span * span, num_heads}, 0.0, 0.02, seed + 2));
    // relative_position_index[p, q] for tokens p = (ph, pw), q = (qh, qw) of one window:
    // (ph - qh + w - 1) * (2w - 1) + (pw - qw + w - 1).
    const int64_t area = window * window;
    std::vector<int64_t> index(static_cast<size_t>(area * area));
    for (int64_t p = 0; p < area; ++p)
        for (int64_t q = 0; q < area; ++q)
            index[static_cast<size_t>(p * area + q)] =
                (p / window - q / window + window - 1) * span +
                (p % window - q % window + window - 1);
    index_ =
        register_buffer("relative_position_index", Tensor::from_vector(index, Shape{area * area}));
}

Tensor ShiftedWindowAttention::window_mask(int64_t pad_h, int64_t pad_w, int64_t window,
                                           int64_t shift_h, int64_t shift_w) {
    OBL_CHECK(pad_h % window == 0 && pad_w % window == 0, "window_mask: padded size ", pad_h, "x",
              pad_w, " is not a multiple of the window ", window);
    // Paint region labels in torchvision's order; later slices overwrite earlier ones.
    std::vector<float> label(static_cast<size_t>(pad_h * pad_w), 0.f);
    const int64_t hs[3][2] = {{0, -window}, {-window, -shift_h}, {-shift_h, kNone}};
    const int64_t ws[3][2] = {{0, -window}, {-window, -shift_w}, {-shift_w, kNone}};
    float count = 0.f;
    for (const auto& h : hs) {
        for (const auto& w : ws) {
            const auto [h0, h1] = py_slice(h[0], h[1], pad_h);
            const auto [w0, w1] = py_slice(w[0], w[1], pad_w);
            for (int64_t i = h0; i < h1; ++i)
                for (int64_t j = w0; j < w1; ++j) label[static_cast<size_t>(i * pad_w + j)] = count;
            count += 1.f;
        }
    }
    const int64_t nwh = pad_h / window, nww = pad_w / window, area = window * window;
    std::vector<float> mask(static_cast<size_t>(nwh * nww * area * area));
    for (int64_t wh = 0; wh < nwh; ++wh)
        for (int64_t ww = 0; ww < nww; ++ww) {
            auto at = [&](int64_t p) {
                return label[static_cast<size_t>((wh * window + p / window) * pad_w + ww * window +
                                                 p % window)];
            };
            float* m = mask.data() + (wh * nww + ww) * area * area;
            for (int64_t p = 0; p < area; ++p)
                for (int64_t q = 0; q < area; ++q)
                    m[p * area + q] = at(q) - at(p) != 0.f ? -100.f : 0.f;
        }
    return Tensor::from_vector(mask, Shape{nwh * nww, area, area});
}

Tensor ShiftedWindowAttention::forward(const Tensor& input) {
    OBL_CHECK(input.dim() == 4 && input.size(3) == dim_, repr(), ": expected (N, H, W, ", dim_,
              "), got ", input.describe());
    const int64_t b = input.size(0), h = input.size(1), w = input.size(2), c = dim_;
    const int64_t ws = window_, area = ws * ws, hd = c / heads_;
    // Pad the map up to multiples of the window (right and bottom), as F.pad(0,0, 0,pad_r,
    // 0,pad_b).
    const int64_t pad_r = (ws - w % ws) % ws, pad_b = (ws - h % ws) % ws;
    Tensor x = pad_r + pad_b > 0 ? pad(input, {0, 0, 0, pad_r, 0, pad_b}) : input;
    const int64_t ph = h + pad_b, pw = w + pad_r;
    // No shift along a dim the window already covers.
    const int64_t sh = ws >= ph ? 0 : shift_, sw = ws >= pw ? 0 : shift_;
    const bool shifted = sh + sw > 0;
    if (shifted) x = roll(roll(x, -sh, 1), -sw, 2);

    // Partition: (B, pH, pW, C) -> (B, pH/w, w, pW/w, w, C) -> (B*nW, w*w, C).
    const int64_t nw = (ph / ws) * (pw / ws), bw = b * nw;
    x = permute(x.reshape(Shape{b, ph / ws, ws, pw / ws, ws, c}), {0, 1, 3, 2, 4, 5})
            .reshape(Shape{bw, area, c});

    // (B*nW, w*w, 3C) -> (B*nW, w*w, 3, heads, hd) -> (3, B*nW, heads, w*w, hd).
    Tensor qkv = permute((*qkv_)(x).reshape(Shape{bw, area, 3, heads_, hd}), {2, 0, 3, 1, 4});
    const Shape per{bw * heads_, area, hd};
    Tensor q = mul_scalar(qkv.slice0(0, 1).reshape(per), 1.0 / std::sqrt(static_cast<double>(hd)));
    Tensor k = qkv.slice0(1, 2).reshape(per);
    Tensor v = qkv.slice0(2, 3).reshape(per);
    const Shape attn_shape{bw, heads_, area, area};
    Tensor attn = bmm(q, k, false, true).reshape(attn_shape);

    // + relative position bias: table[index] (w^4, heads) -> (w^2, w^2, heads) -> (1, heads, w^2,
    // w^2).
    Tensor bias =
        permute(index_select(table_, 0, index_).reshape(Shape{area, area, heads_}), {2, 0, 1})
            .reshape(Shape{1, heads_, area, area});
    attn = add(attn, broadcast_to(bias, attn_shape));

    if (shifted) {
        if (mask_h_ != ph || mask_w_ != pw || mask_cache_.device() != input.device()) {
            mask_cache_ = window_mask(ph, pw, ws, sh, sw)
                              .reshape(Shape{1, nw, 1, area, area})
                              .to(input.device());
            mask_h_ = ph, mask_w_ = pw;
        }
        const Shape win_shape{b, nw, heads_, area, area};
        attn =
            add(attn.reshape(win_shape), broadcast_to(mask_cache_, win_shape)).reshape(attn_shape);
    }
    attn = softmax(attn).reshape(Shape{bw * heads_, area, area});

    // (B*nW*heads, w*w, hd) -> (B*nW, w*w, heads, hd) -> (B*nW, w*w, C) -> proj.
    x = permute(bmm(attn, v).reshape(Shape{bw, heads_, area, hd}), {0, 2, 1, 3})
            .reshape(Shape{bw, area, c});
    x = (*proj_)(x);

    // Reverse the partition, then the shift, then crop the padding.
    x = permute(x.reshape(Shape{b, ph / ws, pw / ws, ws, ws, c}), {0, 1, 3, 2, 4, 5})
            .reshape(Shape{b, ph, pw, c});
    if (shifted) x = roll(roll(x, sh, 1), sw, 2);
    if (pad_b > 0) x = slice(x, 1, 0, h);
    if (pad_r > 0) x = slice(x, 2, 0, w);
    return x;
}

std::unique_ptr<Module> ShiftedWindowAttention::clone() const {
    auto c = std::make_unique<ShiftedWindowAttention>(dim_, window_, shift_, heads_, seed_);
    c->copy_state_from(*this);
    return c;
}

std::string ShiftedWindowAttention::repr() const {
    std::ostringstream os;
    os << "ShiftedWindowAttention(dim=" << dim_ << ", window=" << window_ << ", shift=" << shift_
       << ", heads=" << heads_ << ")";
    return os.str();
}

// ---- SwinBlock --------------------------------------------------------------------------------

SwinBlock::SwinBlock(int64_t dim, int64_t num_heads, int64_t window, int64_t shift,
                     double mlp_ratio, uint64_t seed)
    : dim_(dim),
      heads_(num_heads),
      window_(window),
      shift_(shift),
      mlp_ratio_(mlp_ratio),
      seed_(seed) {
    const int64_t hidden = static_cast<int64_t>(static_cast<double>(dim) * mlp_ratio);  // int()
    OBL_CHECK(hidden >= 1, "SwinBlock: mlp hidden size ", hidden, " (dim ", dim, " * mlp_ratio ",
              mlp_ratio, ") must be >= 1");
    norm1_ = register_module("norm1", std::make_shared<LayerNorm>(dim, 1e-5));
    attn_ = register_module(
        "attn", std::make_shared<ShiftedWindowAttention>(dim, window, shift, num_heads, seed));
    norm2_ = register_module("norm2", std::make_shared<LayerNorm>(dim, 1e-5));
    // MLP(D, [hidden, D]): 0 Linear, 1 GELU, 2 Dropout, 3 Linear, 4 Dropout.
    auto mlp = std::make_shared<Sequential>();
    fc1_ = mlp->push_back("0", std::make_shared<Linear>(dim, hidden, true, seed + 3));
    mlp->push_back("1", std::make_shared<GELU>());
    fc2_ = mlp->push_back("3", std::make_shared<Linear>(hidden, dim, true, seed + 4));
    register_module("mlp", mlp);
    init_linear(*fc1_, seed + 3);
    init_linear(*fc2_, seed + 4);
}

Tensor SwinBlock::forward(const Tensor& x) {
    Tensor h = add(x, (*attn_)((*norm1_)(x)));
    return add(h, (*fc2_)(gelu((*fc1_)((*norm2_)(h)))));
}

std::unique_ptr<Module> SwinBlock::clone() const {
    auto c = std::make_unique<SwinBlock>(dim_, heads_, window_, shift_, mlp_ratio_, seed_);
    c->copy_state_from(*this);
    return c;
}

std::string SwinBlock::repr() const {
    std::ostringstream os;
    os << "SwinBlock(dim=" << dim_ << ", heads=" << heads_ << ", window=" << window_
       << ", shift=" << shift_ << ")";
    return os.str();
}

// ---- PatchMerging -----------------------------------------------------------------------------

PatchMerging::PatchMerging(int64_t dim, uint64_t seed) : dim_(dim), seed_(seed) {
    reduction_ =
        register_module("reduction", std::make_shared<Linear>(4 * dim, 2 * dim, false, seed));
    norm_ = register_module("norm", std::make_shared<LayerNorm>(4 * dim, 1e-5));
    init_linear(*reduction_, seed);
}

Tensor PatchMerging::forward(const Tensor& input) {
    OBL_CHECK(input.dim() == 4 && input.size(3) == dim_, repr(), ": expected (N, H, W, ", dim_,
              "), got ", input.describe());
    const int64_t h = input.size(1), w = input.size(2);
    Tensor x = h % 2 + w % 2 > 0 ? pad(input, {0, 0, 0, w % 2, 0, h % 2}) : input;
    const int64_t ph = h + h % 2, pw = w + w % 2;
    // x[..., i::2, j::2, :] for (i, j) = (0, 0), (1, 0), (0, 1), (1, 1).
    auto pick = [&](int64_t i, int64_t j) { return slice(slice(x, 1, i, ph, 2), 2, j, pw, 2); };
    x = concat({pick(0, 0), pick(1, 0), pick(0, 1), pick(1, 1)}, 3);
    return (*reduction_)((*norm_)(x));
}

std::unique_ptr<Module> PatchMerging::clone() const {
    auto c = std::make_unique<PatchMerging>(dim_, seed_);
    c->copy_state_from(*this);
    return c;
}

std::string PatchMerging::repr() const { return "PatchMerging(dim=" + std::to_string(dim_) + ")"; }

// ---- make_swin --------------------------------------------------------------------------------

std::shared_ptr<Classifier> make_swin(const SwinConfig& c) {
    OBL_CHECK(!c.depths.empty() && c.depths.size() == c.num_heads.size(), "make_swin: depths (",
              c.depths.size(), " stages) and num_heads (", c.num_heads.size(),
              ") must be non-empty and of equal length");
    OBL_CHECK(c.image_size >= c.patch_size && c.patch_size >= 1 && c.embed_dim >= 1 &&
                  c.window_size >= 1 && c.mlp_ratio > 0 && c.num_classes >= 1,
              "make_swin: invalid config (image_size ", c.image_size, ", patch_size ", c.patch_size,
              ", embed_dim ", c.embed_dim, ", window_size ", c.window_size, ", mlp_ratio ",
              c.mlp_ratio, ", num_classes ", c.num_classes, ")");
    std::vector<Stage> stages;
    stages.push_back(
        {"stem", "features.0", std::make_shared<SwinPatchEmbed>(c.patch_size, c.embed_dim, 1000)});
    std::string last_block;
    int64_t dim = c.embed_dim;
    uint64_t seed = 2000;
    const size_t n = c.depths.size();
    for (size_t s = 0; s < n; ++s) {
        OBL_CHECK(c.depths[s] >= 1 && c.num_heads[s] >= 1 && dim % c.num_heads[s] == 0,
                  "make_swin: stage ", s + 1, " has depth ", c.depths[s], " and ", c.num_heads[s],
                  " heads for dim ", dim, " (need depth >= 1 and dim divisible by heads)");
        const std::string stage = "stage" + std::to_string(s + 1);
        const std::string feature = "features." + std::to_string(2 * s + 1);
        for (int64_t i = 0; i < c.depths[s]; ++i) {
            const int64_t shift = i % 2 == 0 ? 0 : c.window_size / 2;
            last_block = stage + ".block" + std::to_string(i);
            stages.push_back({last_block, feature + "." + std::to_string(i),
                              std::make_shared<SwinBlock>(dim, c.num_heads[s], c.window_size, shift,
                                                          c.mlp_ratio, seed)});
            seed += 8;
        }
        if (s + 1 < n) {
            stages.push_back({"merge" + std::to_string(s + 1),
                              "features." + std::to_string(2 * s + 2),
                              std::make_shared<PatchMerging>(dim, seed)});
            seed += 8;
            dim *= 2;
        }
    }
    stages.push_back({"norm", "norm", std::make_shared<SwinFinalNorm>(dim)});
    auto head = std::make_shared<Linear>(dim, c.num_classes, true, 3000);
    init_linear(*head, 3000);
    stages.push_back({"head", "head", head});
    const std::map<std::string, std::string> aliases{{"pre_logits", "head"},
                                                     {"last_block", last_block}};
    const bool tiny = c.patch_size == 4 && c.embed_dim == 96 && c.window_size == 7 &&
                      c.depths == std::vector<int64_t>{2, 2, 6, 2} &&
                      c.num_heads == std::vector<int64_t>{3, 6, 12, 24} && c.mlp_ratio == 4.0;
    return std::make_shared<Classifier>(tiny ? "swin_t" : "swin_custom", std::move(stages), aliases,
                                        c.num_classes);
}

}  // namespace obl
