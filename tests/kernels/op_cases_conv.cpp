// Op-table rows for the conv family: conv2d (kernels/conv2d.h), the pools (kernels/pool.h),
// batch_norm (kernels/batch_norm.h) and layer_norm (kernels/layer_norm.h). Row names start with
// the op name, so --gtest_filter='*conv2d*:*pool2d*:*_norm_*' selects the family.
//
// conv2d rows cover plain, stride 2, asymmetric padding, dilation, depthwise and grouped, 1x1,
// no bias and an awkward N = 1, C = 3, 7x5 image, plus shapes for each branch of the fast path:
// several images per GEMM (with a partial last chunk), one image per chunk on several threads,
// the transposed forward (16 output channels per group) and the in-place 1x1 conv. Their f32
// tolerance is DESIGN §K's GEMM/conv rule, 1e-4 scaled with sqrt(K / 100) for the longest
// contraction K of the forward and backward passes (at least 1e-4).
// batch_norm rows run in training mode (batch statistics, full backward) and in eval mode; each
// call creates fresh running statistics, so repeated evaluations by GradCheck see the same state.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/conv2d.h"
#include "tests/kernels/op_case.h"

namespace obl::test {

namespace {

double conv_tol(int64_t k) {
    return 1e-4 * std::max(1.0, std::sqrt(static_cast<double>(k) / 100.0));
}

OpCase conv_row(const std::string& name, const Shape& x, const Shape& w, bool bias,
                const Conv2dParams& p) {
    OpCase c;
    c.name = "conv2d_" + name;
    c.kernel = "conv2d";
    c.inputs = {x, w};
    if (bias) c.inputs.push_back(Shape{w[0]});
    c.fn = [p, bias](const std::vector<Tensor>& in) {
        return conv2d(in[0], in[1], bias ? in[2] : Tensor(), p);
    };
    c.has_fast_cpu = true;
    const int64_t oh = kernels::conv2d_out_size(x[2], w[2], p.stride_h, p.pad_h, p.dilation_h);
    const int64_t ow = kernels::conv2d_out_size(x[3], w[3], p.stride_w, p.pad_w, p.dilation_w);
    const int64_t k = std::max({w[1] * w[2] * w[3],                 // forward
                                x[0] * oh * ow,                     // dweight
                                (w[0] / p.groups) * w[2] * w[3]});  // dx
    c.atol = c.rtol = conv_tol(k);
    return c;
}

Conv2dParams conv_params(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
    Conv2dParams p;
    p.stride_h = p.stride_w = stride;
    p.pad_h = p.pad_w = pad;
    p.dilation_h = p.dilation_w = dilation;
    p.groups = groups;
    return p;
}

// Max pooling is non-smooth where two values of a window tie: replace the drawn values by an
// evenly spaced grid in [-1, 1] in the same rank order, so every gap is >= 2 / numel (>= 1e-3
// for these shapes), far above the finite-difference step.
void distinct_values(std::vector<double>& v, size_t) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    for (size_t r = 0; r < order.size(); ++r)
        v[order[r]] = -1.0 + 2.0 * (static_cast<double>(r) + 0.5) / static_cast<double>(v.size());
}

OpCase pool_row(const std::string& name, const Shape& x, std::function<Tensor(const Tensor&)> f) {
    OpCase c;
    c.name = name;
    c.kernel = "pool";
    c.inputs = {x};
    c.fn = [f](const std::vector<Tensor>& in) { return f(in[0]); };
    c.atol = 1e-5;  // averages are reductions (DESIGN §K)
    c.rtol = 1e-4;
    return c;
}

OpCase max_pool_row(const std::string& name, const Shape& x, int64_t k, int64_t s, int64_t p) {
    OpCase c = pool_row("max_pool2d_" + name, x,
                        [k, s, p](const Tensor& t) { return max_pool2d(t, k, s, p); });
    c.atol = 1e-6;  // max pooling copies values: elementwise tolerance
    c.rtol = 1e-5;
    c.avoid_kinks = distinct_values;
    return c;
}

// Running statistics created on x's device and dtype, fresh for every call.
Tensor channel_vector(const std::vector<double>& v, const Tensor& like) {
    return Tensor::from_vector(v, Shape{static_cast<int64_t>(v.size())})
        .to(like.dtype())
        .to(like.device());
}

std::vector<double> ramp(int64_t n, double start, double step) {
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        v[static_cast<size_t>(i)] = start + step * static_cast<double>(i);
    return v;
}

OpCase batch_norm_row(const std::string& name, const Shape& x, bool training, bool affine) {
    OpCase c;
    c.name = "batch_norm_" + name;
    c.kernel = "batch_norm";
    c.inputs = {x};
    if (affine) c.inputs.insert(c.inputs.end(), {Shape{x[1]}, Shape{x[1]}});
    const int64_t channels = x[1];
    c.fn = [training, affine, channels](const std::vector<Tensor>& in) {
        // Eval mode needs non-trivial statistics; training starts from PyTorch's (0, 1).
        Tensor mean =
            channel_vector(training ? ramp(channels, 0.0, 0.0) : ramp(channels, -0.3, 0.2), in[0]);
        Tensor var =
            channel_vector(training ? ramp(channels, 1.0, 0.0) : ramp(channels, 0.5, 0.4), in[0]);
        return batch_norm(in[0], affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), mean, var,
                          training, 0.1, 1e-5);
    };
    c.atol = 1e-5;  // norms (DESIGN §K)
    c.rtol = 1e-4;
    return c;
}

OpCase layer_norm_row(const std::string& name, const Shape& x, bool affine) {
    OpCase c;
    c.name = "layer_norm_" + name;
    c.kernel = "layer_norm";
    c.inputs = {x};
    if (affine) c.inputs.insert(c.inputs.end(), {Shape{x.back()}, Shape{x.back()}});
    c.fn = [affine](const std::vector<Tensor>& in) {
        return layer_norm(in[0], affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), 1e-5);
    };
    c.atol = 1e-5;
    c.rtol = 1e-4;
    return c;
}

}  // namespace

std::vector<OpCase> conv_cases() {
    std::vector<OpCase> rows;
    // ---- conv2d ----
    rows.push_back(conv_row("plain", {2, 3, 6, 6}, {4, 3, 3, 3}, true, conv_params(1, 0)));
    rows.push_back(conv_row("stride2", {2, 3, 7, 7}, {4, 3, 3, 3}, true, conv_params(2, 1)));
    {
        Conv2dParams p = conv_params(1, 1);
        p.pad_w = 2;  // asymmetric padding
        rows.push_back(conv_row("padding", {2, 2, 5, 6}, {3, 2, 3, 3}, true, p));
    }
    rows.push_back(conv_row("dilation", {1, 2, 9, 8}, {3, 2, 3, 3}, true, conv_params(1, 2, 2)));
    rows.push_back(
        conv_row("depthwise", {2, 4, 6, 6}, {4, 1, 3, 3}, true, conv_params(1, 1, 1, 4)));
    rows.push_back(conv_row("groups2", {2, 4, 5, 5}, {6, 2, 3, 3}, true, conv_params(1, 1, 1, 2)));
    rows.push_back(conv_row("1x1", {2, 8, 5, 5}, {6, 8, 1, 1}, true, conv_params(1, 0)));
    rows.push_back(conv_row("1x1_stride2", {2, 8, 5, 5}, {6, 8, 1, 1}, false, conv_params(2, 0)));
    rows.push_back(conv_row("no_bias", {2, 3, 6, 6}, {4, 3, 3, 3}, false, conv_params(1, 1)));
    {
        Conv2dParams p = conv_params(1, 1);
        p.stride_h = 2;  // awkward: N = 1, C = 3, 7x5 image, 3x2 kernel, strides (2, 1)
        rows.push_back(conv_row("awkward", {1, 3, 7, 5}, {5, 3, 3, 2}, true, p));
    }
    // Fast-path branches: 6 images of 4x4 share one GEMM; 3 images of 18x18 (>= 256 columns
    // each) are one chunk per thread; a 16x16 1x1 conv reads the image in place.
    rows.push_back(conv_row("batched_4x4", {6, 8, 4, 4}, {5, 8, 3, 3}, true, conv_params(1, 1)));
    rows.push_back(conv_row("large_18x18", {3, 4, 18, 18}, {8, 4, 3, 3}, true, conv_params(1, 1)));
    // 7 images of 8x8 make chunks of 4 (the last one partial) and two dweight slots.
    rows.push_back(
        conv_row("batched_8x8_partial", {7, 4, 8, 8}, {6, 4, 3, 3}, false, conv_params(1, 1)));
    // 16 output channels per group: the fast forward runs transposed (y^T = col^T weight^T).
    rows.push_back(conv_row("o16", {3, 4, 10, 10}, {16, 4, 3, 3}, true, conv_params(1, 1)));
    rows.push_back(
        conv_row("o16_groups2", {2, 4, 9, 9}, {32, 2, 3, 3}, true, conv_params(2, 1, 1, 2)));
    // A 5x5 kernel with padding 2 on a 2x3 image: some taps never touch the image.
    rows.push_back(conv_row("5x5_on_2x3", {2, 2, 2, 3}, {3, 2, 5, 5}, true, conv_params(1, 2)));
    rows.push_back(
        conv_row("1x1_direct_16x16", {2, 6, 16, 16}, {4, 3, 1, 1}, true, conv_params(1, 0, 1, 2)));

    // ---- pools ----
    rows.push_back(max_pool_row("k2s2", {2, 3, 6, 6}, 2, 2, 0));
    rows.push_back(max_pool_row("k3s2p1", {2, 3, 8, 8}, 3, 2, 1));  // ResNet stem, overlapping
    rows.push_back(max_pool_row("awkward", {1, 3, 7, 5}, 3, 2, 1));
    rows.push_back(pool_row("avg_pool2d_k2s2", {2, 3, 6, 6},
                            [](const Tensor& t) { return avg_pool2d(t, 2, 2, 0); }));
    rows.push_back(pool_row("avg_pool2d_k3s2p1_awkward", {1, 3, 7, 5},
                            [](const Tensor& t) { return avg_pool2d(t, 3, 2, 1); }));
    rows.push_back(pool_row("adaptive_avg_pool2d_7to3", {2, 3, 7, 7},
                            [](const Tensor& t) { return adaptive_avg_pool2d(t, 3, 3); }));
    rows.push_back(pool_row("adaptive_avg_pool2d_awkward", {1, 3, 7, 5},
                            [](const Tensor& t) { return adaptive_avg_pool2d(t, 3, 2); }));
    rows.push_back(pool_row("adaptive_avg_pool2d_global", {2, 4, 5, 5},
                            [](const Tensor& t) { return adaptive_avg_pool2d(t, 1, 1); }));

    // ---- batch_norm ----
    rows.push_back(batch_norm_row("train_4d", {4, 3, 5, 5}, true, true));
    rows.push_back(batch_norm_row("train_2d", {8, 5}, true, true));
    rows.push_back(batch_norm_row("train_awkward", {1, 3, 7, 5}, true, true));
    rows.push_back(batch_norm_row("train_no_affine", {3, 4, 2, 3}, true, false));
    rows.push_back(batch_norm_row("eval_4d", {2, 3, 4, 4}, false, true));
    rows.push_back(batch_norm_row("eval_2d", {5, 7}, false, true));

    // ---- layer_norm ----
    rows.push_back(layer_norm_row("3d", {2, 5, 16}, true));
    rows.push_back(layer_norm_row("awkward", {7, 37}, true));
    rows.push_back(layer_norm_row("no_affine", {3, 10}, false));
    rows.push_back(layer_norm_row("wide", {48, 768}, true));  // > 32k elements: parallel path
    return rows;
}

}  // namespace obl::test
