// The small grayscale CNN (models/small_cnn.h).
#include "models/small_cnn.h"

#include <sstream>
#include <utility>
#include <vector>

#include "models/resnet.h"  // GlobalAvgPool
#include "nn/modules/linear.h"
#include "nn/ops.h"

namespace obl {

ConvBnReluBlock::ConvBnReluBlock(int64_t in_channels, int64_t out_channels, bool maxpool,
                                 uint64_t seed)
    : in_(in_channels), out_(out_channels), maxpool_(maxpool), seed_(seed) {
    Conv2dParams p;
    p.pad_h = p.pad_w = 1;
    conv_ = register_module("conv", std::make_shared<Conv2d>(in_, out_, 3, p, false, seed_));
    bn_ = register_module("bn", std::make_shared<BatchNorm2d>(out_));
}

Tensor ConvBnReluBlock::forward(const Tensor& x) {
    const Tensor h = relu(bn_->forward(conv_->forward(x)));
    return maxpool_ ? max_pool2d(h, 2, 2) : h;
}

std::unique_ptr<Module> ConvBnReluBlock::clone() const {
    auto fresh = std::make_unique<ConvBnReluBlock>(in_, out_, maxpool_, seed_);
    fresh->copy_state_from(*this);
    return fresh;
}

std::string ConvBnReluBlock::repr() const {
    std::ostringstream s;
    s << "ConvBnReluBlock(" << in_ << ", " << out_ << (maxpool_ ? ", maxpool" : "") << ")";
    return s.str();
}

std::shared_ptr<Classifier> make_small_cnn(int num_classes, int64_t in_channels,
                                           std::array<int64_t, 3> widths) {
    OBL_CHECK(num_classes >= 1, "make_small_cnn: num_classes must be >= 1, got ", num_classes);
    OBL_CHECK(in_channels >= 1, "make_small_cnn: in_channels must be >= 1, got ", in_channels);
    for (int64_t w : widths)
        OBL_CHECK(w >= 1, "make_small_cnn: widths must be >= 1, got (", widths[0], ", ", widths[1],
                  ", ", widths[2], ")");
    const bool standard = in_channels == 1 && widths == std::array<int64_t, 3>{32, 64, 128};
    std::vector<Stage> stages;
    stages.push_back(
        {"block1", "block1", std::make_shared<ConvBnReluBlock>(in_channels, widths[0], true, 11)});
    stages.push_back(
        {"block2", "block2", std::make_shared<ConvBnReluBlock>(widths[0], widths[1], true, 12)});
    stages.push_back(
        {"block3", "block3", std::make_shared<ConvBnReluBlock>(widths[1], widths[2], false, 13)});
    stages.push_back({"pool", "", std::make_shared<GlobalAvgPool>()});
    stages.push_back({"fc", "fc", std::make_shared<Linear>(widths[2], num_classes, true, 14)});
    return std::make_shared<Classifier>(
        standard ? "fmnist_cnn" : "small_cnn_custom", std::move(stages),
        std::map<std::string, std::string>{{"pre_logits", "fc"}, {"last_block", "block3"}},
        num_classes);
}

}  // namespace obl
