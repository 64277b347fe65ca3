// Helpers for the data/ tests (see data_test_util.h).
#include "tests/data/data_test_util.h"

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "kernels/common/check.h"

namespace obl::test {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = (fs::temp_directory_path() / ("obl_data_" + tag + "_" + std::to_string(::getpid()) +
                                          "_" + std::to_string(counter++)))
                .string();
    fs::remove_all(path_);
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

void make_dirs(const std::string& path) { fs::create_directories(path); }

std::string shared_dir() {
    if (const char* env = std::getenv("OBL_SHARED_DIR")) return env;
    // __FILE__ is <repo>/tests/data/data_test_util.cpp.
    return (fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "shared")
        .string();
}

std::string real_cifar10_dir() {
    const std::string dir = shared_dir() + "/data/cifar-10-batches-bin";
    return fs::exists(dir + "/data_batch_1.bin") && fs::exists(dir + "/test_batch.bin") ? dir : "";
}

std::string real_fmnist_dir() {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
        if (!fs::exists(dir + "/" + f)) return "";
    return dir;
}

std::vector<uint8_t> cifar_record(int64_t record, int fine, int coarse) {
    std::vector<uint8_t> r;
    if (coarse >= 0) r.push_back(static_cast<uint8_t>(coarse));
    r.push_back(static_cast<uint8_t>(fine));
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t p = 0; p < 1024; ++p) r.push_back(cifar_pixel(record, c, p));
    return r;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no obl::Error thrown)";
}

void write_idx(const std::string& path, const std::vector<int64_t>& dims,
               const std::vector<uint8_t>& data, bool gzip) {
    std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
    for (int64_t d : dims)
        for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>((d >> s) & 0xff));
    bytes.insert(bytes.end(), data.begin(), data.end());
    if (!gzip) return write_bytes(path, bytes);
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("gzopen failed for " + path);
    const int n = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    if (n != static_cast<int>(bytes.size())) throw std::runtime_error("gzwrite failed: " + path);
}

}  // namespace obl::test
