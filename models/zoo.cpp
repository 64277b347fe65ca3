// The model zoo table and weight loading (see models/zoo.h).
#include "models/zoo.h"

#include <cstdlib>
#include <sstream>

#include "models/resnet.h"
#include "models/small_cnn.h"
#include "models/swin.h"
#include "models/vit.h"
#include "nn/io/safetensors.h"

namespace obl {

namespace {

const std::vector<float> kImagenetMean{0.485f, 0.456f, 0.406f};
const std::vector<float> kImagenetStd{0.229f, 0.224f, 0.225f};
// Fashion-MNIST train split, pixels in [0, 1] (`oblivio data info --dataset fmnist`).
const std::vector<float> kFmnistMean{0.2860f};
const std::vector<float> kFmnistStd{0.3530f};

ZooEntry cifar_resnet(int depth) {
    return {"cifar_resnet" + std::to_string(depth),
            "He et al. CIFAR ResNet-" + std::to_string(depth) + " (option-A shortcuts)",
            32,
            10,
            kImagenetMean,
            kImagenetStd,
            "pre_logits",
            [depth](int k) { return make_cifar_resnet(depth, k); },
            3};
}

ZooEntry torchvision_resnet(const std::string& name, const std::string& description,
                            ResNetConfig::Block block, std::vector<int64_t> layers, bool cifar) {
    ResNetConfig c;
    c.block = block;
    c.layers = std::move(layers);
    c.cifar_stem = cifar;
    return {name,
            description,
            cifar ? 32 : 224,
            cifar ? 100 : 1000,
            kImagenetMean,
            kImagenetStd,
            "pre_logits",
            [c](int k) {
                ResNetConfig ck = c;
                ck.num_classes = k;
                return make_resnet(ck);
            },
            3};
}

std::vector<ZooEntry> build_table() {
    using B = ResNetConfig::Block;
    std::vector<ZooEntry> t;
    for (int depth : {20, 32, 44, 56}) t.push_back(cifar_resnet(depth));
    t.push_back(
        torchvision_resnet("resnet18", "torchvision ResNet-18", B::Basic, {2, 2, 2, 2}, false));
    t.push_back(torchvision_resnet("resnet50", "torchvision ResNet-50 (v1.5)", B::Bottleneck,
                                   {3, 4, 6, 3}, false));
    t.push_back(torchvision_resnet("resnet18_cifar", "ResNet-18, CIFAR stem (3x3/1, no max-pool)",
                                   B::Basic, {2, 2, 2, 2}, true));
    t.push_back(torchvision_resnet("resnet50_cifar", "ResNet-50, CIFAR stem (3x3/1, no max-pool)",
                                   B::Bottleneck, {3, 4, 6, 3}, true));
    t.push_back({"vit_b_16", "torchvision ViT-B/16", 224, 1000, kImagenetMean, kImagenetStd,
                 "pre_logits",
                 [](int k) {
                     VitConfig c;
                     c.num_classes = k;
                     return make_vit(c);
                 },
                 3});
    t.push_back({"swin_t", "torchvision Swin-T", 224, 1000, kImagenetMean, kImagenetStd,
                 "pre_logits",
                 [](int k) {
                     SwinConfig c;
                     c.num_classes = k;
                     return make_swin(c);
                 },
                 3});
    t.push_back({"fmnist_cnn", "small CNN for 1x28x28 Fashion-MNIST (3 conv blocks + fc)", 28, 10,
                 kFmnistMean, kFmnistStd, "pre_logits", [](int k) { return make_small_cnn(k); },
                 1});
    return t;
}

std::string valid_names() {
    std::string s;
    for (const ZooEntry& e : zoo()) s += (s.empty() ? "" : ", ") + e.name;
    return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const std::vector<ZooEntry>& zoo() {
    static const std::vector<ZooEntry> table = build_table();
    return table;
}

const ZooEntry& zoo_entry(const std::string& name) {
    for (const ZooEntry& e : zoo())
        if (e.name == name) return e;
    OBL_THROW("unknown model '", name, "'; the zoo has: ", valid_names());
}

std::shared_ptr<Classifier> make_model(const std::string& name, int num_classes) {
    const ZooEntry& e = zoo_entry(name);
    std::shared_ptr<Classifier> m = e.build(num_classes > 0 ? num_classes : e.default_num_classes);
    m->eval();
    return m;
}

LoadedModel load_zoo_model(const std::string& path, const std::string& arch) {
    const ZooEntry& entry = zoo_entry(arch);
    SafetensorsFile file = read_safetensors(path);
    const auto a = file.metadata.find("arch");
    OBL_CHECK(a != file.metadata.end(), path, ": no 'arch' in the safetensors metadata (expected '",
              arch, "'); convert with tools/convert_checkpoint.py --arch ", arch);
    OBL_CHECK(a->second == arch, path, ": the weights are for arch '", a->second,
              "' but --arch is '", arch, "'");
    const auto k = file.metadata.find("num_classes");
    OBL_CHECK(k != file.metadata.end(), path, ": no 'num_classes' in the safetensors metadata");
    char* end = nullptr;
    const long num_classes = std::strtol(k->second.c_str(), &end, 10);
    OBL_CHECK(!k->second.empty() && *end == '\0' && num_classes >= 1 && num_classes <= 1000000,
              path, ": metadata num_classes '", k->second, "' is not a positive integer");

    std::shared_ptr<Classifier> model = entry.build(static_cast<int>(num_classes));
    for (const auto& [name, t] : model->state_dict())
        if (ends_with(name, ".num_batches_tracked") && !file.tensors.count(name))
            file.tensors[name] = Tensor::zeros({}, DType::I64);
    try {
        model->load_state_dict(file.tensors, /*strict=*/true);
    } catch (const Error& e) {
        OBL_THROW(path, ": ", e.what());
    }
    model->eval();
    return {model, &entry, file.metadata};
}

}  // namespace obl
