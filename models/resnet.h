// ResNets as Classifiers (DESIGN.md §F): torchvision's ResNet-18/50 and the CIFAR ResNet-20/32/
// 44/56 of He et al., with PyTorch's parameter names so that converted weights load verbatim.
//
// torchvision (mirrors torchvision 0.14 torchvision/models/resnet.py: BasicBlock, Bottleneck,
// ResNet._make_layer, ResNet._forward_impl):
//   stem:   x -> maxpool(relu(bn1(conv1(x))))     conv1 7x7/2 pad 3, maxpool 3x3/2 pad 1
//           CIFAR stem option: conv1 3x3/1 pad 1 and no maxpool (32x32 inputs, as in the paper's
//           CIFAR-100 / Tiny-ImageNet models)
//   Basic:  y = relu(bn2(conv2(relu(bn1(conv1(x))))) + identity)      3x3, 3x3 (stride in conv1)
//   Bottle: y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + identity)
//           1x1 -> 3x3 (stride in conv2, "ResNet v1.5") -> 1x1 (x4 expansion)
//           identity = downsample(x) = bn(conv1x1/stride(x)) ("downsample.0", "downsample.1")
//           when the stride is not 1 or the channel count changes, else x
//   head:   fc(flatten(adaptive_avg_pool(x, 1)))
// CIFAR ResNet (He et al. 2016, "Deep Residual Learning", §4.2; the names and layout of the
// akamaster/pytorch_resnet_cifar10 resnet.py the shared checkpoints come from):
//   stem:   relu(bn1(conv1(x))), conv1 3x3/1 pad 1 to widths[0] channels
//   blocks: n = (depth - 2) / 6 BasicBlocks per stage, three stages of widths {16, 32, 64},
//           stride 2 at the start of stages 2 and 3;
//           y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
//           shortcut "option A", parameter-free: when the shape changes,
//           shortcut(x) = zero-pad channels(x[:, :, ::s, ::s]) by (planes - in) / 2 each side
//           (= planes / 4 for the standard widths, exactly akamaster's F.pad(..., planes // 4))
//   head:   linear(flatten(avg_pool(x)))
//
// Stages (split points, DESIGN.md §F): "stem" (param prefix ""), one stage per residual block
// named like its parameters ("layer1.0", ..., "layer4.1", prefix the same), "pool" (global average
// pool + flatten, prefix "", no parameters), "fc" (prefix "fc"; CIFAR ResNet: "linear").
// Aliases: "pre_logits" -> the fc/linear stage, "last_block" -> the last residual block.
//
// Initialisation is deterministic and done once over the whole model after it is built (like
// torchvision's `for m in self.modules()` loop), each tensor from its own Philox seed (obl::randn):
// torchvision's kaiming_normal_(fan_out, relu gain) for convs and PyTorch's default Linear init
// for fc; the CIFAR ResNet uses akamaster's kaiming_normal_ (fan_in) for convs and the linear
// weight. BatchNorm: weight 1, bias 0. Only the distributions match PyTorch's, not the values.
// Real weights normally come from load_safetensors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/classifier.h"
#include "nn/modules/batch_norm.h"
#include "nn/modules/conv2d.h"
#include "nn/modules/sequential.h"

namespace obl {

struct ResNetConfig {
    enum class Block { Basic, Bottleneck } block = Block::Basic;
    std::vector<int64_t> layers{2, 2, 2, 2};         // residual blocks per stage
    std::vector<int64_t> widths{64, 128, 256, 512};  // planes per stage (x4 out for Bottleneck)
    int num_classes = 1000;
    bool cifar_stem = false;  // 3x3/1 conv1 and no maxpool, for 32x32 inputs
    int64_t stem_width = 64;  // conv1 output channels (torchvision's inplanes)
};

// torchvision's ResNet for `c` (any number of stages >= 1; layers and widths of equal length).
// Arch name: "resnet18" / "resnet34" / "resnet50" for the standard configurations, with "_cifar"
// appended for the CIFAR stem; "resnet_custom" (or "resnet_custom_cifar") otherwise.
std::shared_ptr<Classifier> make_resnet(const ResNetConfig& c);

// He et al.'s CIFAR ResNet of `depth` = 6n + 2 (20, 32, 44, 56, 110, ...; any n >= 1). Arch name
// "cifar_resnet<depth>", or "cifar_resnet<depth>_custom" for non-standard widths.
std::shared_ptr<Classifier> make_cifar_resnet(int depth, int num_classes = 10,
                                              std::vector<int64_t> widths = {16, 32, 64});

// ---- the modules the stages hold (exposed for tests) -------------------------------------------
// Their convs start with Conv2d's default init; make_resnet / make_cifar_resnet then apply the
// family's init. clone() = same configuration + copy_state_from.

// conv1 + bn1 + relu (+ maxpool 3x3/2 pad 1). Parameters "conv1.weight", "bn1.*".
class ResNetStem : public Module {
   public:
    ResNetStem(int64_t in_channels, int64_t width, int64_t kernel, int64_t stride, int64_t padding,
               bool maxpool);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t in_, width_, kernel_, stride_, padding_;
    bool maxpool_;
    std::shared_ptr<Conv2d> conv1_;
    std::shared_ptr<BatchNorm2d> bn1_;
};

// torchvision BasicBlock (projection shortcut "downsample.0/1" when shapes change).
class BasicBlock : public Module {
   public:
    BasicBlock(int64_t in_planes, int64_t planes, int64_t stride);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t in_, planes_, stride_;
    std::shared_ptr<Conv2d> conv1_, conv2_;
    std::shared_ptr<BatchNorm2d> bn1_, bn2_;
    std::shared_ptr<Sequential> downsample_;  // null: identity
};

// torchvision Bottleneck (v1.5: stride on the 3x3), out channels planes * 4.
class Bottleneck : public Module {
   public:
    static constexpr int64_t kExpansion = 4;
    Bottleneck(int64_t in_planes, int64_t planes, int64_t stride);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t in_, planes_, stride_;
    std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
    std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
    std::shared_ptr<Sequential> downsample_;  // null: identity
};

// The CIFAR BasicBlock with the parameter-free option-A shortcut.
class CifarBasicBlock : public Module {
   public:
    CifarBasicBlock(int64_t in_planes, int64_t planes, int64_t stride);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t in_, planes_, stride_;
    std::shared_ptr<Conv2d> conv1_, conv2_;
    std::shared_ptr<BatchNorm2d> bn1_, bn2_;
};

// Global average pool + flatten: (N, C, H, W) -> (N, C). No parameters.
class GlobalAvgPool : public Module {
   public:
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "GlobalAvgPool"; }
};

}  // namespace obl
