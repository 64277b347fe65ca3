// CPU reference for bilinear/bicubic interpolation (kernels/interpolate.h). Separable: the taps
// and weights of every output column and row are computed once per call (double), then each
// plane is resized horizontally into a (H, W') double buffer and vertically from it. The
// backward runs the transposed passes in the opposite order. Parallel over planes; each thread
// owns its scratch buffers for the whole call (no allocation per plane).
#include "kernels/interpolate.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"

namespace obl::kernels {

namespace {

// Taps (index, weight) of every output position along one axis, K per position.
struct AxisTaps {
    std::vector<int64_t> idx;
    std::vector<double> w;
};

AxisTaps axis_taps(InterpKind kind, int64_t in, int64_t out, bool align_corners) {
    const int k = interp_num_taps(kind);
    AxisTaps t;
    t.idx.resize(static_cast<size_t>(out * k));
    t.w.resize(t.idx.size());
    const double scale = interp_scale<double>(in, out, align_corners);
    for (int64_t o = 0; o < out; ++o)
        interp_taps<double>(kind, scale, o, in, align_corners, &t.idx[o * k], &t.w[o * k]);
    return t;
}

// One plane forward. K is a compile-time constant so that the vertical pass, a K-term weighted
// sum of contiguous rows of `tmp`, vectorises over output columns.
template <int K, class T>
void forward_plane(T* y, const T* x, double* tmp, const AxisTaps& tx, const AxisTaps& ty,
                   const InterpolateDims& d) {
    const int64_t* ix = tx.idx.data();
    const double* wx = tx.w.data();
    for (int64_t r = 0; r < d.in_h; ++r) {  // horizontal: tmp[r][ox] = sum_b wx x[r][ix]
        const T* xr = x + r * d.in_w;
        double* tr = tmp + r * d.out_w;
        for (int64_t ox = 0; ox < d.out_w; ++ox) {
            double acc = 0;
            for (int b = 0; b < K; ++b)
                acc += wx[ox * K + b] * static_cast<double>(xr[ix[ox * K + b]]);
            tr[ox] = acc;
        }
    }
    for (int64_t oy = 0; oy < d.out_h; ++oy) {  // vertical: y[oy][ox] = sum_a wy tmp[iy][ox]
        const double* rows[K];
        double w[K];
        for (int a = 0; a < K; ++a) {
            rows[a] = tmp + ty.idx[oy * K + a] * d.out_w;
            w[a] = ty.w[oy * K + a];
        }
        T* yr = y + oy * d.out_w;
        for (int64_t ox = 0; ox < d.out_w; ++ox) {
            double acc = 0;
            for (int a = 0; a < K; ++a) acc += w[a] * rows[a][ox];
            yr[ox] = static_cast<T>(acc);
        }
    }
}

// One plane backward: the transpose of forward_plane. tmp is (H, W'), acc is one dx row (W).
template <int K, class T>
void backward_plane(T* dx, const T* dy, double* tmp, double* acc, const AxisTaps& tx,
                    const AxisTaps& ty, const InterpolateDims& d) {
    std::fill(tmp, tmp + d.in_h * d.out_w, 0.0);
    for (int64_t oy = 0; oy < d.out_h; ++oy) {  // tmp[iy][ox] += wy dy[oy][ox]
        const T* g = dy + oy * d.out_w;
        for (int a = 0; a < K; ++a) {
            double* tr = tmp + ty.idx[oy * K + a] * d.out_w;
            const double w = ty.w[oy * K + a];
            for (int64_t ox = 0; ox < d.out_w; ++ox) tr[ox] += w * static_cast<double>(g[ox]);
        }
    }
    const int64_t* ix = tx.idx.data();
    const double* wx = tx.w.data();
    for (int64_t r = 0; r < d.in_h; ++r) {  // dx[r][ix] += wx tmp[r][ox]
        std::fill(acc, acc + d.in_w, 0.0);
        const double* tr = tmp + r * d.out_w;
        for (int64_t ox = 0; ox < d.out_w; ++ox)
            for (int b = 0; b < K; ++b) acc[ix[ox * K + b]] += wx[ox * K + b] * tr[ox];
        T* dr = dx + r * d.in_w;
        for (int64_t c = 0; c < d.in_w; ++c) dr[c] = static_cast<T>(acc[c]);
    }
}

void check_dims(const InterpolateDims& d) {
    OBL_CHECK(d.in_h >= 1 && d.in_w >= 1 && d.out_h >= 1 && d.out_w >= 1,
              "interpolate: sizes must be >= 1, got input ", d.in_h, "x", d.in_w, ", output ",
              d.out_h, "x", d.out_w);
}

}  // namespace

template <class T>
void interpolate_forward_cpu(T* y, const T* x, InterpolateDims d) {
    check_dims(d);
    const AxisTaps tx = axis_taps(d.kind, d.in_w, d.out_w, d.align_corners);
    const AxisTaps ty = axis_taps(d.kind, d.in_h, d.out_h, d.align_corners);
    const int64_t in_plane = d.in_h * d.in_w, out_plane = d.out_h * d.out_w;
    const bool cubic = d.kind == InterpKind::Bicubic;
#pragma omp parallel if (parallel_worth_it(d.planes * out_plane * 4))
    {
        std::vector<double> tmp(static_cast<size_t>(d.in_h * d.out_w));
#pragma omp for schedule(static)
        for (int64_t p = 0; p < d.planes; ++p) {
            if (cubic) {
                forward_plane<4>(y + p * out_plane, x + p * in_plane, tmp.data(), tx, ty, d);
            } else {
                forward_plane<2>(y + p * out_plane, x + p * in_plane, tmp.data(), tx, ty, d);
            }
        }
    }
}

template <class T>
void interpolate_backward_cpu(T* dx, const T* dy, InterpolateDims d) {
    check_dims(d);
    const AxisTaps tx = axis_taps(d.kind, d.in_w, d.out_w, d.align_corners);
    const AxisTaps ty = axis_taps(d.kind, d.in_h, d.out_h, d.align_corners);
    const int64_t in_plane = d.in_h * d.in_w, out_plane = d.out_h * d.out_w;
    const bool cubic = d.kind == InterpKind::Bicubic;
#pragma omp parallel if (parallel_worth_it(d.planes * out_plane * 4))
    {
        std::vector<double> tmp(static_cast<size_t>(d.in_h * d.out_w));
        std::vector<double> acc(static_cast<size_t>(d.in_w));
#pragma omp for schedule(static)
        for (int64_t p = 0; p < d.planes; ++p) {
            if (cubic) {
                backward_plane<4>(dx + p * in_plane, dy + p * out_plane, tmp.data(), acc.data(), tx,
                                  ty, d);
            } else {
                backward_plane<2>(dx + p * in_plane, dy + p * out_plane, tmp.data(), acc.data(), tx,
                                  ty, d);
            }
        }
    }
}

template void interpolate_forward_cpu<float>(float*, const float*, InterpolateDims);
template void interpolate_forward_cpu<double>(double*, const double*, InterpolateDims);
template void interpolate_backward_cpu<float>(float*, const float*, InterpolateDims);
template void interpolate_backward_cpu<double>(double*, const double*, InterpolateDims);

}  // namespace obl::kernels
