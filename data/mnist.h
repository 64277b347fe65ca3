// MNIST and Fashion-MNIST readers: IDX files, gzipped or not (read through zlib's gz* API, which
// also reads uncompressed files). http://yann.lecun.com/exdb/mnist/ describes the format:
//   magic: 0x00 0x00 <type> <ndims>  (type 0x08 = unsigned byte; images ndims 3, labels 1)
//   ndims big-endian uint32 sizes, then the data row-major.
// Files in `root`: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
//   t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz].
// Samples are u8 (1, 28, 28) (rows x cols taken from the file), labels 0-9.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace obl {

// Debian package dataset-fashion-mnist installs the four gzipped files here.
constexpr const char* kFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

// One IDX array of unsigned bytes. Throws obl::Error naming the file on a bad magic number, an
// unsupported type, zero or absurd dims, a truncated body (naming the record and the expected
// size) or trailing bytes.
struct IdxArray {
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;  // prod(dims) bytes
};
IdxArray read_idx_file(const std::string& path);

enum class MnistKind { Mnist, FashionMnist };
const std::vector<std::string>& mnist_class_names(MnistKind kind);

// The images (u8 (N, 1, rows, cols)) and labels of one split, with the class names of `kind`.
std::shared_ptr<TensorDataset> load_mnist(const std::string& root, DataSplit split, MnistKind kind);

}  // namespace obl
