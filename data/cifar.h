// CIFAR-10 and CIFAR-100 readers, binary version (https://www.cs.toronto.edu/~kriz/cifar.html).
//
// CIFAR-10 record (3,073 bytes): 1 label byte (0-9), then 3,072 pixel bytes: 1,024 red, 1,024
//   green, 1,024 blue, each channel row-major 32x32. Files: data_batch_1.bin ... data_batch_5.bin
//   (train), test_batch.bin (test), class names one per line in batches.meta.txt.
// CIFAR-100 record (3,074 bytes): 1 coarse label byte (0-19), 1 fine label byte (0-99), then the
//   same 3,072 pixels. Files: train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt.
//   The dataset's labels are the fine ones; the coarse ones stay available (coarse_labels()).
// Samples are u8 (3, 32, 32), RGB, exactly the bytes of the file (the layout already is CHW).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace obl {

enum class CifarKind { Cifar10, Cifar100 };

constexpr int64_t kCifarPixels = 3 * 32 * 32;
// Bytes per record: labels + pixels.
constexpr int64_t cifar_record_bytes(CifarKind kind) {
    return (kind == CifarKind::Cifar10 ? 1 : 2) + kCifarPixels;
}

// The records of one binary-version file. Throws obl::Error naming the file when it is missing,
// empty, not a whole number of records (naming the truncated record and the record size), or
// holds a label out of range (naming the record).
struct CifarRecords {
    Tensor images;  // u8 (N, 3, 32, 32)
    Tensor fine;    // i64 (N): the CIFAR-10 label, or the CIFAR-100 fine label
    Tensor coarse;  // i64 (N): CIFAR-100 coarse label; undefined for CIFAR-10
};
CifarRecords read_cifar_file(const std::string& path, CifarKind kind);
// The records of several files, concatenated in order (the five CIFAR-10 training batches).
CifarRecords read_cifar_files(const std::vector<std::string>& paths, CifarKind kind);

class CifarDataset final : public Dataset {
   public:
    // `root` holds the files listed above (e.g. shared/data/cifar-10-batches-bin).
    static std::shared_ptr<CifarDataset> cifar10(const std::string& root, DataSplit split);
    static std::shared_ptr<CifarDataset> cifar100(const std::string& root, DataSplit split);

    int64_t size() const override { return data_.size(); }
    int num_classes() const override { return data_.num_classes(); }
    int64_t label(int64_t i) const override { return data_.label(i); }
    Batch batch(const std::vector<int64_t>& indices) const override { return data_.batch(indices); }
    std::vector<std::string> class_names() const override { return data_.class_names(); }
    Shape sample_shape() const override { return data_.sample_shape(); }

    CifarKind kind() const { return kind_; }
    const Tensor& images() const { return data_.x(); }  // u8 (N, 3, 32, 32)
    const Tensor& labels_tensor() const { return data_.y(); }
    const Tensor& coarse_labels() const { return coarse_; }  // CIFAR-100 only
    const std::vector<std::string>& coarse_class_names() const { return coarse_names_; }

    CifarDataset(CifarKind kind, CifarRecords records, std::vector<std::string> class_names,
                 std::vector<std::string> coarse_class_names);

   private:
    CifarKind kind_;
    TensorDataset data_;
    Tensor coarse_;
    std::vector<std::string> coarse_names_;
};

}  // namespace obl
