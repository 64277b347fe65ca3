#include "tests/test_util.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <utility>

#include "nn/io/hash.h"

namespace obl::test {

Device test_device() {
    const char* env = std::getenv("OBL_TEST_DEVICE");
    if (env && std::strcmp(env, "cuda") == 0) return Device::cuda();
    return Device::cpu();
}

uint64_t fnv1a(const std::string& s) {
    // A seed, not a hash contract: this (non-standard) start value keeps the op table's random
    // inputs what they have always been.
    return obl::fnv1a(s, 1469598103934665603ull);
}

std::vector<double> uniform_values(int64_t n, double lo, double hi, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = lo + (hi - lo) * (static_cast<double>(gen() >> 11) * 0x1.0p-53);
    return v;
}

Tensor uniform_tensor(const Shape& shape, double lo, double hi, uint64_t seed, DType dtype,
                      Device device) {
    Tensor t = Tensor::from_vector(uniform_values(shape.numel(), lo, hi, seed), shape);
    return t.to(dtype).to(device);
}

::testing::AssertionResult all_close(const std::vector<double>& got, const std::vector<double>& ref,
                                     double atol, double rtol, const std::string& what) {
    if (got.size() != ref.size()) {
        return ::testing::AssertionFailure()
               << what << ": size " << got.size() << " vs reference " << ref.size();
    }
    double max_abs = 0, max_rel = 0, err2 = 0, ref2 = 0;
    int64_t first_bad = -1, bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double a = got[i], b = ref[i];
        const double e = std::fabs(a - b);
        const bool ok =
            (std::isnan(a) == std::isnan(b)) && (std::isnan(a) || e <= atol + rtol * std::fabs(b));
        if (!std::isnan(e)) {
            max_abs = std::max(max_abs, e);
            if (b != 0) max_rel = std::max(max_rel, e / std::fabs(b));
            err2 += e * e;
            ref2 += b * b;
        }
        if (!ok) {
            ++bad;
            if (first_bad < 0) first_bad = static_cast<int64_t>(i);
        }
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    std::ostringstream os;
    os.precision(9);
    os << what << ": " << bad << "/" << got.size() << " elements outside atol " << atol
       << " + rtol " << rtol << "; max abs err " << max_abs << ", max rel err " << max_rel
       << ", NMSE " << (ref2 > 0 ? err2 / ref2 : err2) << "; first bad [" << first_bad << "]: got "
       << got[first_bad] << ", reference " << ref[first_bad];
    return ::testing::AssertionFailure() << os.str();
}

::testing::AssertionResult all_close(const Tensor& got, const Tensor& ref, double atol, double rtol,
                                     const std::string& what) {
    if (got.shape() != ref.shape()) {
        return ::testing::AssertionFailure()
               << what << ": shape " << got.shape() << " vs reference " << ref.shape();
    }
    return all_close(got.to_vector<double>(), ref.to_vector<double>(), atol, rtol, what);
}

CliRun run_command(int (*cmd)(int, char**), const std::string& name,
                   std::vector<std::string> args) {
    args.insert(args.begin(), name);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int status = cmd(static_cast<int>(argv.size()), argv.data());
    std::string out = ::testing::internal::GetCapturedStdout();
    return {status, std::move(out), ::testing::internal::GetCapturedStderr()};
}

}  // namespace obl::test
