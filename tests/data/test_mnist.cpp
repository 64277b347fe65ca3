// MNIST / Fashion-MNIST IDX readers: gzipped files written here with zlib's gzopen, corrupt
// headers and bodies, and the real Fashion-MNIST (Debian dataset-fashion-mnist) when installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/mnist.h"
#include "tests/data/data_test_util.h"

namespace obl {
namespace {

using test::error_of;
using test::TempDir;
using ::testing::HasSubstr;

uint8_t pixel(int64_t i, int64_t r, int64_t c) { return static_cast<uint8_t>(i * 17 + r * 5 + c); }

// n images of rows x cols with pixel(i, r, c), labels (i * 3) % 10, for both splits.
void write_mnist(const TempDir& dir, int64_t n, int64_t rows, int64_t cols, bool gzip) {
    std::vector<uint8_t> images, labels;
    for (int64_t i = 0; i < n; ++i) {
        labels.push_back(static_cast<uint8_t>((i * 3) % 10));
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) images.push_back(pixel(i, r, c));
    }
    const std::string ext = gzip ? ".gz" : "";
    for (const char* prefix : {"train", "t10k"}) {
        test::write_idx(dir / (std::string(prefix) + "-images-idx3-ubyte" + ext), {n, rows, cols},
                        images, gzip);
        test::write_idx(dir / (std::string(prefix) + "-labels-idx1-ubyte" + ext), {n}, labels,
                        gzip);
    }
}

TEST(Mnist, ReadsGzippedIdx) {
    TempDir dir("mnist_gz");
    write_mnist(dir, 7, 28, 28, true);
    auto ds = load_mnist(dir.path(), DataSplit::Train, MnistKind::FashionMnist);
    ASSERT_EQ(ds->size(), 7);
    EXPECT_EQ(ds->sample_shape(), (Shape{1, 28, 28}));
    EXPECT_EQ(ds->class_names()[0], "T-shirt/top");
    EXPECT_EQ(ds->class_names()[9], "Ankle boot");
    EXPECT_EQ(ds->label(4), 2);
    Batch b = ds->batch({5});
    EXPECT_EQ(b.x.u8()[3 * 28 + 11], pixel(5, 3, 11));
    EXPECT_EQ(load_mnist(dir.path(), DataSplit::Test, MnistKind::Mnist)->class_names()[3], "3");
}

TEST(Mnist, ReadsUncompressedIdxAndOtherSizes) {
    TempDir dir("mnist_raw");
    write_mnist(dir, 3, 5, 4, false);
    auto ds = open_dataset("mnist", dir.path(), DataSplit::Test);
    ASSERT_EQ(ds->size(), 3);
    EXPECT_EQ(ds->sample_shape(), (Shape{1, 5, 4}));
    EXPECT_EQ(ds->batch({2}).x.u8()[4 * 4 + 3], pixel(2, 4, 3));
}

TEST(Mnist, CorruptIdxFilesNameFileRecordAndSize) {
    TempDir dir("mnist_bad");
    // Truncated body: 4 images of 3x3 declared, only 3 and a half present (gzipped).
    std::vector<uint8_t> data(9 * 3 + 4, 1);
    const std::string trunc = dir / "trunc.gz";
    test::write_idx(trunc, {4, 3, 3}, data, true);
    std::string msg = error_of([&] { read_idx_file(trunc); });
    EXPECT_THAT(msg, HasSubstr(trunc));
    EXPECT_THAT(msg, HasSubstr("record 3 of 4 is incomplete"));
    EXPECT_THAT(msg, HasSubstr("records of 9 bytes"));
    EXPECT_THAT(msg, HasSubstr("expected 36 data bytes"));

    // Bad magic (a PNG header, say).
    const std::string magic = dir / "magic";
    test::write_bytes(magic, {0x89, 'P', 'N', 'G', 0, 0, 0, 1, 5});
    EXPECT_THAT(error_of([&] { read_idx_file(magic); }), HasSubstr("bad magic number 0x89504e47"));

    // Unsupported element type (0x0D = float).
    const std::string type = dir / "type";
    test::write_bytes(type, {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
    EXPECT_THAT(error_of([&] { read_idx_file(type); }), HasSubstr("element type 0xd"));

    // Header cut inside the dims.
    const std::string header = dir / "header";
    test::write_bytes(header, {0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
    EXPECT_THAT(error_of([&] { read_idx_file(header); }),
                HasSubstr("truncated in its header: expected 3 sizes of 4 bytes"));

    // Absurd dims are refused before any allocation.
    const std::string huge = dir / "huge";
    test::write_bytes(huge,
                      {0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 2});
    EXPECT_THAT(error_of([&] { read_idx_file(huge); }), HasSubstr("dimension 1 has size"));

    // Trailing bytes after the declared data.
    const std::string trailing = dir / "trailing";
    test::write_idx(trailing, {2}, {1, 2, 3}, false);
    EXPECT_THAT(error_of([&] { read_idx_file(trailing); }), HasSubstr("has trailing bytes"));

    // Corrupt gzip stream: a valid gzip header followed by garbage.
    const std::string garbage = dir / "garbage.gz";
    test::write_bytes(garbage, {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff});
    EXPECT_THAT(error_of([&] { read_idx_file(garbage); }), HasSubstr(garbage));

    // Labels out of range and count mismatch between images and labels.
    TempDir root("mnist_labels");
    write_mnist(root, 4, 2, 2, true);
    test::write_idx(root / "train-labels-idx1-ubyte.gz", {4}, {1, 2, 11, 3}, true);
    msg = error_of([&] { load_mnist(root.path(), DataSplit::Train, MnistKind::Mnist); });
    EXPECT_THAT(msg, HasSubstr("train-labels-idx1-ubyte.gz record 2: label 11"));
    test::write_idx(root / "t10k-labels-idx1-ubyte.gz", {3}, {1, 2, 3}, true);
    EXPECT_THAT(error_of([&] { load_mnist(root.path(), DataSplit::Test, MnistKind::Mnist); }),
                HasSubstr("has 4 images but"));
    EXPECT_THAT(error_of([&] { load_mnist(root / "none", DataSplit::Test, MnistKind::Mnist); }),
                HasSubstr("is not a directory"));
}

// Found by fuzz/fuzz_idx: dims 2 x 2,046,821,391 x 4,294,967,060. The size check multiplied the
// product so far by the next dim, which overflowed int64 (UB; the wrapped value passed the check).
TEST(Mnist, DimsWhoseProductOverflowsAreRefused) {
    TempDir dir("mnist_overflow");
    const std::string path = dir / "overflow";
    test::write_bytes(path,
                      {0, 0, 8, 3, 0, 0, 0, 2, 0x7a, 0, 4, 0x0f, 0xff, 0xff, 0xff, 0x14, 0x14});
    const std::string msg = error_of([&] { read_idx_file(path); });
    EXPECT_THAT(msg, HasSubstr("dimension 2 has size 4294967060"));
    EXPECT_THAT(msg, HasSubstr("product so far 4093642782"));
}

// The acceptance check on the installed Fashion-MNIST: 60,000 / 10,000, 6,000 / 1,000 per class.
TEST(Mnist, RealFashionMnistCounts) {
    const std::string root = test::real_fmnist_dir();
    if (root.empty())
        GTEST_SKIP() << "skipped: Fashion-MNIST not installed in " << kFashionMnistRoot
                     << " (apt-get install dataset-fashion-mnist)";
    EXPECT_EQ(default_dataset_root("fmnist"), root);
    auto train = load_mnist(root, DataSplit::Train, MnistKind::FashionMnist);
    auto test = load_mnist(root, DataSplit::Test, MnistKind::FashionMnist);
    EXPECT_EQ(train->sample_shape(), (Shape{1, 28, 28}));
    const DatasetSummary s = summarize(train, false), t = summarize(test, false);
    EXPECT_EQ(s.samples, 60000);
    EXPECT_EQ(t.samples, 10000);
    for (int k = 0; k < 10; ++k) {
        EXPECT_EQ(s.class_counts[k], 6000) << "class " << k;
        EXPECT_EQ(t.class_counts[k], 1000) << "class " << k;
    }
}

}  // namespace
}  // namespace obl
