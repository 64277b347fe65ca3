// Dataset defaults, SubsetDataset and the class filters (forget / retain splits).
#include "data/dataset.h"

#include <algorithm>
#include <string>

namespace obl {

const char* split_name(DataSplit split) { return split == DataSplit::Train ? "train" : "test"; }

std::vector<std::string> Dataset::class_names() const {
    std::vector<std::string> names;
    for (int k = 0; k < num_classes(); ++k) names.push_back(std::to_string(k));
    return names;
}

Shape Dataset::sample_shape() const {
    if (size() == 0) return Shape{};
    const Tensor x = batch({0}).x;
    Shape s;
    for (int d = 1; d < x.dim(); ++d) s.push_back(x.size(d));
    return s;
}

std::vector<int64_t> Dataset::labels() const {
    std::vector<int64_t> y(static_cast<size_t>(size()));
    for (int64_t i = 0; i < size(); ++i) y[static_cast<size_t>(i)] = label(i);
    return y;
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
    OBL_CHECK(base_ != nullptr, "SubsetDataset: base dataset is null");
    const int64_t n = base_->size();
    for (size_t r = 0; r < indices_.size(); ++r)
        OBL_CHECK(indices_[r] >= 0 && indices_[r] < n, "SubsetDataset: index ", indices_[r],
                  " at position ", r, " outside the base dataset's [0, ", n, ")");
}

int64_t SubsetDataset::label(int64_t i) const {
    OBL_CHECK(i >= 0 && i < size(), "SubsetDataset: index ", i, " outside [0, ", size(), ")");
    return base_->label(indices_[static_cast<size_t>(i)]);
}

Batch SubsetDataset::batch(const std::vector<int64_t>& indices) const {
    std::vector<int64_t> base_indices(indices.size());
    for (size_t r = 0; r < indices.size(); ++r) {
        OBL_CHECK(indices[r] >= 0 && indices[r] < size(), "SubsetDataset: index ", indices[r],
                  " outside [0, ", size(), ")");
        base_indices[r] = indices_[static_cast<size_t>(indices[r])];
    }
    return base_->batch(base_indices);
}

std::shared_ptr<SubsetDataset> filter_classes(std::shared_ptr<const Dataset> base,
                                              const std::vector<int>& classes, bool keep) {
    OBL_CHECK(base != nullptr, "filter_classes: base dataset is null");
    const int k = base->num_classes();
    std::vector<char> selected(static_cast<size_t>(k), 0);
    for (int c : classes) {
        OBL_CHECK(c >= 0 && c < k, "filter_classes: class ", c, " outside [0, ", k, ")");
        OBL_CHECK(!selected[static_cast<size_t>(c)], "filter_classes: class ", c, " listed twice");
        selected[static_cast<size_t>(c)] = 1;
    }
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < base->size(); ++i) {
        const int64_t y = base->label(i);
        const bool in = y >= 0 && y < k && selected[static_cast<size_t>(y)];
        if (in == keep) rows.push_back(i);
    }
    return std::make_shared<SubsetDataset>(std::move(base), std::move(rows));
}

ClassSplit split_by_classes(std::shared_ptr<const Dataset> base,
                            const std::vector<int>& forget_classes) {
    ClassSplit s;
    s.forget = filter_classes(base, forget_classes, true);
    s.retain = filter_classes(std::move(base), forget_classes, false);
    return s;
}

TrainValSplit split_train_val(std::shared_ptr<const Dataset> base, int64_t val_per_class) {
    OBL_CHECK(base != nullptr, "split_train_val: base dataset is null");
    OBL_CHECK(val_per_class >= 0, "split_train_val: val_per_class is ", val_per_class,
              ", must be >= 0");
    const int k = base->num_classes();
    const std::vector<int64_t> labels = base->labels();
    std::vector<int64_t> count(static_cast<size_t>(k), 0);
    for (int64_t y : labels) ++count[static_cast<size_t>(y)];
    for (int c = 0; c < k; ++c) {
        OBL_CHECK(count[static_cast<size_t>(c)] > val_per_class, "split_train_val: class ", c,
                  " has ", count[static_cast<size_t>(c)], " samples, need more than ",
                  val_per_class, " to hold ", val_per_class, " out for validation");
    }
    // Walk backwards so the last val_per_class of each class go to val.
    std::vector<int64_t> taken(static_cast<size_t>(k), 0);
    std::vector<char> is_val(labels.size(), 0);
    for (size_t i = labels.size(); i-- > 0;) {
        int64_t& t = taken[static_cast<size_t>(labels[i])];
        if (t < val_per_class) {
            is_val[i] = 1;
            ++t;
        }
    }
    std::vector<int64_t> train, val;
    for (size_t i = 0; i < labels.size(); ++i)
        (is_val[i] ? val : train).push_back(static_cast<int64_t>(i));
    TrainValSplit s;
    s.train = std::make_shared<SubsetDataset>(base, std::move(train));
    s.val = std::make_shared<SubsetDataset>(std::move(base), std::move(val));
    return s;
}

}  // namespace obl
