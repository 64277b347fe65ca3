// TensorDataset: row gathers from in-memory tensors.
#include <algorithm>
#include <cstring>

#include "data/dataset.h"

namespace obl {

TensorDataset::TensorDataset(Tensor x, Tensor y, int num_classes,
                             std::vector<std::string> class_names)
    : x_(x.cpu().detach()),
      y_(y.cpu().detach()),
      num_classes_(num_classes),
      class_names_(std::move(class_names)) {
    OBL_CHECK(x_.dim() >= 1 && y_.dim() == 1 && x_.size(0) == y_.size(0), "TensorDataset: x ",
              x_.describe(), " and y ", y_.describe(),
              " must have the same number of rows (y is 1-D)");
    OBL_CHECK(y_.dtype() == DType::I64, "TensorDataset: labels must be i64, got ", y_.describe());
    OBL_CHECK(num_classes_ >= 1, "TensorDataset: num_classes must be >= 1, got ", num_classes_);
    OBL_CHECK(class_names_.empty() || static_cast<int>(class_names_.size()) == num_classes_,
              "TensorDataset: ", class_names_.size(), " class names for ", num_classes_,
              " classes");
    const int64_t* labels = y_.i64();
    for (int64_t i = 0; i < y_.numel(); ++i)
        OBL_CHECK(labels[i] >= 0 && labels[i] < num_classes_, "TensorDataset: label ", labels[i],
                  " at row ", i, " outside [0, ", num_classes_, ")");
}

int64_t TensorDataset::label(int64_t i) const {
    OBL_CHECK(i >= 0 && i < size(), "TensorDataset: index ", i, " outside [0, ", size(), ")");
    return y_.i64()[i];
}

Batch TensorDataset::batch(const std::vector<int64_t>& indices) const {
    Shape xs = x_.shape();
    xs[0] = static_cast<int64_t>(indices.size());
    Batch b{Tensor::empty(xs, x_.dtype()), Tensor::empty({xs[0]}, DType::I64)};
    const size_t row_bytes = x_.nbytes() / static_cast<size_t>(std::max<int64_t>(1, size()));
    const char* src = static_cast<const char*>(x_.raw());
    char* dst = static_cast<char*>(b.x.raw());
    for (size_t r = 0; r < indices.size(); ++r) {
        const int64_t i = indices[r];
        OBL_CHECK(i >= 0 && i < size(), "TensorDataset: index ", i, " outside [0, ", size(), ")");
        std::memcpy(dst + r * row_bytes, src + static_cast<size_t>(i) * row_bytes, row_bytes);
        b.y.i64()[r] = y_.i64()[i];
    }
    return b;
}

std::vector<std::string> TensorDataset::class_names() const {
    return class_names_.empty() ? Dataset::class_names() : class_names_;
}

Shape TensorDataset::sample_shape() const {
    Shape s;
    for (int d = 1; d < x_.dim(); ++d) s.push_back(x_.size(d));
    return s;
}

}  // namespace obl
