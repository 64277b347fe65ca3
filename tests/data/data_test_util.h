// Helpers for the data/ tests: temporary directories, writers for the official file formats,
// and where the real data sets live.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace obl::test {

// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
   public:
    explicit TempDir(const std::string& tag);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

   private:
    std::string path_;
};

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
void write_text(const std::string& path, const std::string& text);
void make_dirs(const std::string& path);

// The shared directory: $OBL_SHARED_DIR, else <repo>/../shared (found from this file's path).
std::string shared_dir();
// The CIFAR-10 binary directory under shared_dir()/data, or "" when it is not there.
std::string real_cifar10_dir();
// /usr/share/datasets/fashion-mnist when its four files are there, else "".
std::string real_fmnist_dir();

// Pixel value of a synthetic CIFAR record: a pattern that differs per record, channel and pixel.
inline uint8_t cifar_pixel(int64_t record, int64_t channel, int64_t pixel) {
    return static_cast<uint8_t>((record * 31 + channel * 7 + pixel * 3) % 256);
}
// One CIFAR-10 record (label + pixels) or, with coarse >= 0, a CIFAR-100 record.
std::vector<uint8_t> cifar_record(int64_t record, int fine, int coarse = -1);

// The message of the obl::Error that f throws, or "(no obl::Error thrown)".
std::string error_of(const std::function<void()>& f);

// An IDX file of unsigned bytes, gzipped with zlib's gzopen when `gzip`.
void write_idx(const std::string& path, const std::vector<int64_t>& dims,
               const std::vector<uint8_t>& data, bool gzip);

}  // namespace obl::test
