// ResNets (torchvision 0.14 torchvision/models/resnet.py; He et al. 2016 CIFAR ResNet as in
// akamaster/pytorch_resnet_cifar10). Formulas and stage layout: models/resnet.h.
#include "models/resnet.h"

#include <cmath>
#include <sstream>
#include <utility>

#include "nn/autograd.h"
#include "nn/modules/linear.h"
#include "nn/ops.h"

namespace obl {

namespace {

Conv2dParams conv_params(int64_t stride, int64_t padding) {
    Conv2dParams p;
    p.stride_h = p.stride_w = stride;
    p.pad_h = p.pad_w = padding;
    return p;
}

std::shared_ptr<Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride) {
    return std::make_shared<Conv2d>(in, out, 3, conv_params(stride, 1), false);
}

std::shared_ptr<Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride) {
    return std::make_shared<Conv2d>(in, out, 1, conv_params(stride, 0), false);
}

// torchvision's downsample = Sequential(conv1x1(in, out, stride), BatchNorm2d(out)), or null.
std::shared_ptr<Sequential> make_downsample(int64_t in, int64_t out, int64_t stride) {
    if (stride == 1 && in == out) return nullptr;
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        conv1x1(in, out, stride), std::make_shared<BatchNorm2d>(out)});
}

template <class M>
std::unique_ptr<Module> clone_as(const M& self, std::unique_ptr<M> fresh) {
    fresh->copy_state_from(self);
    return fresh;
}

std::string join(const std::vector<int64_t>& v, const char* sep) {
    std::ostringstream s;
    for (size_t i = 0; i < v.size(); ++i) s << (i ? sep : "") << v[i];
    return s.str();
}

// kaiming_normal_: N(0, 2 / fan) for every conv weight (rank 4), fan = fan_out (O k k) or fan_in
// (I k k); with `linear_too`, also for the rank-2 weight of the final linear layer (fan_in).
// Tensor i of named_parameters() draws from Philox key (seed + i).
void init_weights(Module& model, bool fan_out, bool linear_too, uint64_t seed) {
    NoGradGuard no_grad;
    uint64_t i = 0;
    for (auto& [name, w] : model.named_parameters()) {
        ++i;
        const Shape& s = w.shape();
        if (s.size() == 4) {
            const int64_t fan = (fan_out ? s[0] : s[1]) * s[2] * s[3];
            w.copy_(randn(s, 0.0, std::sqrt(2.0 / static_cast<double>(fan)), seed + i));
        } else if (s.size() == 2 && linear_too) {
            w.copy_(randn(s, 0.0, std::sqrt(2.0 / static_cast<double>(s[1])), seed + i));
        }
    }
}

void check_positive(const std::vector<int64_t>& v, const char* what, const std::string& ctx) {
    for (int64_t x : v)
        OBL_CHECK(x >= 1, ctx, ": ", what, " must be >= 1, got [", join(v, ", "), "]");
}

}  // namespace

// ---- ResNetStem ---------------------------------------------------------------------------------

ResNetStem::ResNetStem(int64_t in_channels, int64_t width, int64_t kernel, int64_t stride,
                       int64_t padding, bool maxpool)
    : in_(in_channels),
      width_(width),
      kernel_(kernel),
      stride_(stride),
      padding_(padding),
      maxpool_(maxpool) {
    conv1_ = register_module(
        "conv1",
        std::make_shared<Conv2d>(in_, width_, kernel_, conv_params(stride_, padding_), false));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(width_));
}

Tensor ResNetStem::forward(const Tensor& x) {
    Tensor h = relu(bn1_->forward(conv1_->forward(x)));
    return maxpool_ ? max_pool2d(h, 3, 2, 1) : h;
}

std::unique_ptr<Module> ResNetStem::clone() const {
    return clone_as(
        *this, std::make_unique<ResNetStem>(in_, width_, kernel_, stride_, padding_, maxpool_));
}

std::string ResNetStem::repr() const {
    std::ostringstream s;
    s << "ResNetStem(" << in_ << ", " << width_ << ", kernel=" << kernel_ << ", stride=" << stride_
      << (maxpool_ ? ", maxpool" : "") << ")";
    return s.str();
}

// ---- BasicBlock ---------------------------------------------------------------------------------

BasicBlock::BasicBlock(int64_t in_planes, int64_t planes, int64_t stride)
    : in_(in_planes), planes_(planes), stride_(stride) {
    conv1_ = register_module("conv1", conv3x3(in_, planes_, stride_));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(planes_));
    conv2_ = register_module("conv2", conv3x3(planes_, planes_, 1));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(planes_));
    downsample_ = make_downsample(in_, planes_, stride_);
    if (downsample_) register_module("downsample", downsample_);
}

Tensor BasicBlock::forward(const Tensor& x) {
    Tensor out = relu(bn1_->forward(conv1_->forward(x)));
    out = bn2_->forward(conv2_->forward(out));
    return relu(add(out, downsample_ ? downsample_->forward(x) : x));
}

std::unique_ptr<Module> BasicBlock::clone() const {
    return clone_as(*this, std::make_unique<BasicBlock>(in_, planes_, stride_));
}

std::string BasicBlock::repr() const {
    std::ostringstream s;
    s << "BasicBlock(" << in_ << ", " << planes_ << ", stride=" << stride_ << ")";
    return s.str();
}

// ---- Bottleneck ---------------------------------------------------------------------------------

Bottleneck::Bottleneck(int64_t in_planes, int64_t planes, int64_t stride)
    : in_(in_planes), planes_(planes), stride_(stride) {
    const int64_t out = planes_ * kExpansion;
    conv1_ = register_module("conv1", conv1x1(in_, planes_, 1));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(planes_));
    conv2_ = register_module("conv2", conv3x3(planes_, planes_, stride_));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(planes_));
    conv3_ = register_module("conv3", conv1x1(planes_, out, 1));
    bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(out));
    downsample_ = make_downsample(in_, out, stride_);
    if (downsample_) register_module("downsample", downsample_);
}

Tensor Bottleneck::forward(const Tensor& x) {
    Tensor out = relu(bn1_->forward(conv1_->forward(x)));
    out = relu(bn2_->forward(conv2_->forward(out)));
    out = bn3_->forward(conv3_->forward(out));
    return relu(add(out, downsample_ ? downsample_->forward(x) : x));
}

std::unique_ptr<Module> Bottleneck::clone() const {
    return clone_as(*this, std::make_unique<Bottleneck>(in_, planes_, stride_));
}

std::string Bottleneck::repr() const {
    std::ostringstream s;
    s << "Bottleneck(" << in_ << ", " << planes_ << ", stride=" << stride_ << ")";
    return s.str();
}

// ---- CifarBasicBlock ----------------------------------------------------------------------------

CifarBasicBlock::CifarBasicBlock(int64_t in_planes, int64_t planes, int64_t stride)
    : in_(in_planes), planes_(planes), stride_(stride) {
    OBL_CHECK(planes_ >= in_, "CifarBasicBlock: the option-A shortcut pads channels, so planes (",
              planes_, ") must be >= in_planes (", in_, ")");
    conv1_ = register_module("conv1", conv3x3(in_, planes_, stride_));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(planes_));
    conv2_ = register_module("conv2", conv3x3(planes_, planes_, 1));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(planes_));
}

Tensor CifarBasicBlock::forward(const Tensor& x) {
    Tensor out = relu(bn1_->forward(conv1_->forward(x)));
    out = bn2_->forward(conv2_->forward(out));
    Tensor shortcut = x;
    if (stride_ != 1 || in_ != planes_) {
        if (stride_ != 1) {
            shortcut = slice(shortcut, 2, 0, shortcut.size(2), stride_);
            shortcut = slice(shortcut, 3, 0, shortcut.size(3), stride_);
        }
        const int64_t lo = (planes_ - in_) / 2;
        shortcut = pad(shortcut, {0, 0, 0, 0, lo, planes_ - in_ - lo});
    }
    return relu(add(out, shortcut));
}

std::unique_ptr<Module> CifarBasicBlock::clone() const {
    return clone_as(*this, std::make_unique<CifarBasicBlock>(in_, planes_, stride_));
}

std::string CifarBasicBlock::repr() const {
    std::ostringstream s;
    s << "CifarBasicBlock(" << in_ << ", " << planes_ << ", stride=" << stride_ << ")";
    return s.str();
}

// ---- GlobalAvgPool ------------------------------------------------------------------------------

Tensor GlobalAvgPool::forward(const Tensor& x) {
    OBL_CHECK(x.dim() == 4, "GlobalAvgPool: expected (N, C, H, W), got ", x.describe());
    return adaptive_avg_pool2d(x, 1, 1).flatten(1);
}

std::unique_ptr<Module> GlobalAvgPool::clone() const { return std::make_unique<GlobalAvgPool>(); }

// ---- builders -----------------------------------------------------------------------------------

std::shared_ptr<Classifier> make_resnet(const ResNetConfig& c) {
    const std::string ctx = "make_resnet";
    OBL_CHECK(!c.layers.empty() && c.layers.size() == c.widths.size(), ctx,
              ": layers and widths need the same non-zero length, got [", join(c.layers, ", "),
              "] and [", join(c.widths, ", "), "]");
    check_positive(c.layers, "layers", ctx);
    check_positive(c.widths, "widths", ctx);
    OBL_CHECK(c.stem_width >= 1, ctx, ": stem_width must be >= 1, got ", c.stem_width);
    OBL_CHECK(c.num_classes >= 1, ctx, ": num_classes must be >= 1, got ", c.num_classes);
    const bool bottleneck = c.block == ResNetConfig::Block::Bottleneck;

    std::string arch = "resnet_custom";
    const bool standard_widths =
        c.stem_width == 64 && c.widths == std::vector<int64_t>{64, 128, 256, 512};
    if (standard_widths && !bottleneck && c.layers == std::vector<int64_t>{2, 2, 2, 2})
        arch = "resnet18";
    if (standard_widths && !bottleneck && c.layers == std::vector<int64_t>{3, 4, 6, 3})
        arch = "resnet34";
    if (standard_widths && bottleneck && c.layers == std::vector<int64_t>{3, 4, 6, 3})
        arch = "resnet50";
    if (c.cifar_stem) arch += "_cifar";

    std::vector<Stage> stages;
    stages.push_back({"stem", "",
                      c.cifar_stem ? std::make_shared<ResNetStem>(3, c.stem_width, 3, 1, 1, false)
                                   : std::make_shared<ResNetStem>(3, c.stem_width, 7, 2, 3, true)});
    int64_t in = c.stem_width;
    for (size_t l = 0; l < c.layers.size(); ++l) {
        for (int64_t b = 0; b < c.layers[l]; ++b) {
            const int64_t stride = (l > 0 && b == 0) ? 2 : 1;
            const std::string name = "layer" + std::to_string(l + 1) + "." + std::to_string(b);
            std::shared_ptr<Module> block;
            if (bottleneck) {
                block = std::make_shared<Bottleneck>(in, c.widths[l], stride);
                in = c.widths[l] * Bottleneck::kExpansion;
            } else {
                block = std::make_shared<BasicBlock>(in, c.widths[l], stride);
                in = c.widths[l];
            }
            stages.push_back({name, name, block});
        }
    }
    const std::string last_block = stages.back().name;
    stages.push_back({"pool", "", std::make_shared<GlobalAvgPool>()});
    stages.push_back({"fc", "fc", std::make_shared<Linear>(in, c.num_classes, true, 0x5e5)});

    auto model = std::make_shared<Classifier>(
        arch, std::move(stages),
        std::map<std::string, std::string>{{"pre_logits", "fc"}, {"last_block", last_block}},
        c.num_classes);
    init_weights(*model, /*fan_out=*/true, /*linear_too=*/false, 0x7e5);
    return model;
}

std::shared_ptr<Classifier> make_cifar_resnet(int depth, int num_classes,
                                              std::vector<int64_t> widths) {
    const std::string ctx = "make_cifar_resnet";
    OBL_CHECK(depth >= 8 && (depth - 2) % 6 == 0, ctx, ": depth must be 6n + 2 with n >= 1 (20, ",
              "32, 44, 56, ...), got ", depth);
    OBL_CHECK(!widths.empty(), ctx, ": widths must not be empty");
    check_positive(widths, "widths", ctx);
    OBL_CHECK(num_classes >= 1, ctx, ": num_classes must be >= 1, got ", num_classes);
    const int64_t n = (depth - 2) / 6;
    std::string arch = "cifar_resnet" + std::to_string(depth);
    if (widths != std::vector<int64_t>{16, 32, 64}) arch += "_custom";

    std::vector<Stage> stages;
    stages.push_back({"stem", "", std::make_shared<ResNetStem>(3, widths[0], 3, 1, 1, false)});
    int64_t in = widths[0];
    for (size_t l = 0; l < widths.size(); ++l) {
        for (int64_t b = 0; b < n; ++b) {
            const int64_t stride = (l > 0 && b == 0) ? 2 : 1;
            const std::string name = "layer" + std::to_string(l + 1) + "." + std::to_string(b);
            stages.push_back(
                {name, name, std::make_shared<CifarBasicBlock>(in, widths[l], stride)});
            in = widths[l];
        }
    }
    const std::string last_block = stages.back().name;
    stages.push_back({"pool", "", std::make_shared<GlobalAvgPool>()});
    stages.push_back({"linear", "linear", std::make_shared<Linear>(in, num_classes, true, 0x5e5)});

    auto model = std::make_shared<Classifier>(
        arch, std::move(stages),
        std::map<std::string, std::string>{{"pre_logits", "linear"}, {"last_block", last_block}},
        num_classes);
    init_weights(*model, /*fan_out=*/false, /*linear_too=*/true, 0xc1fa);
    return model;
}

}  // namespace obl
