// DataLoader: order and batching, determinism across worker counts, class filtering, and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "tests/data/data_test_util.h"

namespace obl {
namespace {

using test::error_of;
using ::testing::HasSubstr;

// n u8 images (3, 8, 8) whose pixels encode the sample index; label = index % 5.
std::shared_ptr<TensorDataset> toy_images(int64_t n) {
    std::vector<uint8_t> px(static_cast<size_t>(n * 3 * 64));
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 13 + i / 192) % 256);
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) y[static_cast<size_t>(i)] = i % 5;
    return std::make_shared<TensorDataset>(Tensor::from_vector(px, {n, 3, 8, 8}),
                                           Tensor::from_vector(y, {n}), 5);
}

std::vector<Batch> run_epoch(DataLoader& loader, int64_t epoch) {
    loader.start_epoch(epoch);
    std::vector<Batch> out;
    Batch b;
    while (loader.next(b)) out.push_back(b);
    return out;
}

TEST(Loader, EpochOrderIsASeededPermutation) {
    const auto a = epoch_order(100, 1, 0, true);
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> iota(100);
    std::iota(iota.begin(), iota.end(), 0);
    EXPECT_EQ(sorted, iota);
    EXPECT_NE(a, iota);
    EXPECT_EQ(a, epoch_order(100, 1, 0, true));
    EXPECT_NE(a, epoch_order(100, 2, 0, true));
    EXPECT_NE(a, epoch_order(100, 1, 1, true));
    EXPECT_EQ(epoch_order(100, 1, 0, false), iota);
}

TEST(Loader, BatchesCoverTheDatasetInOrder) {
    auto ds = toy_images(23);
    LoaderOptions opt;
    opt.batch_size = 5;
    opt.shuffle = false;
    opt.num_workers = 2;
    DataLoader loader(ds, opt);
    EXPECT_EQ(loader.num_batches(), 5);
    const auto batches = run_epoch(loader, 0);
    ASSERT_EQ(batches.size(), 5u);
    EXPECT_EQ(batches[4].x.shape(), (Shape{3, 3, 8, 8}));
    EXPECT_EQ(batches[4].x.dtype(), DType::U8);  // no transforms: raw samples
    EXPECT_EQ(batches[1].y.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
    Batch b;
    EXPECT_FALSE(loader.next(b));

    opt.drop_last = true;
    DataLoader dropping(ds, opt);
    EXPECT_EQ(dropping.num_batches(), 4);
    EXPECT_EQ(run_epoch(dropping, 0).size(), 4u);
}

// The acceptance check: the same seed gives identical batches with 1 and 2 worker threads (and
// with none), including the random transforms.
TEST(Loader, SameSeedSameBatchesWhateverTheThreadCount) {
    auto ds = toy_images(37);
    auto transforms = std::make_shared<Compose>(
        std::vector<TransformPtr>{random_crop(8, 8, 2), horizontal_flip(0.5),
                                  normalize({0.5f, 0.4f, 0.3f}, {0.2f, 0.2f, 0.2f})});
    std::vector<std::vector<Batch>> runs;
    for (int workers : {0, 1, 2}) {
        LoaderOptions opt;
        opt.batch_size = 8;
        opt.seed = 1234;
        opt.num_workers = workers;
        opt.prefetch = workers == 2 ? 1 : 3;
        opt.transforms = transforms;
        DataLoader loader(ds, opt);
        std::vector<Batch> both = run_epoch(loader, 0);
        const std::vector<Batch> e1 = run_epoch(loader, 1);
        both.insert(both.end(), e1.begin(), e1.end());
        runs.push_back(both);
    }
    for (size_t r = 1; r < runs.size(); ++r) {
        ASSERT_EQ(runs[r].size(), runs[0].size());
        for (size_t k = 0; k < runs[0].size(); ++k) {
            ASSERT_EQ(runs[r][k].x.shape(), runs[0][k].x.shape());
            EXPECT_EQ(runs[r][k].x.to_vector<float>(), runs[0][k].x.to_vector<float>())
                << "run " << r << " batch " << k;
            EXPECT_EQ(runs[r][k].y.to_vector<int64_t>(), runs[0][k].y.to_vector<int64_t>());
        }
    }
    // Epochs 0 and 1 (batches 0-4 and 5-9) differ in order and augmentation.
    EXPECT_NE(runs[0][0].y.to_vector<int64_t>(), runs[0][5].y.to_vector<int64_t>());
    // make_batch rebuilds any batch on the calling thread.
    LoaderOptions opt;
    opt.batch_size = 8;
    opt.seed = 1234;
    opt.transforms = transforms;
    DataLoader loader(ds, opt);
    EXPECT_EQ(loader.make_batch(1, 3).x.to_vector<float>(), runs[0][8].x.to_vector<float>());
    // Another seed changes the batches.
    opt.seed = 1235;
    DataLoader other(ds, opt);
    EXPECT_NE(other.make_batch(0, 0).x.to_vector<float>(), runs[0][0].x.to_vector<float>());
}

TEST(Loader, AbandonedEpochsAndDestructionStopTheWorkers) {
    auto ds = toy_images(50);
    LoaderOptions opt;
    opt.batch_size = 4;
    opt.num_workers = 2;
    opt.prefetch = 2;
    DataLoader loader(ds, opt);
    loader.start_epoch(0);
    Batch b;
    ASSERT_TRUE(loader.next(b));
    loader.start_epoch(1);  // abandons epoch 0
    ASSERT_TRUE(loader.next(b));
    EXPECT_EQ(b.y.to_vector<int64_t>(), loader.make_batch(1, 0).y.to_vector<int64_t>());
}

TEST(Loader, ClassFilteringForgetRetainSplit) {
    auto ds = toy_images(23);  // labels i % 5
    const ClassSplit split = split_by_classes(ds, {1, 3});
    EXPECT_EQ(split.forget->size(), 9);  // 1, 3, 6, 8, 11, 13, 16, 18, 21
    EXPECT_EQ(split.retain->size(), 14);
    EXPECT_EQ(split.forget->num_classes(), 5);  // labels are not remapped
    for (int64_t y : split.forget->labels()) EXPECT_TRUE(y == 1 || y == 3);
    for (int64_t y : split.retain->labels()) EXPECT_TRUE(y != 1 && y != 3);
    EXPECT_EQ(split.forget->indices()[2], 6);
    // Subset batches are the base rows.
    Batch sub = split.forget->batch({2});
    Batch base = ds->batch({6});
    EXPECT_EQ(sub.x.to_vector<uint8_t>(), base.x.to_vector<uint8_t>());
    EXPECT_EQ(sub.y.to_vector<int64_t>(), (std::vector<int64_t>{1}));
    // A loader over the retain split sees only retained classes.
    LoaderOptions opt;
    opt.batch_size = 4;
    DataLoader loader(split.retain, opt);
    int64_t seen = 0;
    for (const Batch& b : run_epoch(loader, 0))
        for (int64_t y : b.y.to_vector<int64_t>()) {
            EXPECT_TRUE(y != 1 && y != 3);
            ++seen;
        }
    EXPECT_EQ(seen, 14);
    EXPECT_THAT(error_of([&] { filter_classes(ds, {5}, true); }), HasSubstr("class 5 outside"));
    EXPECT_THAT(error_of([&] { filter_classes(ds, {2, 2}, true); }), HasSubstr("listed twice"));
}

TEST(Loader, OptionErrors) {
    auto ds = toy_images(4);
    LoaderOptions opt;
    opt.batch_size = 0;
    EXPECT_THAT(error_of([&] { DataLoader(ds, opt); }), HasSubstr("batch_size 0"));
    opt.batch_size = 2;
    opt.transforms = std::make_shared<Compose>(std::vector<TransformPtr>{center_crop(9, 9)});
    EXPECT_THAT(error_of([&] { DataLoader(ds, opt); }), HasSubstr("larger than the image 8x8"));
    DataLoader fresh(ds, LoaderOptions{});
    Batch b;
    EXPECT_FALSE(fresh.next(b));  // before start_epoch
}

}  // namespace
}  // namespace obl
