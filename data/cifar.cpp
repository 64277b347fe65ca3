// CIFAR-10 / CIFAR-100 binary-version readers (format in data/cifar.h).
#include "data/cifar.h"

#include <cstring>

#include "data/file_util.h"

namespace obl {

using data_detail::join_path;

namespace {

// Reads a class-name file that must have exactly `expected` non-empty lines.
std::vector<std::string> read_names(const std::string& path, size_t expected) {
    std::vector<std::string> names = data_detail::read_lines(path, "class names");
    for (std::string& n : names) n = data_detail::trim(n);
    OBL_CHECK(names.size() == expected, path, ": expected ", expected,
              " class names (one per line), found ", names.size());
    for (size_t i = 0; i < names.size(); ++i)
        OBL_CHECK(!names[i].empty(), path, ": class name on line ", i + 1, " is empty");
    return names;
}

}  // namespace

CifarRecords read_cifar_files(const std::vector<std::string>& paths, CifarKind kind) {
    const int64_t record = cifar_record_bytes(kind);
    const int labels = kind == CifarKind::Cifar10 ? 1 : 2;
    const char* format = kind == CifarKind::Cifar10 ? "CIFAR-10" : "CIFAR-100";
    // Validate every file's length before allocating anything.
    std::vector<int64_t> counts;
    int64_t total = 0;
    for (const std::string& path : paths) {
        const uint64_t bytes = data_detail::file_size(path);
        const uint64_t rec = static_cast<uint64_t>(record);
        OBL_CHECK(bytes > 0, format, " file ", path, " is empty (expected records of ", record,
                  " bytes)");
        OBL_CHECK(bytes % rec == 0, format, " file ", path, " is truncated or corrupt: its size ",
                  bytes, " bytes is not a multiple of the record size ", record, " (record ",
                  bytes / rec, " has ", bytes % rec, " of ", record, " bytes)");
        counts.push_back(static_cast<int64_t>(bytes / rec));
        total += counts.back();
    }

    CifarRecords r{Tensor::empty({total, 3, 32, 32}, DType::U8), Tensor::empty({total}, DType::I64),
                   kind == CifarKind::Cifar100 ? Tensor::empty({total}, DType::I64) : Tensor()};
    const int64_t fine_classes = kind == CifarKind::Cifar10 ? 10 : 100;
    int64_t row = 0;
    for (size_t f = 0; f < paths.size(); ++f) {
        const std::string& path = paths[f];
        const std::vector<uint8_t> raw = data_detail::read_file(path);
        OBL_CHECK(static_cast<int64_t>(raw.size()) == counts[f] * record, format, " file ", path,
                  " changed size while being read (expected ", counts[f] * record, " bytes)");
        for (int64_t i = 0; i < counts[f]; ++i, ++row) {
            const uint8_t* rec = raw.data() + i * record;
            const int64_t fine = rec[labels - 1];
            OBL_CHECK(fine < fine_classes, format, " file ", path, " record ", i, " (byte offset ",
                      i * record, "): ", kind == CifarKind::Cifar10 ? "label " : "fine label ",
                      fine, " outside [0, ", fine_classes, ")");
            r.fine.i64()[row] = fine;
            if (kind == CifarKind::Cifar100) {
                OBL_CHECK(rec[0] < 20, format, " file ", path, " record ", i, " (byte offset ",
                          i * record, "): coarse label ", int(rec[0]), " outside [0, 20)");
                r.coarse.i64()[row] = rec[0];
            }
            std::memcpy(r.images.u8() + row * kCifarPixels, rec + labels, kCifarPixels);
        }
    }
    return r;
}

CifarRecords read_cifar_file(const std::string& path, CifarKind kind) {
    return read_cifar_files({path}, kind);
}

CifarDataset::CifarDataset(CifarKind kind, CifarRecords records,
                           std::vector<std::string> class_names,
                           std::vector<std::string> coarse_class_names)
    : kind_(kind),
      data_(records.images, records.fine, kind == CifarKind::Cifar10 ? 10 : 100,
            std::move(class_names)),
      coarse_(records.coarse),
      coarse_names_(std::move(coarse_class_names)) {}

std::shared_ptr<CifarDataset> CifarDataset::cifar10(const std::string& root, DataSplit split) {
    OBL_CHECK(data_detail::directory_exists(root), "CIFAR-10 root ", root,
              " is not a directory (expected data_batch_1.bin ... test_batch.bin)");
    std::vector<std::string> files;
    if (split == DataSplit::Train) {
        for (int b = 1; b <= 5; ++b)
            files.push_back(join_path(root, "data_batch_" + std::to_string(b) + ".bin"));
    } else {
        files.push_back(join_path(root, "test_batch.bin"));
    }
    return std::make_shared<CifarDataset>(
        CifarKind::Cifar10, read_cifar_files(files, CifarKind::Cifar10),
        read_names(join_path(root, "batches.meta.txt"), 10), std::vector<std::string>{});
}

std::shared_ptr<CifarDataset> CifarDataset::cifar100(const std::string& root, DataSplit split) {
    OBL_CHECK(data_detail::directory_exists(root), "CIFAR-100 root ", root,
              " is not a directory (expected train.bin, test.bin, fine_label_names.txt)");
    const std::string file = join_path(root, split == DataSplit::Train ? "train.bin" : "test.bin");
    return std::make_shared<CifarDataset>(
        CifarKind::Cifar100, read_cifar_file(file, CifarKind::Cifar100),
        read_names(join_path(root, "fine_label_names.txt"), 100),
        read_names(join_path(root, "coarse_label_names.txt"), 20));
}

}  // namespace obl
