// CIFAR-10 / CIFAR-100 binary readers: small files written here in the official layout, corrupt
// files, and the real CIFAR-10 in ../shared when present (the acceptance counts and means).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/cifar.h"
#include "tests/data/data_test_util.h"

namespace obl {
namespace {

using test::cifar_pixel;
using test::cifar_record;
using test::error_of;
using test::TempDir;
using ::testing::HasSubstr;

const char* kCifar10Names =
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";

// Writes `records` CIFAR-10 records per file; record r of file f has label (f + r) % 10 and the
// pixel pattern of global record number f * records + r.
void write_cifar10(const TempDir& dir, int records) {
    for (int f = 0; f < 6; ++f) {
        std::vector<uint8_t> bytes;
        for (int r = 0; r < records; ++r) {
            const auto rec = cifar_record(f * records + r, (f + r) % 10);
            bytes.insert(bytes.end(), rec.begin(), rec.end());
        }
        test::write_bytes(dir / (f < 5 ? "data_batch_" + std::to_string(f + 1) + ".bin"
                                       : std::string("test_batch.bin")),
                          bytes);
    }
    test::write_text(dir / "batches.meta.txt", kCifar10Names);
}

TEST(Cifar, Cifar10ReadsOfficialLayout) {
    TempDir dir("cifar10");
    write_cifar10(dir, 3);
    auto train = CifarDataset::cifar10(dir.path(), DataSplit::Train);
    auto test = CifarDataset::cifar10(dir.path(), DataSplit::Test);
    ASSERT_EQ(train->size(), 15);
    ASSERT_EQ(test->size(), 3);
    EXPECT_EQ(train->num_classes(), 10);
    EXPECT_EQ(train->sample_shape(), (Shape{3, 32, 32}));
    EXPECT_EQ(train->class_names()[0], "airplane");
    EXPECT_EQ(train->class_names()[9], "truck");
    EXPECT_FALSE(train->coarse_labels().defined());
    // File 2 (data_batch_3.bin), record 1 is global row 7: label (2 + 1) % 10.
    EXPECT_EQ(train->label(7), 3);
    Batch b = train->batch({7, 0});
    ASSERT_EQ(b.x.shape(), (Shape{2, 3, 32, 32}));
    ASSERT_EQ(b.x.dtype(), DType::U8);
    EXPECT_EQ(b.y.to_vector<int64_t>(), (std::vector<int64_t>{3, 0}));
    // Channel c, row y, column x of record 7 is byte 1 + c * 1024 + y * 32 + x of the record.
    const uint8_t* px = b.x.u8();
    EXPECT_EQ(px[0 * 1024 + 5 * 32 + 6], cifar_pixel(7, 0, 5 * 32 + 6));
    EXPECT_EQ(px[1 * 1024 + 31 * 32 + 31], cifar_pixel(7, 1, 1023));
    EXPECT_EQ(px[2 * 1024], cifar_pixel(7, 2, 0));
    EXPECT_EQ(px[3072 + 2 * 1024 + 100], cifar_pixel(0, 2, 100));
    // Test split: test_batch.bin is "file 5".
    EXPECT_EQ(test->label(2), (5 + 2) % 10);
    EXPECT_EQ(test->batch({1}).x.u8()[10], cifar_pixel(16, 0, 10));
}

TEST(Cifar, Cifar100ReadsFineAndCoarseLabels) {
    TempDir dir("cifar100");
    std::vector<uint8_t> train, test;
    for (int r = 0; r < 5; ++r) {
        const auto rec = cifar_record(r, 97 - r, 19 - r);
        train.insert(train.end(), rec.begin(), rec.end());
    }
    const auto rec = cifar_record(40, 42, 7);
    test.insert(test.end(), rec.begin(), rec.end());
    test::write_bytes(dir / "train.bin", train);
    test::write_bytes(dir / "test.bin", test);
    std::string fine, coarse;
    for (int k = 0; k < 100; ++k) fine += "fine_" + std::to_string(k) + "\n";
    for (int k = 0; k < 20; ++k) coarse += "coarse_" + std::to_string(k) + "\n";
    test::write_text(dir / "fine_label_names.txt", fine);
    test::write_text(dir / "coarse_label_names.txt", coarse);

    auto ds = CifarDataset::cifar100(dir.path(), DataSplit::Train);
    ASSERT_EQ(ds->size(), 5);
    EXPECT_EQ(ds->num_classes(), 100);
    EXPECT_EQ(ds->label(3), 94);
    EXPECT_EQ(ds->coarse_labels().to_vector<int64_t>(), (std::vector<int64_t>{19, 18, 17, 16, 15}));
    EXPECT_EQ(ds->class_names()[94], "fine_94");
    EXPECT_EQ(ds->coarse_class_names()[15], "coarse_15");
    EXPECT_EQ(ds->batch({4}).x.u8()[2 * 1024 + 9], cifar_pixel(4, 2, 9));
    auto t = CifarDataset::cifar100(dir.path(), DataSplit::Test);
    ASSERT_EQ(t->size(), 1);
    EXPECT_EQ(t->label(0), 42);
    EXPECT_EQ(t->coarse_labels().to_vector<int64_t>()[0], 7);
    EXPECT_EQ(t->batch({0}).x.u8()[1024 + 1], cifar_pixel(40, 1, 1));
}

TEST(Cifar, TruncatedFileNamesFileRecordAndRecordSize) {
    TempDir dir("cifar_trunc");
    std::vector<uint8_t> bytes;
    for (int r = 0; r < 3; ++r) {
        const auto rec = cifar_record(r, 1);
        bytes.insert(bytes.end(), rec.begin(), rec.end());
    }
    bytes.resize(bytes.size() - 100);  // record 2 loses its last 100 bytes
    const std::string path = dir / "test_batch.bin";
    test::write_bytes(path, bytes);
    const std::string msg = error_of([&] { read_cifar_file(path, CifarKind::Cifar10); });
    EXPECT_THAT(msg, HasSubstr(path));
    EXPECT_THAT(msg, HasSubstr("record 2"));
    EXPECT_THAT(msg, HasSubstr("record size 3073"));
    EXPECT_THAT(msg, HasSubstr("2973 of 3073 bytes"));

    // The same bytes read as CIFAR-100 (3074-byte records): 9119 % 3074 = 2971.
    const std::string msg100 = error_of([&] { read_cifar_file(path, CifarKind::Cifar100); });
    EXPECT_THAT(msg100, HasSubstr("record size 3074"));
    EXPECT_THAT(msg100, HasSubstr("record 2 has 2971 of 3074 bytes"));
}

TEST(Cifar, CorruptLabelsEmptyAndMissingFilesAreErrors) {
    TempDir dir("cifar_bad");
    std::vector<uint8_t> bytes;
    for (int r = 0; r < 4; ++r) {
        const auto rec = cifar_record(r, r == 2 ? 10 : 1);  // label 10 is out of range
        bytes.insert(bytes.end(), rec.begin(), rec.end());
    }
    const std::string path = dir / "bad.bin";
    test::write_bytes(path, bytes);
    std::string msg = error_of([&] { read_cifar_file(path, CifarKind::Cifar10); });
    EXPECT_THAT(msg, HasSubstr(path));
    EXPECT_THAT(msg, HasSubstr("record 2"));
    EXPECT_THAT(msg, HasSubstr("label 10 outside [0, 10)"));

    // CIFAR-100: coarse label 20 in record 0.
    const std::string p100 = dir / "bad100.bin";
    test::write_bytes(p100, cifar_record(0, 5, 20));
    msg = error_of([&] { read_cifar_file(p100, CifarKind::Cifar100); });
    EXPECT_THAT(msg, HasSubstr("record 0"));
    EXPECT_THAT(msg, HasSubstr("coarse label 20"));

    const std::string empty = dir / "empty.bin";
    test::write_bytes(empty, {});
    EXPECT_THAT(error_of([&] { read_cifar_file(empty, CifarKind::Cifar10); }),
                HasSubstr("is empty (expected records of 3073 bytes)"));
    EXPECT_THAT(error_of([&] { read_cifar_file(dir / "nope.bin", CifarKind::Cifar10); }),
                HasSubstr("nope.bin: no such file"));

    // A root without batches.meta.txt, or with the wrong number of names.
    TempDir root("cifar_meta");
    write_cifar10(root, 1);
    test::write_text(root / "batches.meta.txt", "a\nb\n");
    EXPECT_THAT(error_of([&] { CifarDataset::cifar10(root.path(), DataSplit::Test); }),
                HasSubstr("expected 10 class names"));
}

TEST(Cifar, CatalogOpensCifar10) {
    TempDir dir("cifar_catalog");
    write_cifar10(dir, 2);
    auto ds = open_dataset("cifar10", dir.path(), DataSplit::Train);
    EXPECT_EQ(ds->size(), 10);
    EXPECT_THAT(error_of([&] { open_dataset("cifar11", dir.path(), DataSplit::Train); }),
                HasSubstr("valid: cifar10, cifar100, fmnist, mnist, tinyimagenet, folder"));
}

// The acceptance check on the real data: 50,000 / 10,000 records, 5,000 / 1,000 per class,
// train channel means (0.4914, 0.4822, 0.4465).
TEST(Cifar, RealCifar10CountsAndMeans) {
    const std::string root = test::real_cifar10_dir();
    if (root.empty())
        GTEST_SKIP() << "skipped: real CIFAR-10 not found under " << test::shared_dir()
                     << "/data/cifar-10-batches-bin (set OBL_SHARED_DIR)";
    auto train = CifarDataset::cifar10(root, DataSplit::Train);
    auto test = CifarDataset::cifar10(root, DataSplit::Test);
    EXPECT_EQ(train->class_names()[0], "airplane");
    const DatasetSummary s = summarize(train);
    const DatasetSummary t = summarize(test, false);
    EXPECT_EQ(s.samples, 50000);
    EXPECT_EQ(t.samples, 10000);
    for (int k = 0; k < 10; ++k) {
        EXPECT_EQ(s.class_counts[k], 5000) << "class " << k;
        EXPECT_EQ(t.class_counts[k], 1000) << "class " << k;
    }
    const double means[3] = {0.4914, 0.4822, 0.4465}, stds[3] = {0.2470, 0.2435, 0.2616};
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(s.mean[c], means[c], 1e-4) << "channel " << c;
        EXPECT_NEAR(s.std[c], stds[c], 1e-4) << "channel " << c;
    }
}

}  // namespace
}  // namespace obl
