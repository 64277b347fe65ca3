// Data-loading throughput (images/s), the rate training needs the loader never to limit:
//   BM_loader_cifar10/cpu/workers:N   CIFAR-10 train set, random crop 32 pad 4 + horizontal
//                                     flip + normalise, batches of 256 (goal >= 20,000 img/s on
//                                     2 workers). Uses ../shared/data/cifar-10-batches-bin when
//                                     present, else 50,000 synthetic records in a temp dir.
//   BM_loader_jpeg224/cpu/<mode>/workers:N
//                                     Tiny-ImageNet-style 64x64 JPEGs (written here) decoded with
//                                     stb_image, resized to 224x224 and normalised (ViT / Swin
//                                     input), batches of 64.
// Before timing, one batch from the prefetch threads is compared with the same batch built on
// the calling thread (the reference path); a mismatch skips the benchmark with an error.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "data/cifar.h"
#include "data/image_folder.h"
#include "data/loader.h"

namespace {

namespace fs = std::filesystem;

// A temp directory removed at exit.
struct BenchDir {
    std::string path;
    explicit BenchDir(const std::string& tag)
        : path((fs::temp_directory_path() / ("obl_bench_" + tag + "_" + std::to_string(getpid())))
                   .string()) {
        fs::create_directories(path);
    }
    ~BenchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string shared_cifar10() {
    const char* env = std::getenv("OBL_SHARED_DIR");
    const fs::path shared =
        env ? fs::path(env)
            : fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "shared";
    const fs::path dir = shared / "data" / "cifar-10-batches-bin";
    return fs::exists(dir / "data_batch_1.bin") ? dir.string() : "";
}

// The CIFAR-10 train set: the real one, or 5 files of 10,000 synthetic records.
std::shared_ptr<const obl::Dataset> cifar10_train(std::string& source) {
    static std::unique_ptr<BenchDir> synthetic;
    std::string root = shared_cifar10();
    source = root.empty() ? "synthetic" : "real";
    if (root.empty()) {
        if (!synthetic) {
            synthetic = std::make_unique<BenchDir>("cifar10");
            std::vector<char> rec(3073);
            for (int f = 1; f <= 5; ++f) {
                std::ofstream out(synthetic->path + "/data_batch_" + std::to_string(f) + ".bin",
                                  std::ios::binary);
                for (int r = 0; r < 10000; ++r) {
                    rec[0] = static_cast<char>(r % 10);
                    for (int i = 1; i < 3073; ++i) rec[i] = static_cast<char>((r * 7 + i) & 0xff);
                    out.write(rec.data(), 3073);
                }
            }
            std::ofstream(synthetic->path + "/batches.meta.txt")
                << "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
        }
        root = synthetic->path;
    }
    static std::shared_ptr<const obl::Dataset> cached;
    static std::string cached_root;
    if (!cached || cached_root != root) {
        cached = obl::CifarDataset::cifar10(root, obl::DataSplit::Train);
        cached_root = root;
    }
    return cached;
}

// 2 classes x 128 JPEGs of 64x64 (smooth gradients plus texture, quality 90) in the Tiny-ImageNet
// layout.
std::shared_ptr<const obl::Dataset> tiny_jpegs() {
    static std::unique_ptr<BenchDir> dir;
    static std::shared_ptr<const obl::Dataset> ds;
    if (ds) return ds;
    dir = std::make_unique<BenchDir>("tiny");
    const std::vector<std::string> wnids = {"n01000000", "n02000000"};
    std::ofstream(dir->path + "/wnids.txt") << wnids[0] << "\n" << wnids[1] << "\n";
    std::vector<unsigned char> px(64 * 64 * 3);
    for (size_t k = 0; k < wnids.size(); ++k) {
        const std::string images = dir->path + "/train/" + wnids[k] + "/images";
        fs::create_directories(images);
        for (int i = 0; i < 128; ++i) {
            for (int y = 0; y < 64; ++y)
                for (int x = 0; x < 64; ++x)
                    for (int c = 0; c < 3; ++c)
                        px[(y * 64 + x) * 3 + c] = static_cast<unsigned char>(
                            (x * (c + 1) * 3 + y * 2 + i * 5 + ((x * y + c * 13 + i) % 17) * 4) &
                            0xff);
            const std::string path = images + "/" + wnids[k] + "_" + std::to_string(i) + ".JPEG";
            stbi_write_jpg(path.c_str(), 64, 64, 3, px.data(), 90);
        }
    }
    ds = obl::tiny_imagenet(dir->path, obl::DataSplit::Train);
    return ds;
}

// Times batches from the loader; restarts the epoch when it runs out.
void run_loader(benchmark::State& state, std::shared_ptr<const obl::Dataset> ds,
                obl::LoaderOptions opt) {
    obl::DataLoader loader(ds, opt);
    // Validation: batch 0 from the prefetch threads equals the one built on this thread.
    loader.start_epoch(0);
    obl::Batch got;
    if (!loader.next(got)) return state.SkipWithError("empty loader");
    const obl::Batch want = loader.make_batch(0, 0);
    if (got.x.to_vector<float>() != want.x.to_vector<float>() ||
        got.y.to_vector<int64_t>() != want.y.to_vector<int64_t>())
        return state.SkipWithError("prefetched batch differs from the reference batch");

    int64_t epoch = 1, images = 0;
    loader.start_epoch(epoch);
    obl::Batch b;
    for (auto _ : state) {
        if (!loader.next(b)) {
            loader.start_epoch(++epoch);
            loader.next(b);
        }
        images += b.x.size(0);
        benchmark::DoNotOptimize(b.x.raw());
    }
    state.counters["img/s"] =
        benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
}

void BM_loader_cifar10(benchmark::State& state) {
    std::string source;
    std::shared_ptr<const obl::Dataset> ds;
    try {
        ds = cifar10_train(source);
    } catch (const std::exception& e) {
        return state.SkipWithError(e.what());
    }
    state.SetLabel(source + " CIFAR-10 train");
    obl::LoaderOptions opt;
    opt.batch_size = 256;
    opt.seed = 1;
    opt.num_workers = static_cast<int>(state.range(0));
    opt.transforms = std::make_shared<obl::Compose>(std::vector<obl::TransformPtr>{
        obl::random_crop(32, 32, 4), obl::horizontal_flip(0.5),
        obl::normalize({0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f})});
    run_loader(state, ds, opt);
}
BENCHMARK(BM_loader_cifar10)
    ->Name("BM_loader_cifar10/cpu")
    ->ArgName("workers")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_loader_jpeg224(benchmark::State& state, obl::InterpMode mode) {
    std::shared_ptr<const obl::Dataset> ds;
    try {
        ds = tiny_jpegs();
    } catch (const std::exception& e) {
        return state.SkipWithError(e.what());
    }
    obl::LoaderOptions opt;
    opt.batch_size = 64;
    opt.seed = 1;
    opt.num_workers = static_cast<int>(state.range(0));
    opt.transforms = std::make_shared<obl::Compose>(std::vector<obl::TransformPtr>{
        obl::horizontal_flip(0.5), obl::resize(224, 224, mode),
        obl::normalize({0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f})});
    run_loader(state, ds, opt);
}
BENCHMARK_CAPTURE(BM_loader_jpeg224, bilinear, obl::InterpMode::Bilinear)
    ->Name("BM_loader_jpeg224/cpu/bilinear")
    ->ArgName("workers")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_loader_jpeg224, bicubic, obl::InterpMode::Bicubic)
    ->Name("BM_loader_jpeg224/cpu/bicubic")
    ->ArgName("workers")
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
