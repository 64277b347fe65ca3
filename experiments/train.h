// Training classifiers with oblivio itself (`oblivio train`): the originals that experiments
// unlearn from, and the oracles (the same recipe, retrained without the forget classes).
//
// A recipe is a YAML file of `key: value` pairs, the fields of TrainRecipe below (unknown key ->
// obl::Error listing the valid keys; wrong type or out-of-range value -> obl::Error naming the
// key). Paths never come from the YAML: the data root, the output and the optional starting weights
// are command-line flags.
//
// Honest selection: no early stopping and no checkpoint choice on test data. A run trains exactly
// `epochs` epochs; with val_per_class > 0 the last val_per_class training images of each class are
// held out (split_train_val, data/dataset.h) and their accuracy is REPORTED each epoch, never used
// to pick anything. The output is the model after the last epoch.
//
// Kill-safety: after every epoch the full state (weights, buffers, SGD momentum, epoch, recipe
// hash) is written atomically to `<out>.ckpt` (temp + rename). A run finding a checkpoint with the
// same recipe hash resumes after its epoch; a different hash is an error naming both (never
// silently overwritten). The final model is written atomically to `out`, then the checkpoint is
// removed. Each epoch's data order and augmentation are a pure function of (seed, epoch), so a
// resumed run gives bit-identical weights to an uninterrupted one on the CPU.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "models/classifier.h"
#include "nn/device.h"
#include "unlearn/method.h"

namespace obl {

struct TrainRecipe {
    std::string arch = "cifar_resnet20";  // a zoo entry (models/zoo.h)
    std::string dataset = "cifar10";      // a catalog name (data/catalog.h)
    int num_classes = 0;                  // 0: the dataset's class count
    int epochs = 30;
    int64_t batch_size = 128;
    double lr = 0.1;  // peak learning rate
    double momentum = 0.9;
    double weight_decay = 5e-4;
    bool nesterov = false;
    double label_smoothing = 0.0;
    std::string schedule = "cosine";  // cosine | step | multistep | constant (per epoch)
    int step_size = 30;               // step: decay every step_size epochs
    std::vector<int> milestones;      // multistep: epochs at which lr *= gamma
    double gamma = 0.1;
    int warmup_epochs = 0;  // linear warm-up from lr/10 before the schedule
    bool augment = true;    // random crop (padding crop_padding; 0 = flip only) + horizontal flip
    int crop_padding = 4;   //
    double rotation = 0;    // max degrees of random rotation (Tiny-ImageNet: 15), 0 = off
    int resize = 0;         // resize inputs to resize x resize (ViT/Swin: 224), 0 = native
    std::string interpolation = "bilinear";  // resize filter: bilinear | bicubic
    int64_t val_per_class = 0;  // declared validation split held out of train (reported only)
    std::vector<int> exclude_classes;  // oracle: train without these classes (same head size)
    int64_t seed = 0;
    int workers = 2;  // data-loader threads (no effect on the result)
};
template <class V>
void fields(TrainRecipe& c, V&& v) {
    v("arch", c.arch, "zoo architecture (oblivio models)");
    v("dataset", c.dataset, "dataset name (cifar10, cifar100, fmnist, tinyimagenet, ...)");
    v("num_classes", c.num_classes, "head size; 0 = the dataset's class count", kNonNegative);
    v("epochs", c.epochs, "training epochs (fixed; no early stopping)", at_least(1));
    v("batch_size", c.batch_size, "images per SGD step", at_least(1));
    v("lr", c.lr, "peak learning rate", kPositive);
    v("momentum", c.momentum, "SGD momentum", between(0, 1));
    v("weight_decay", c.weight_decay, "L2 weight decay", kNonNegative);
    v("nesterov", c.nesterov, "Nesterov momentum");
    v("label_smoothing", c.label_smoothing, "label smoothing of the CE loss", between(0, 1));
    v("schedule", c.schedule, "cosine | step | multistep | constant");
    v("step_size", c.step_size, "step schedule: epochs between decays", at_least(1));
    v("milestones", c.milestones, "multistep schedule: decay epochs", kNonNegative);
    v("gamma", c.gamma, "step/multistep decay factor", kPositive);
    v("warmup_epochs", c.warmup_epochs, "linear warm-up epochs", kNonNegative);
    v("augment", c.augment, "random crop (crop_padding; 0 = flip only) + horizontal flip");
    v("crop_padding", c.crop_padding, "random crop padding (pixels)", kNonNegative);
    v("rotation", c.rotation, "random rotation, max degrees (0 = off)", between(0, 180));
    v("resize", c.resize, "resize inputs to this size (0 = native)", kNonNegative);
    v("interpolation", c.interpolation, "resize filter: bilinear | bicubic");
    v("val_per_class", c.val_per_class, "validation images held out per class (reported only)",
      kNonNegative);
    v("exclude_classes", c.exclude_classes, "oracle: classes left out of training", kNonNegative);
    v("seed", c.seed, "initialisation, data order and augmentation seed", kNonNegative);
    v("workers", c.workers, "data-loader threads (no effect on the result)", kNonNegative);
}

// Reads a recipe YAML (a flat map: `key: value`, lists as `[3, 5]`) and applies `overrides`
// (--set key=value) after it, in order. Throws obl::Error naming the file (and line) and the key
// for unknown keys (listing the valid ones), wrong types, NaN/Inf or out-of-range values, nested
// maps, and for an unknown arch / dataset / schedule (check_recipe).
TrainRecipe load_recipe(const std::string& yaml_path, const Overrides& overrides = {});
// Sets one field from text, as a YAML value or --set would; `where` prefixes errors ("a.yaml:3").
void set_recipe_field(TrainRecipe& recipe, const std::string& key, const std::string& text,
                      const std::string& where);
// Validates a recipe built in code (same checks as load_recipe): field ranges, arch in the zoo,
// dataset in the catalog, schedule name, multistep milestones present, warmup_epochs < epochs,
// exclude_classes without repeats (and inside [0, num_classes) when num_classes > 0).
void check_recipe(const TrainRecipe& recipe);
// Stable hash (16 hex digits, config_hash of "train_recipe" and every field but `workers`, which
// cannot change the result): a checkpoint resumes only under the same hash.
std::string recipe_hash(const TrainRecipe& recipe);
// The fields as a JSON object {"arch": "fmnist_cnn", "epochs": 3, "milestones": [], ...}.
std::string recipe_json(const TrainRecipe& recipe);

struct TrainEpoch {
    int epoch = 0;  // 0-based
    double lr = 0;
    double loss = 0;       // mean training loss
    double train_acc = 0;  // running accuracy on the (augmented) training batches
    double val_acc = -1;   // -1 without a validation split
    int64_t images = 0;    // training images seen (after exclude_classes)
    double seconds = 0;
    double images_per_second = 0;
};

struct TrainOptions {
    Device device = Device::cpu();
    // Progress: called about twice a second during an epoch with a one-line status (loss,
    // accuracy, images/s, ETA; epoch_done = false: the CLI redraws it in place) and with
    // epoch_done = true for lines to keep: each finished epoch, a resume, an --init note.
    std::function<void(const std::string& line, bool epoch_done)> progress;
    // Starting weights (optional): a safetensors file of the same arch (fine-tuning from
    // converted weights), loaded after the seeded initialisation. Tensors of the last stage (the
    // classifier head) whose shape differs (another class count) keep their fresh values; any
    // other missing, unexpected or misshapen tensor is an error. "" = from scratch.
    std::string init_weights;
    // Test for kill-safety: stop (as if killed) after this many epochs of THIS call, -1 = never.
    int stop_after_epochs = -1;
};

struct TrainOutcome {
    std::shared_ptr<Classifier> model;  // eval mode, on the CPU
    std::vector<TrainEpoch> history;    // every epoch, including ones done before a resume
    int resumed_from_epoch = -1;        // -1: started fresh; k: epochs 0..k-1 came from the ckpt
    double seconds = 0;                 // wall time of this call
    bool finished = false;              // false when stop_after_epochs cut it short
    std::string recipe_hash;            // of the resolved recipe (num_classes filled in)
};

// Trains `recipe` on the train split of `dataset` under `data_root` ("" = the dataset's default
// root), with the declared validation split when val_per_class > 0, checkpointing to
// `<out>.ckpt` and writing `out` at the end (see the top of this file). `out` gets metadata
// arch, num_classes, dataset, recipe (the resolved fields as JSON), recipe_hash,
// exclude_classes, epochs, so load_zoo_model(out, arch) reads it back.
TrainOutcome train_model(const TrainRecipe& recipe, const std::string& data_root,
                         const std::string& out, const TrainOptions& options = {});

// The training loop itself, on datasets the caller opened (train_model's second half; tests use
// small in-memory TensorDatasets). `train` gives raw samples (u8 pixels or f32 in [0, 1],
// (C, H, W) with C = the zoo entry's in_channels) and labels in [0, num_classes); `val` may be
// null. exclude_classes is applied here, to both. recipe.num_classes = 0 takes
// train->num_classes(). recipe.dataset is only recorded.
TrainOutcome train_on(const TrainRecipe& recipe, std::shared_ptr<const Dataset> train,
                      std::shared_ptr<const Dataset> val, const std::string& out,
                      const TrainOptions& options = {});

// Evaluation inputs of a recipe: [resize] -> normalize with the zoo entry's mean/std.
std::shared_ptr<const Compose> eval_transforms(const TrainRecipe& recipe);
// Training inputs: [random_crop(pad) + horizontal_flip] -> [random_rotation] -> [resize] ->
// normalize.
std::shared_ptr<const Compose> train_transforms(const TrainRecipe& recipe, const Shape& sample);

// Top-1 and per-class accuracy of `model` (put in eval mode) on `data` through `transforms`.
struct Accuracy {
    double top1 = 0;
    std::vector<int64_t> correct, count;  // per class (model.num_classes() entries)
    double per_class(int c) const;        // correct / count, or 0 for a class with no sample
};
Accuracy evaluate_accuracy(Classifier& model, std::shared_ptr<const Dataset> data,
                           std::shared_ptr<const Compose> transforms, Device device,
                           int64_t batch_size = 256, int num_workers = 1);

}  // namespace obl
