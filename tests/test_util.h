// Shared test helpers: the device under test, deterministic host random data, and a tolerance
// comparison whose failure message carries the error statistics (DESIGN.md §K).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace obl::test {

// OBL_TEST_DEVICE=cpu|cuda (default cpu): lets the nn/models/unlearn suites run again on CUDA.
Device test_device();
// GTEST_SKIP()s the calling test unless a GPU is usable, printing why.
#define OBL_SKIP_WITHOUT_GPU()                                                       \
    do {                                                                             \
        if (!::obl::cuda_available())                                                \
            GTEST_SKIP() << "skipped: no CUDA device (CUDA build: " << OBL_WITH_CUDA \
                         << "); runs on a lent GPU via tools/gpu_check.sh";          \
    } while (0)

uint64_t fnv1a(const std::string& s);
// n values uniform in [lo, hi) from a seeded mt19937_64 (host-side, independent of our RNG).
std::vector<double> uniform_values(int64_t n, double lo, double hi, uint64_t seed);
Tensor uniform_tensor(const Shape& shape, double lo, double hi, uint64_t seed,
                      DType dtype = DType::F32, Device device = Device::cpu());

// |got - ref| <= atol + rtol * |ref| elementwise; on failure: max abs err, max rel err, NMSE,
// first bad index with both values.
::testing::AssertionResult all_close(const std::vector<double>& got, const std::vector<double>& ref,
                                     double atol, double rtol, const std::string& what = "");
::testing::AssertionResult all_close(const Tensor& got, const Tensor& ref, double atol, double rtol,
                                     const std::string& what = "");

// One in-process run of an `oblivio` subcommand: cmd(argc, argv) with argv = {name, args...}
// (the form main() passes), stdout and stderr captured.
struct CliRun {
    int status;
    std::string out, err;
};
CliRun run_command(int (*cmd)(int, char**), const std::string& name, std::vector<std::string> args);

}  // namespace obl::test
