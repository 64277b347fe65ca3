// Op-table rows for the gemm family (kernels/gemm.h): matmul with all four transpose
// combinations, bmm, linear with and without bias. Every row is also a FastVsRef row (packed
// AVX-512/AVX2 GEMM vs the double-accumulating reference). Shapes are chosen to reach each path
// of kernels/cpu/fast/gemm.cpp: packed A and B with edge tiles (M, N, K not multiples of 14, 32
// or 16; K > 256 gives two K blocks), A read in place (N <= 32), the narrow kernel (N <= 16),
// B read in place (M <= 14), and the degenerate M = 1, N = 1.
// Row names spell the dims as m<M>_k<K>_n<N>: C (M, N) = op(A) (M, K) op(B) (K, N).
#include <algorithm>
#include <cmath>

#include "tests/kernels/op_case.h"

namespace obl::test {

namespace {

// DESIGN.md §K: GEMM on random data 1e-4, scaled with sqrt(K) once K exceeds 32 (the f32
// rounding error of a K-term dot product grows like sqrt(K)). `k` is the longest contraction of
// the row, forward or backward (dA contracts over N, dB over M).
OpCase row(std::string name, std::vector<Shape> inputs, int64_t k,
           std::function<Tensor(const std::vector<Tensor>&)> fn) {
    OpCase c;
    c.name = std::move(name);
    c.kernel = "gemm";
    c.inputs = std::move(inputs);
    c.fn = std::move(fn);
    c.has_fast_cpu = true;
    const double tol = 1e-4 * std::max(1.0, std::sqrt(static_cast<double>(k) / 32.0));
    c.atol = tol;
    c.rtol = tol;
    return c;
}

// matmul of A (M, K) or (K, M) with B (K, N) or (N, K).
OpCase matmul_row(int64_t m, int64_t k, int64_t n, bool ta, bool tb) {
    const std::string name = std::string("matmul_") + (ta ? "t" : "n") + (tb ? "t" : "n") + "_m" +
                             std::to_string(m) + "_k" + std::to_string(k) + "_n" +
                             std::to_string(n);
    const Shape a = ta ? Shape{k, m} : Shape{m, k};
    const Shape b = tb ? Shape{n, k} : Shape{k, n};
    return row(name, {a, b}, std::max({m, k, n}),
               [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); });
}

OpCase bmm_row(int64_t batch, int64_t m, int64_t k, int64_t n, bool ta, bool tb) {
    const std::string name = std::string("bmm_") + (ta ? "t" : "n") + (tb ? "t" : "n") + "_b" +
                             std::to_string(batch) + "_m" + std::to_string(m) + "_k" +
                             std::to_string(k) + "_n" + std::to_string(n);
    const Shape a = ta ? Shape{batch, k, m} : Shape{batch, m, k};
    const Shape b = tb ? Shape{batch, n, k} : Shape{batch, k, n};
    return row(name, {a, b}, std::max({m, k, n}),
               [ta, tb](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); });
}

// linear(x (lead..., in), W (out, in), b (out)); `rows` = product of the leading dims.
OpCase linear_row(std::string name, Shape x, int64_t out, bool with_bias) {
    const int64_t in = x.back(), rows = x.numel() / in;
    std::vector<Shape> inputs = {x, Shape{out, in}};
    if (with_bias) inputs.push_back(Shape{out});
    return row(std::move(name), inputs, std::max({rows, in, out}),
               [with_bias](const std::vector<Tensor>& in) {
                   return with_bias ? linear(in[0], in[1], in[2]) : linear(in[0], in[1]);
               });
}

}  // namespace

std::vector<OpCase> gemm_cases() {
    std::vector<OpCase> rows;
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            rows.push_back(matmul_row(33, 65, 17, ta, tb));   // awkward: edges everywhere
            rows.push_back(matmul_row(30, 260, 40, ta, tb));  // packed, two K blocks
        }
    }
    rows.push_back(matmul_row(32, 48, 64, false, false));  // a normal shape
    rows.push_back(matmul_row(1, 7, 13, false, false));    // M = 1 (B read in place)
    rows.push_back(matmul_row(1, 7, 13, true, true));
    rows.push_back(matmul_row(20, 9, 1, false, false));   // N = 1 (narrow kernel)
    rows.push_back(matmul_row(40, 1, 37, false, true));   // K = 1
    rows.push_back(matmul_row(5, 40, 70, false, false));  // M <= 14, B read in place
    rows.push_back(matmul_row(45, 50, 28, true, false));  // 16 < N <= 32, A read in place
    rows.push_back(bmm_row(3, 17, 9, 23, false, false));
    rows.push_back(bmm_row(3, 17, 9, 23, true, true));
    rows.push_back(bmm_row(2, 30, 40, 50, false, true));
    rows.push_back(bmm_row(4, 9, 16, 12, true, false));
    rows.push_back(linear_row("linear_bias_x5x7x33_out10", Shape{5, 7, 33}, 10, true));
    rows.push_back(linear_row("linear_bias_x64x40_out48", Shape{64, 40}, 48, true));
    rows.push_back(linear_row("linear_nobias_x64x40_out17", Shape{64, 40}, 17, false));
    rows.push_back(linear_row("linear_bias_x1x7_out1", Shape{1, 7}, 1, true));
    return rows;
}

}  // namespace obl::test
