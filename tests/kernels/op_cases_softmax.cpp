// Op-table rows for the softmax family: softmax, log_softmax (kernels/softmax.h), cross_entropy
// and cross_entropy_soft (kernels/cross_entropy.h), kl_div (kernels/kl_div.h). Every f32 CPU
// softmax/cross-entropy row also runs FastVsRef (the AVX-512/AVX2 fast path vs the reference).
// K values cover: K = 1, K < 16 (one masked SIMD step), K not a multiple of 8/16, K > 1024 (the
// CUDA block-per-row path), and N = 1.
#include "tests/kernels/op_case.h"
#include "tests/test_util.h"

namespace obl::test {

namespace {

constexpr double kAtol = 1e-5, kRtol = 1e-4;  // DESIGN.md §K: reductions, softmax

OpCase row(std::string name, std::string kernel, std::vector<Shape> inputs,
           std::function<Tensor(const std::vector<Tensor>&)> fn, bool fast) {
    OpCase c;
    c.name = std::move(name);
    c.kernel = std::move(kernel);
    c.inputs = std::move(inputs);
    c.fn = std::move(fn);
    c.lo = -3.0;  // logits spread over a few units, so softmax is far from uniform
    c.hi = 3.0;
    c.has_fast_cpu = fast;
    c.atol = kAtol;
    c.rtol = kRtol;
    return c;
}

// Hard targets t_n = (7 n + 3) mod K on the device of `like`.
Tensor targets_for(int64_t n, int64_t k, const Tensor& like) {
    std::vector<int64_t> t(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) t[i] = (7 * i + 3) % k;
    return Tensor::from_vector(t, Shape{n}, like.device());
}

// A fixed distribution per row (seeded; every third entry exactly 0 when with_zeros, to exercise
// 0 log 0), in the dtype and on the device of `like`. Built inside the row's fn so it is not an
// op input (no gradient flows to targets).
Tensor distribution_for(const Shape& shape, uint64_t seed, bool with_zeros, const Tensor& like) {
    const int64_t k = shape.back(), n = shape.numel() / k;
    std::vector<double> v = uniform_values(shape.numel(), 0.05, 1.0, seed);
    for (int64_t r = 0; r < n; ++r) {
        double s = 0;
        for (int64_t j = 0; j < k; ++j) {
            double& q = v[r * k + j];
            if (with_zeros && k > 1 && j % 3 == 1) q = 0;
            s += q;
        }
        for (int64_t j = 0; j < k; ++j) v[r * k + j] /= s;
    }
    return Tensor::from_vector(v, shape).to(like.dtype()).to(like.device());
}

OpCase softmax_row(std::string name, Shape shape) {
    return row(
        std::move(name), "softmax", {shape},
        [](const std::vector<Tensor>& in) { return softmax(in[0]); }, true);
}

OpCase log_softmax_row(std::string name, Shape shape) {
    return row(
        std::move(name), "softmax", {shape},
        [](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, true);
}

OpCase ce_row(std::string name, int64_t n, int64_t k, double smoothing) {
    return row(
        std::move(name), "cross_entropy", {Shape{n, k}},
        [n, k, smoothing](const std::vector<Tensor>& in) {
            return cross_entropy(in[0], targets_for(n, k, in[0]), smoothing);
        },
        true);
}

OpCase ce_soft_row(std::string name, int64_t n, int64_t k) {
    return row(
        std::move(name), "cross_entropy", {Shape{n, k}},
        [n, k](const std::vector<Tensor>& in) {
            return cross_entropy_soft(in[0], distribution_for({n, k}, 99, true, in[0]));
        },
        true);
}

}  // namespace

std::vector<OpCase> softmax_cases() {
    std::vector<OpCase> rows = {
        softmax_row("softmax_256x10", {256, 10}),
        softmax_row("softmax_3d_awkward", {3, 5, 37}),
        softmax_row("softmax_k1", {4, 1}),
        softmax_row("softmax_n1_k17", {1, 17}),
        softmax_row("softmax_wide", {3, 1500}),
        log_softmax_row("log_softmax_64x10", {64, 10}),
        log_softmax_row("log_softmax_awkward", {7, 33}),
        log_softmax_row("log_softmax_n1_k1", {1, 1}),
        log_softmax_row("log_softmax_wide", {2, 1100}),
        ce_row("cross_entropy_32x10", 32, 10, 0.0),
        ce_row("cross_entropy_smooth_32x10", 32, 10, 0.1),
        ce_row("cross_entropy_n1_k7", 1, 7, 0.0),
        ce_row("cross_entropy_k1", 5, 1, 0.2),
        ce_row("cross_entropy_smooth_130x200", 130, 200, 0.05),
        ce_row("cross_entropy_wide", 3, 1300, 0.1),
        ce_soft_row("cross_entropy_soft_16x10", 16, 10),
        ce_soft_row("cross_entropy_soft_awkward", 9, 23),
        ce_soft_row("cross_entropy_soft_wide", 2, 1200),
    };
    // kl_div: log_q straight from the input (any real values), and the SCRUB composition
    // kl_div(log_softmax(student), p_teacher).
    rows.push_back(row(
        "kl_div_8x10", "kl_div", {Shape{8, 10}},
        [](const std::vector<Tensor>& in) {
            return kl_div(in[0], distribution_for({8, 10}, 5, true, in[0]));
        },
        false));
    rows.push_back(row(
        "kl_div_3d_awkward", "kl_div", {Shape{3, 4, 13}},
        [](const std::vector<Tensor>& in) {
            return kl_div(in[0], distribution_for({3, 4, 13}, 6, false, in[0]));
        },
        false));
    rows.push_back(row(
        "kl_div_log_softmax_n1", "kl_div", {Shape{1, 1100}},
        [](const std::vector<Tensor>& in) {
            return kl_div(log_softmax(in[0]), distribution_for({1, 1100}, 7, true, in[0]));
        },
        true));
    return rows;
}

}  // namespace obl::test
