// Dataset: an indexable set of labelled samples, batched on the CPU.
//
// Every source the unlearning methods consume is a Dataset (DESIGN.md §G): synthetic
// embeddings, real embeddings and images all look the same to a method. Image datasets return
// raw samples (u8 (B, C, H, W), channels RGB); transforms (data/transforms.h) and the DataLoader
// (data/loader.h) turn them into float batches. Class filtering (forget / retain splits by class
// list) is a view over any Dataset: filter_classes() and split_by_classes() below.
//
// Thread safety: batch(), label() and the accessors are const and must be safe to call from
// several threads at once (the DataLoader's prefetch workers do).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace obl {

struct Batch {
    Tensor x;  // (B, sample dims...)
    Tensor y;  // (B) i64 labels
};

// Which half of a data set with a fixed train/test split. For Tiny-ImageNet, Test is the
// labelled `val/` folder (the official test images have no labels).
enum class DataSplit { Train, Test };
const char* split_name(DataSplit split);  // "train" / "test"

class Dataset {
   public:
    virtual ~Dataset() = default;
    virtual int64_t size() const = 0;
    virtual int num_classes() const = 0;
    virtual int64_t label(int64_t i) const = 0;
    // The samples at `indices`, stacked in that order (CPU tensors).
    virtual Batch batch(const std::vector<int64_t>& indices) const = 0;

    // num_classes() names, index = label. Default: "0", "1", ...
    virtual std::vector<std::string> class_names() const;
    // The shape of one sample, e.g. [3, 32, 32]. Default: read from batch({0}) (empty dataset:
    // an empty Shape).
    virtual Shape sample_shape() const;
    // label(i) for every sample, in index order.
    std::vector<int64_t> labels() const;
};

// In-memory samples: x (N, ...) of any dtype, y (N) i64 in [0, num_classes). `class_names`, when
// given, has num_classes entries.
class TensorDataset final : public Dataset {
   public:
    TensorDataset(Tensor x, Tensor y, int num_classes, std::vector<std::string> class_names = {});

    int64_t size() const override { return x_.size(0); }
    int num_classes() const override { return num_classes_; }
    int64_t label(int64_t i) const override;
    Batch batch(const std::vector<int64_t>& indices) const override;
    std::vector<std::string> class_names() const override;
    Shape sample_shape() const override;

    const Tensor& x() const { return x_; }
    const Tensor& y() const { return y_; }

   private:
    Tensor x_, y_;
    int num_classes_;
    std::vector<std::string> class_names_;
};

// A view of `base` restricted to base indices `indices` (in that order). Labels, class count and
// class names are the base's: labels are never remapped.
class SubsetDataset final : public Dataset {
   public:
    SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices);

    int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
    int num_classes() const override { return base_->num_classes(); }
    int64_t label(int64_t i) const override;
    Batch batch(const std::vector<int64_t>& indices) const override;
    std::vector<std::string> class_names() const override { return base_->class_names(); }
    Shape sample_shape() const override { return base_->sample_shape(); }

    const Dataset& base() const { return *base_; }
    const std::vector<int64_t>& indices() const { return indices_; }  // base index of each row

   private:
    std::shared_ptr<const Dataset> base_;
    std::vector<int64_t> indices_;
};

// The samples of `base` whose label is in `classes` (keep = true) or not in it (keep = false),
// in base order. Throws when a class is outside [0, num_classes) or repeated.
std::shared_ptr<SubsetDataset> filter_classes(std::shared_ptr<const Dataset> base,
                                              const std::vector<int>& classes, bool keep);

// The class-unlearning split: forget = samples of `forget_classes`, retain = all the others.
struct ClassSplit {
    std::shared_ptr<SubsetDataset> forget, retain;
};
ClassSplit split_by_classes(std::shared_ptr<const Dataset> base,
                            const std::vector<int>& forget_classes);

// A declared validation split cut from a training set, for model selection that must not look at
// test data: the LAST `val_per_class` samples of each class (in base index order) form `val`,
// every other sample `train`. Deterministic, no randomness: the same base gives the same split.
// Throws when a class has fewer than val_per_class + 1 samples (train would lose the class).
struct TrainValSplit {
    std::shared_ptr<SubsetDataset> train, val;
};
TrainValSplit split_train_val(std::shared_ptr<const Dataset> base, int64_t val_per_class);

}  // namespace obl
