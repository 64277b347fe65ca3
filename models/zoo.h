// The model zoo: an explicit table, written out by hand in zoo.cpp (no self-registration,
// DESIGN.md §G/§M.6), of every architecture the CLI and the experiment configs can name:
//
//   name            input    classes  builder
//   cifar_resnet20  32x32    10       make_cifar_resnet(20)   He et al. CIFAR ResNet, option A
//   cifar_resnet32  32x32    10       make_cifar_resnet(32)
//   cifar_resnet44  32x32    10       make_cifar_resnet(44)
//   cifar_resnet56  32x32    10       make_cifar_resnet(56)
//   resnet18        224      1000     make_resnet (torchvision, ImageNet stem)
//   resnet50        224      1000     make_resnet (Bottleneck [3, 4, 6, 3])
//   resnet18_cifar  32x32    100      make_resnet (CIFAR stem: 3x3/1 conv1, no max-pool)
//   resnet50_cifar  32x32    100      make_resnet (CIFAR stem)
//   vit_b_16        224      1000     make_vit (models/vit.h)
//   swin_t          224      1000     make_swin (models/swin.h)
//   fmnist_cnn      1x28x28  10       make_small_cnn (models/small_cnn.h), grayscale
//
// Every RGB entry normalises inputs with the ImageNet statistics mean (0.485, 0.456, 0.406), std
// (0.229, 0.224, 0.225): the shared CIFAR-10 ResNets were trained with them (their README), the
// torchvision models are, and the models oblivio trains use them too, so one rule fits all.
// The grayscale fmnist_cnn uses Fashion-MNIST's own statistics, mean 0.2860, std 0.3530 (train
// split, `oblivio data info --dataset fmnist`).
// Split points are not duplicated here: they are the built model's stage names and aliases
// (Classifier::split_points()); the table gives the default one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/classifier.h"

namespace obl {

struct ZooEntry {
    std::string name;         // "cifar_resnet20": the --arch value and the weights' 'arch'
    std::string description;  // one line for `oblivio models`
    int64_t input_size;       // inputs are (in_channels, input_size, input_size)
    int default_num_classes;  // the class count the entry is normally trained with
    std::vector<float> mean;  // per-channel normalisation of [0, 1] RGB inputs
    std::vector<float> std;
    std::string default_split;  // the split point experiments use unless told otherwise
    std::function<std::shared_ptr<Classifier>(int num_classes)> build;
    int64_t in_channels = 3;  // 3 (RGB) for every entry but the grayscale ones

    // One input sample's shape: (in_channels, input_size, input_size).
    Shape input_shape() const { return Shape{in_channels, input_size, input_size}; }
};

// The table, in the order above.
const std::vector<ZooEntry>& zoo();
// The entry called `name`; throws obl::Error listing the valid names otherwise.
const ZooEntry& zoo_entry(const std::string& name);
// zoo_entry(name).build(num_classes), in eval mode (num_classes <= 0: the entry's default).
std::shared_ptr<Classifier> make_model(const std::string& name, int num_classes = 0);

// A model built from the zoo and loaded from a safetensors file (tools/convert_checkpoint.py or
// Module::save_safetensors output). The file's metadata must name `arch` ('arch' key; an error
// names both when they differ) and give 'num_classes'; the model is built with that class count
// and loaded strictly (missing/unexpected keys and shape mismatches all throw). One compatibility
// rule, PyTorch's own (BatchNorm._load_from_state_dict for checkpoints older than torch 0.4.1):
// a missing "<bn>.num_batches_tracked" is taken as 0. Returned in eval mode, on the CPU.
struct LoadedModel {
    std::shared_ptr<Classifier> model;
    const ZooEntry* entry;
    std::map<std::string, std::string> metadata;
};
LoadedModel load_zoo_model(const std::string& path, const std::string& arch);

}  // namespace obl
