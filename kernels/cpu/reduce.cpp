// CPU reference reductions over (O, R, I) (formulas in kernels/reduce.h).
// Plain loops; sums accumulate in double; OpenMP over the (O, I) outputs only, so every output is
// one sequential loop over R and the result never depends on the thread count.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

// True when v should replace the current extremum: strictly better, or the first NaN (so a NaN
// anywhere in the slice propagates, as in PyTorch, and ties keep the earliest index).
template <class T>
bool better(T v, T best, ReduceOp op) {
    if (std::isnan(v)) return !std::isnan(best);
    return op == ReduceOp::Max ? v > best : v < best;
}

template <class T>
int64_t first_extremum(const T* x, ReduceDims d, int64_t o, int64_t i, ReduceOp op) {
    const T* col = x + o * d.r * d.inner + i;  // x[o, 0, i]; step d.inner along R
    int64_t best_r = 0;
    for (int64_t r = 1; r < d.r; ++r)
        if (better(col[r * d.inner], col[best_r * d.inner], op)) best_r = r;
    return best_r;
}

template <class T>
double mean_of(const T* col, ReduceDims d) {
    double s = 0;
    for (int64_t r = 0; r < d.r; ++r) s += col[r * d.inner];
    return s / static_cast<double>(d.r);
}

}  // namespace

// One output per iteration of the parallel loop: (o, i) = (out / I, out % I); its slice along R
// starts at x[o, 0, i] and steps by I.
template <class T>
void reduce_forward_cpu(T* y, const T* x, ReduceDims d, ReduceOp op) {
    const int64_t outputs = d.outer * d.inner;
    OBL_CHECK(d.r > 0 || op == ReduceOp::Sum || op == ReduceOp::Mean,
              "max/min over an empty dim (R = 0) is undefined");
#pragma omp parallel for if (parallel_worth_it(outputs * d.r)) schedule(static)
    for (int64_t out = 0; out < outputs; ++out) {
        const int64_t o = out / d.inner, i = out % d.inner;
        const T* col = x + o * d.r * d.inner + i;
        if (op == ReduceOp::Max || op == ReduceOp::Min) {
            y[out] = col[first_extremum(x, d, o, i, op) * d.inner];
            continue;
        }
        double s = 0;
        for (int64_t r = 0; r < d.r; ++r) s += col[r * d.inner];
        y[out] = static_cast<T>(op == ReduceOp::Mean ? s / static_cast<double>(d.r) : s);
    }
}

// dx is written in input order (o, r, i), reading dy[o, i] for every r.
template <class T>
void reduce_backward_cpu(T* dx, const T* dy, ReduceDims d, ReduceOp op) {
    OBL_CHECK(op == ReduceOp::Sum || op == ReduceOp::Mean,
              "reduce_backward_cpu handles sum and mean; max/min use select_backward_cpu");
    const double scale = op == ReduceOp::Mean ? 1.0 / static_cast<double>(d.r) : 1.0;
#pragma omp parallel for if (parallel_worth_it(d.outer * d.r * d.inner)) schedule(static)
    for (int64_t o = 0; o < d.outer; ++o)
        for (int64_t r = 0; r < d.r; ++r)
            for (int64_t i = 0; i < d.inner; ++i)
                dx[(o * d.r + r) * d.inner + i] = static_cast<T>(dy[o * d.inner + i] * scale);
}

template <class T>
void arg_reduce_cpu(int64_t* index, const T* x, ReduceDims d, ReduceOp op) {
    OBL_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, "arg_reduce_cpu handles max and min");
    OBL_CHECK(d.r > 0, "argmax/argmin over an empty dim (R = 0) is undefined");
    const int64_t outputs = d.outer * d.inner;
#pragma omp parallel for if (parallel_worth_it(outputs * d.r)) schedule(static)
    for (int64_t out = 0; out < outputs; ++out)
        index[out] = first_extremum(x, d, out / d.inner, out % d.inner, op);
}

// Every element of dx is written: dy at the saved index, 0 elsewhere.
template <class T>
void select_backward_cpu(T* dx, const T* dy, const int64_t* index, ReduceDims d) {
#pragma omp parallel for if (parallel_worth_it(d.outer * d.r * d.inner)) schedule(static)
    for (int64_t o = 0; o < d.outer; ++o)
        for (int64_t r = 0; r < d.r; ++r)
            for (int64_t i = 0; i < d.inner; ++i)
                dx[(o * d.r + r) * d.inner + i] =
                    index[o * d.inner + i] == r ? dy[o * d.inner + i] : T(0);
}

template <class T>
void var_forward_cpu(T* y, const T* x, ReduceDims d, int64_t correction) {
    const int64_t outputs = d.outer * d.inner;
    // R - c = 0 (one element, unbiased) gives 0 / 0 = NaN, as PyTorch does.
    const double denom = static_cast<double>(d.r - correction);
#pragma omp parallel for if (parallel_worth_it(outputs * d.r)) schedule(static)
    for (int64_t out = 0; out < outputs; ++out) {
        const T* col = x + (out / d.inner) * d.r * d.inner + out % d.inner;
        const double mean = mean_of(col, d);
        double ss = 0;  // two passes: sum of squared deviations, no E[x^2] - E[x]^2 cancellation
        for (int64_t r = 0; r < d.r; ++r) {
            const double dev = col[r * d.inner] - mean;
            ss += dev * dev;
        }
        y[out] = static_cast<T>(ss / denom);
    }
}

// The mean is recomputed from x (the same double loop as the forward) rather than saved.
template <class T>
void var_backward_cpu(T* dx, const T* dy, const T* x, ReduceDims d, int64_t correction) {
    const int64_t outputs = d.outer * d.inner;
    const double denom = static_cast<double>(d.r - correction);
#pragma omp parallel for if (parallel_worth_it(outputs * d.r)) schedule(static)
    for (int64_t out = 0; out < outputs; ++out) {
        const int64_t base = (out / d.inner) * d.r * d.inner + out % d.inner;
        const double mean = mean_of(x + base, d);
        const double g = 2.0 * dy[out] / denom;
        for (int64_t r = 0; r < d.r; ++r)
            dx[base + r * d.inner] = static_cast<T>(g * (x[base + r * d.inner] - mean));
    }
}

double ordered_chunk_sum(int64_t n, int64_t work_per_row,
                         const std::function<double(int64_t begin, int64_t end)>& chunk_sum) {
    // Chunk boundaries depend only on n: 64 rows per chunk (small enough to spread 4096 rows over
    // the threads, large enough that a K = 10 row's call overhead vanishes), up to 256 chunks per
    // pass so the partial sums live on the stack.
    constexpr int64_t kRowsPerChunk = 64;
    constexpr int64_t kChunksPerPass = 256;
    double total = 0;
    for (int64_t base = 0; base < n; base += kRowsPerChunk * kChunksPerPass) {
        const int64_t rows = std::min(n - base, kRowsPerChunk * kChunksPerPass);
        const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
        double partial[kChunksPerPass];
#pragma omp parallel for if (parallel_worth_it(rows * work_per_row)) schedule(static)
        for (int64_t c = 0; c < chunks; ++c) {
            const int64_t begin = base + c * kRowsPerChunk;
            partial[c] = chunk_sum(begin, std::min(begin + kRowsPerChunk, base + rows));
        }
        for (int64_t c = 0; c < chunks; ++c) total += partial[c];
    }
    return total;
}

#define OBL_INSTANTIATE(T)                                                          \
    template void reduce_forward_cpu<T>(T*, const T*, ReduceDims, ReduceOp);        \
    template void reduce_backward_cpu<T>(T*, const T*, ReduceDims, ReduceOp);       \
    template void arg_reduce_cpu<T>(int64_t*, const T*, ReduceDims, ReduceOp);      \
    template void select_backward_cpu<T>(T*, const T*, const int64_t*, ReduceDims); \
    template void var_forward_cpu<T>(T*, const T*, ReduceDims, int64_t);            \
    template void var_backward_cpu<T>(T*, const T*, const T*, ReduceDims, int64_t);
OBL_INSTANTIATE(float)
OBL_INSTANTIATE(double)
#undef OBL_INSTANTIATE

}  // namespace obl::kernels
