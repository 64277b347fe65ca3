// CPU reference for the Philox random fills (kernels/random.h): one element at a time, straight
// from the stream contract of kernels/common/philox.h. Each element recomputes its own Philox block
// (4x the work of the fast path), which keeps every line a direct reading of the formula.
#include "kernels/random.h"

#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/common/philox.h"

namespace obl::kernels {

namespace {

// A Philox block plus the transform is ~100 flops per element: threads pay off from ~300 elements.
constexpr int64_t kWorkPerElement = 100;

}  // namespace

void fill_bits_cpu(uint32_t* y, RandomDims d) {
#pragma omp parallel for if (parallel_worth_it(d.n * kWorkPerElement)) schedule(static)
    for (int64_t i = 0; i < d.n; ++i) y[i] = philox_word(d.offset + i, d.seed);
}

template <class T>
void fill_uniform_cpu(T* y, RandomDims d, double lo, double hi) {
    const double scale = hi - lo;
#pragma omp parallel for if (parallel_worth_it(d.n * kWorkPerElement)) schedule(static)
    for (int64_t i = 0; i < d.n; ++i) {
        const double u = philox_uniform(philox_word(d.offset + i, d.seed));  // exact in (0, 1)
        y[i] = static_cast<T>(lo + scale * u);
    }
}

template <class T>
void fill_normal_cpu(T* y, RandomDims d, double mean, double std) {
#pragma omp parallel for if (parallel_worth_it(d.n * kWorkPerElement)) schedule(static)
    for (int64_t i = 0; i < d.n; ++i) {
        const double z = philox_normal(d.offset + i, d.seed);  // Box-Muller in double, libm
        y[i] = static_cast<T>(mean + std * z);
    }
}

// Multiply-shift (Lemire) without the rejection step, so every element still uses exactly one
// word: value v has floor or ceil of 2^32 / high preimages, a bias of at most high / 2^32.
void fill_randint_cpu(int64_t* y, RandomDims d, int64_t high) {
    OBL_CHECK(high >= 1 && high <= (int64_t(1) << 32), "randint: high must be in [1, 2^32], got ",
              high);
    const uint64_t h = static_cast<uint64_t>(high);
#pragma omp parallel for if (parallel_worth_it(d.n * kWorkPerElement)) schedule(static)
    for (int64_t i = 0; i < d.n; ++i) {
        const uint64_t x = philox_word(d.offset + i, d.seed);
        y[i] = static_cast<int64_t>((x * h) >> 32);  // floor(x * high / 2^32) < high
    }
}

template void fill_uniform_cpu<float>(float*, RandomDims, double, double);
template void fill_uniform_cpu<double>(double*, RandomDims, double, double);
template void fill_normal_cpu<float>(float*, RandomDims, double, double);
template void fill_normal_cpu<double>(double*, RandomDims, double, double);

}  // namespace obl::kernels
