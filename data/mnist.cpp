// MNIST / Fashion-MNIST IDX readers (format in data/mnist.h).
#include "data/mnist.h"

#include <zlib.h>

#include <cstring>
#include <memory>

#include "data/file_util.h"

namespace obl {

namespace {

// Largest accepted array: 4 GiB (the real files are 47 MB); guards against corrupt dims before
// any allocation.
constexpr int64_t kMaxIdxBytes = int64_t(1) << 32;
constexpr int64_t kChunk = int64_t(1) << 20;

struct GzFile {
    gzFile f = nullptr;
    ~GzFile() {
        if (f) gzclose(f);
    }
};

// Reads up to n bytes; returns the count (< n only at the end of the stream).
int64_t gz_read(gzFile f, uint8_t* dst, int64_t n, const std::string& path) {
    int64_t got = 0;
    while (got < n) {
        const unsigned want = static_cast<unsigned>(std::min<int64_t>(n - got, kChunk));
        const int r = gzread(f, dst + got, want);
        if (r < 0) {
            int code = 0;
            const char* msg = gzerror(f, &code);
            OBL_THROW("cannot decompress ", path, ": ", msg ? msg : "zlib error", " (after ", got,
                      " bytes)");
        }
        if (r == 0) break;
        got += r;
    }
    return got;
}

std::string find_idx(const std::string& root, const std::string& stem) {
    const std::string gz = data_detail::join_path(root, stem + ".gz");
    if (data_detail::file_exists(gz)) return gz;
    const std::string raw = data_detail::join_path(root, stem);
    OBL_CHECK(data_detail::file_exists(raw), "IDX file ", gz, " (or ", raw,
              ") not found; Fashion-MNIST comes from the Debian package dataset-fashion-mnist (",
              kFashionMnistRoot, ")");
    return raw;
}

}  // namespace

IdxArray read_idx_file(const std::string& path) {
    OBL_CHECK(data_detail::file_exists(path), "cannot read IDX file ", path, ": no such file");
    GzFile file;
    file.f = gzopen(path.c_str(), "rb");
    OBL_CHECK(file.f != nullptr, "cannot open IDX file ", path);
    gzbuffer(file.f, 1 << 18);

    uint8_t magic[4];
    OBL_CHECK(gz_read(file.f, magic, 4, path) == 4, "IDX file ", path,
              " is truncated: expected a 4-byte magic number");
    OBL_CHECK(
        magic[0] == 0 && magic[1] == 0, "IDX file ", path, " has a bad magic number 0x", std::hex,
        (uint32_t(magic[0]) << 24 | uint32_t(magic[1]) << 16 | uint32_t(magic[2]) << 8 | magic[3]),
        " (expected 0x0000080N)");
    OBL_CHECK(magic[2] == 0x08, "IDX file ", path, ": element type 0x", std::hex, int(magic[2]),
              " is not supported (only unsigned byte, 0x08)");
    const int ndims = magic[3];
    OBL_CHECK(ndims >= 1 && ndims <= 4, "IDX file ", path, ": ", ndims,
              " dimensions (expected 1 to 4)");

    IdxArray a;
    int64_t total = 1;
    for (int d = 0; d < ndims; ++d) {
        uint8_t be[4];
        OBL_CHECK(gz_read(file.f, be, 4, path) == 4, "IDX file ", path,
                  " is truncated in its header: expected ", ndims, " sizes of 4 bytes");
        const int64_t n = int64_t(be[0]) << 24 | int64_t(be[1]) << 16 | int64_t(be[2]) << 8 | be[3];
        // n <= limit / total, not total * n <= limit: the product of two 32-bit sizes with
        // earlier ones can overflow int64.
        OBL_CHECK(n >= 1 && n <= kMaxIdxBytes / total, "IDX file ", path, ": dimension ", d,
                  " has size ", n, " (product so far ", total, "; at most ", kMaxIdxBytes,
                  " bytes accepted)");
        a.dims.push_back(n);
        total *= n;
    }

    // Read in chunks so that a corrupt header cannot make us allocate more than the file holds.
    const int64_t header = 4 + 4 * ndims;
    const int64_t record = total / a.dims[0];
    int64_t got = 0;
    while (got < total) {
        const int64_t want = std::min(kChunk, total - got);
        a.data.resize(static_cast<size_t>(got + want));
        const int64_t r = gz_read(file.f, a.data.data() + got, want, path);
        got += r;
        OBL_CHECK(r == want, "IDX file ", path, " is truncated: record ", got / record, " of ",
                  a.dims[0], " is incomplete (records of ", record, " bytes; expected ", total,
                  " data bytes after the ", header, "-byte header, got ", got, ")");
    }
    uint8_t extra;
    OBL_CHECK(gz_read(file.f, &extra, 1, path) == 0, "IDX file ", path,
              " has trailing bytes after its ", a.dims[0], " records of ", record,
              " bytes (expected exactly ", header + total, " bytes)");
    return a;
}

const std::vector<std::string>& mnist_class_names(MnistKind kind) {
    static const std::vector<std::string> digits = {"0", "1", "2", "3", "4",
                                                    "5", "6", "7", "8", "9"};
    static const std::vector<std::string> fashion = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return kind == MnistKind::Mnist ? digits : fashion;
}

std::shared_ptr<TensorDataset> load_mnist(const std::string& root, DataSplit split,
                                          MnistKind kind) {
    OBL_CHECK(data_detail::directory_exists(root), "MNIST root ", root, " is not a directory");
    const std::string prefix = split == DataSplit::Train ? "train" : "t10k";
    const std::string images_path = find_idx(root, prefix + "-images-idx3-ubyte");
    const std::string labels_path = find_idx(root, prefix + "-labels-idx1-ubyte");
    const IdxArray images = read_idx_file(images_path);
    const IdxArray labels = read_idx_file(labels_path);
    OBL_CHECK(images.dims.size() == 3, "IDX file ", images_path, ": images need 3 dims (N, rows, ",
              "cols), got ", images.dims.size());
    OBL_CHECK(labels.dims.size() == 1, "IDX file ", labels_path, ": labels need 1 dim, got ",
              labels.dims.size());
    const int64_t n = images.dims[0];
    OBL_CHECK(labels.dims[0] == n, "MNIST: ", images_path, " has ", n, " images but ", labels_path,
              " has ", labels.dims[0], " labels");

    Tensor x = Tensor::empty({n, 1, images.dims[1], images.dims[2]}, DType::U8);
    std::memcpy(x.u8(), images.data.data(), images.data.size());
    Tensor y = Tensor::empty({n}, DType::I64);
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t v = labels.data[static_cast<size_t>(i)];
        OBL_CHECK(v < 10, "IDX file ", labels_path, " record ", i, ": label ", int(v),
                  " outside [0, 10)");
        y.i64()[i] = v;
    }
    return std::make_shared<TensorDataset>(x, y, 10, mnist_class_names(kind));
}

}  // namespace obl
