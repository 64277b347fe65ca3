// A small CNN for 1x28x28 grayscale images (Fashion-MNIST, MNIST): the zoo's `fmnist_cnn`, the
// model the README demo trains with `oblivio train` in a few minutes on two CPU cores.
//
//   block1  x -> maxpool2(relu(bn(conv3x3(x))))    1 -> w1 channels, 28x28 -> 14x14
//   block2  x -> maxpool2(relu(bn(conv3x3(x))))   w1 -> w2 channels, 14x14 -> 7x7
//   block3  x -> relu(bn(conv3x3(x)))             w2 -> w3 channels, 7x7
//   pool    global average pool + flatten          (N, w3, 7, 7) -> (N, w3)
//   fc      linear(w3 -> K)
// conv3x3: stride 1, padding 1, no bias (the BatchNorm that follows has one); maxpool2: 2x2,
// stride 2. Widths default to (32, 64, 128): 94,186 parameters at K = 10.
//
// Stages (split points, DESIGN.md §F) are named like their parameters: "block1" ("block1.conv.
// weight", "block1.bn.{weight,bias,running_mean,running_var,num_batches_tracked}"), "block2",
// "block3", "pool" (no parameters), "fc" ("fc.weight", "fc.bias"). Aliases: "pre_logits" -> fc,
// "last_block" -> block3. The PyTorch twin is
//     block<i> = nn.Sequential(OrderedDict(conv=nn.Conv2d(.., 3, padding=1, bias=False),
//                                          bn=nn.BatchNorm2d(..)))  (+ ReLU, MaxPool2d(2))
//     fc = nn.Linear(w3, K)
// so weights trained in either load in the other by name.
//
// Initialisation: PyTorch's defaults (kaiming-uniform, bound 1/sqrt(fan_in)) from fixed seeds;
// `oblivio train` re-draws them from the recipe's seed (unlearn/train_loop.h reinitialise).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "models/classifier.h"
#include "nn/modules/batch_norm.h"
#include "nn/modules/conv2d.h"

namespace obl {

// conv3x3 (no bias) -> BatchNorm2d -> ReLU (-> 2x2 max pool). Parameters "conv.weight", "bn.*".
class ConvBnReluBlock : public Module {
   public:
    ConvBnReluBlock(int64_t in_channels, int64_t out_channels, bool maxpool, uint64_t seed);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override;

   private:
    int64_t in_, out_;
    bool maxpool_;
    uint64_t seed_;
    std::shared_ptr<Conv2d> conv_;
    std::shared_ptr<BatchNorm2d> bn_;
};

// The CNN above with `in_channels` input channels and `num_classes` outputs. Arch name
// "fmnist_cnn" for the default widths and one input channel, "small_cnn_custom" otherwise.
std::shared_ptr<Classifier> make_small_cnn(int num_classes = 10, int64_t in_channels = 1,
                                           std::array<int64_t, 3> widths = {32, 64, 128});

}  // namespace obl
