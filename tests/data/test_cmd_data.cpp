// `oblivio data info` (experiments/cmd_data.cpp), called in-process: output on small CIFAR-10
// files, the real CIFAR-10 / Fashion-MNIST summaries when present, and usage / data errors.
//
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "experiments/commands.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

using test::CliRun;

CliRun run_data(std::vector<std::string> args) {
    return test::run_command(cli::cmd_data, "data", std::move(args));
}

TEST(CmdData, InfoOnSmallCifar10) {
    TempDir dir("cmd_cifar");
    // Two records per file: label (f + r) % 10; all pixels 51 (0.2) in channel 0, 102 in 1, 255
    // in 2.
    for (int f = 0; f < 6; ++f) {
        std::vector<uint8_t> bytes;
        for (int r = 0; r < 2; ++r) {
            bytes.push_back(static_cast<uint8_t>((f + r) % 10));
            for (uint8_t v : {51, 102, 255}) bytes.insert(bytes.end(), 1024, v);
        }
        test::write_bytes(dir / (f < 5 ? "data_batch_" + std::to_string(f + 1) + ".bin"
                                       : std::string("test_batch.bin")),
                          bytes);
    }
    test::write_text(dir / "batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n");
    const CliRun r = run_data({"info", "--dataset", "cifar10", "--root", dir.path()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("train: 10 samples, 10 classes, sample shape [3, 32, 32]"));
    EXPECT_THAT(r.out, HasSubstr("test: 2 samples"));
    EXPECT_THAT(r.out, HasSubstr("class   1 b"));
    EXPECT_THAT(r.out, HasSubstr("channel mean 0.2000 0.4000 1.0000"));
    EXPECT_THAT(r.out, HasSubstr("channel std  0.0000 0.0000 0.0000"));

    const CliRun t = run_data(
        {"info", "--dataset", "cifar10", "--root", dir.path(), "--split", "test", "--no-stats"});
    EXPECT_EQ(t.status, 0);
    EXPECT_THAT(t.out, ::testing::Not(HasSubstr("train:")));
    EXPECT_THAT(t.out, ::testing::Not(HasSubstr("channel mean")));

    // Corrupt data: one line on stderr naming the file, status 2.
    test::write_bytes(dir / "test_batch.bin", std::vector<uint8_t>(3073 + 10, 0));
    const CliRun bad = run_data({"info", "--dataset", "cifar10", "--root", dir.path()});
    EXPECT_EQ(bad.status, 2);
    EXPECT_THAT(bad.err, HasSubstr("error: CIFAR-10 file " + (dir / "test_batch.bin")));
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST(CmdData, UsageErrors) {
    CliRun r = run_data({"info"});
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("error: oblivio data info needs --dataset"));
    r = run_data({"info", "--dataset", "cifar10"});
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("error: dataset cifar10 has no default root: pass --root DIR"));
    r = run_data({"info", "--dataset", "imagenet", "--root", "/tmp"});
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("error: unknown dataset 'imagenet' (valid: cifar10"));
    r = run_data({"info", "--dataset", "cifar10", "--bogus"});
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("unknown option '--bogus'"));
    r = run_data({"info", "--dataset", "folder", "--root", "/tmp", "--size", "x"});
    EXPECT_EQ(r.status, 2);
    r = run_data({"frobnicate"});
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("unknown subcommand 'data frobnicate'"));
    r = run_data({});
    EXPECT_EQ(r.status, 2);
    r = run_data({"--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_THAT(r.out, HasSubstr("usage: oblivio data info --dataset NAME"));
    r = run_data({"info", "--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_THAT(r.out, HasSubstr("--no-stats"));
}

TEST(CmdData, RealCifar10Info) {
    const std::string root = test::real_cifar10_dir();
    if (root.empty())
        GTEST_SKIP() << "skipped: real CIFAR-10 not found under " << test::shared_dir();
    const CliRun r = run_data({"info", "--dataset", "cifar10", "--root", root});
    std::printf("%s", r.out.c_str());
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("train: 50000 samples, 10 classes"));
    EXPECT_THAT(r.out, HasSubstr("test: 10000 samples"));
    EXPECT_THAT(r.out, HasSubstr("class   0 airplane                     5000"));
    EXPECT_THAT(r.out, HasSubstr("channel mean 0.4914 0.4822 0.4465"));
    EXPECT_THAT(r.out, HasSubstr("channel std  0.2470 0.2435 0.2616"));
}

TEST(CmdData, RealFashionMnistInfo) {
    if (test::real_fmnist_dir().empty())
        GTEST_SKIP()
            << "skipped: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
    const CliRun r = run_data({"info", "--dataset", "fmnist"});  // default root
    std::printf("%s", r.out.c_str());
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("train: 60000 samples, 10 classes, sample shape [1, 28, 28]"));
    EXPECT_THAT(r.out, HasSubstr("test: 10000 samples"));
    EXPECT_THAT(r.out, HasSubstr("class   9 Ankle boot                   6000"));
}

}  // namespace
}  // namespace obl
