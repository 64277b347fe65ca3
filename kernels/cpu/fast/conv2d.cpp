// Fast CPU conv2d (f32): im2col + kernels::gemm_fast_cpu (formulas in kernels/conv2d.h; the
// im2col formulation of aten/src/ATen/native/ConvolutionMM2d.cpp and Caffe).
//
// Work is split into CHUNKS of nb consecutive images; a chunk's receptive fields form one matrix
// with P = nb OH OW pixel columns, so each group is ONE GEMM whatever the feature-map size (nb is
// the smallest count reaching kMinGemmCols pixels: a 4x4 map alone gives a GEMM too thin to run
// near peak). Two layouts of the receptive fields, per group g (Kg = Cg KH KW):
//   col (Kg, P)   im2col, rows = taps:    y_g (Og, P) = weight_g (Og, Kg) @ col_g        forward
//                                         dcol_g (Kg, P) = weight_g^T @ dy_g, dx = col2im(dcol)
//   row (P, Kg)   im2row, rows = pixels:  dweight_g^T (Kg, Og) = row_g^T @ dy_g^T       dweight
// The shapes were chosen by timing gemm_fast_cpu on this machine's AVX-512 micro-kernels (14 x 32
// register tiles, and a 24 x 16 one for N <= 16): with few output channels the forward runs
// transposed, y_g^T (P, Og) = col_g^T @ weight_g^T, so that Og = 16 or 32 fills a tile's width
// instead of wasting most of two 14-row strips (16 -> 16 channels: ~2x faster). The row layout
// keeps the dweight GEMM at 80-95 GFLOP/s per core where dweight = dy @ col^T managed 25-45 (and
// col read with a 4 KB row stride aliases in L1 on 32x32 maps). col2im and im2row run tap by tap
// and pixel by pixel respectively, so that their writes are contiguous.
// 1x1 / stride 1 / unpadded convs with nb = 1 skip im2col: the image is its own col matrix, and
// dx_g = weight_g^T @ dy_g is written in place. Their dweight still goes through im2row (a plain
// transpose of x, small next to the GEMM) to keep the fast GEMM shape.
//
// Threads: the chunks of a batch are independent, so the forward and dx run one chunk per thread
// (each thread owns its scratch; the GEMM inside runs single-threaded in that nested region).
// With fewer chunks than threads (one image), the chunk loop is serial and the GEMM itself runs
// on the OpenMP team instead. dweight is a sum over the whole batch: chunks are grouped into at
// most kMaxWeightSlots SLOTS fixed by the shapes alone; a slot accumulates its chunks in order
// (GEMM beta = 1), and the slot partials are added in slot order. The result is therefore the
// same bits for every thread count (the GEMM is itself thread-count independent).
#include "kernels/conv2d.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/gemm.h"

namespace obl::kernels {

namespace {

constexpr int64_t kMinGemmCols = 256;  // batch images until a GEMM has >= this many pixels
constexpr int64_t kMaxColFloats = int64_t(8) << 20;    // 32 MB of im2col scratch per thread
constexpr int64_t kMaxWeightSlots = 16;                // dweight partial sums (fixed by shapes)
constexpr int64_t kMaxSlotFloats = int64_t(16) << 20;  // 64 MB for all dweight partials

struct Plan {
    int64_t cg, og;   // channels per group, in and out
    int64_t ckk;      // taps per group: Cg KH KW
    int64_t hw, ohw;  // pixels per input / output plane
    int64_t nb;       // images per chunk
    int64_t chunks;   // ceil(N / nb)
    bool direct;      // 1x1, stride 1, no padding, nb = 1: col is the image itself
    bool transposed;  // forward as y^T = col^T @ weight^T (few output channels per group)
    int64_t col_floats, ybuf_floats;  // per-thread scratch
};

Plan make_plan(const Conv2dDims& d) {
    Plan p{};
    p.cg = d.c / d.groups;
    p.og = d.o / d.groups;
    p.ckk = p.cg * d.kh * d.kw;
    p.hw = d.h * d.w;
    p.ohw = d.oh * d.ow;
    const int64_t taps = d.c * d.kh * d.kw;
    p.nb = std::min<int64_t>(d.n, (kMinGemmCols + p.ohw - 1) / p.ohw);
    p.nb = std::max<int64_t>(1, std::min(p.nb, kMaxColFloats / std::max<int64_t>(1, taps * p.ohw)));
    p.chunks = (d.n + p.nb - 1) / p.nb;
    p.direct = d.kh == 1 && d.kw == 1 && d.stride_h == 1 && d.stride_w == 1 && d.pad_h == 0 &&
               d.pad_w == 0 && p.nb == 1;
    // Og of 16 or 32 fills the GEMM's 16 / 32-wide tiles exactly when it is the N dimension;
    // other widths measured faster (or equal) in the plain orientation.
    p.transposed = p.og <= 32 && p.og % 16 == 0;
    p.col_floats = taps * p.nb * p.ohw;
    p.ybuf_floats = d.o * p.nb * p.ohw;
    return p;
}

// Output positions j in [lo, hi) whose tap at input offset `off` (= b dilation - pad) falls inside
// [0, in): 0 <= j stride + off < in.
struct Span {
    int64_t lo, hi;
};
Span valid_span(int64_t off, int64_t stride, int64_t in, int64_t out) {
    int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t hi = in - 1 - off < 0 ? 0 : (in - 1 - off) / stride + 1;
    lo = std::min(lo, out);
    hi = std::max(lo, std::min(hi, out));
    return {lo, hi};
}

// One tap's plane of a stride-1 conv whose output is as wide as its input ("same" padding): out
// is the x plane shifted by (off_h, off_w) rows and columns, zero outside. The in-image rows are
// ONE contiguous copy (a column shift wraps into the neighbouring row, exactly at the positions
// outside [lo, hi) that are zeroed afterwards), which beats row-by-row copies on small maps
// (8 x 8 maps: about half the time).
void shifted_plane(float* out, const float* xp, int64_t off_h, int64_t off_w, Span js,
                   const Conv2dDims& d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow;
    const int64_t i_lo = std::clamp<int64_t>(-off_h, 0, d.oh);
    const int64_t i_hi = std::clamp<int64_t>(d.h - off_h, i_lo, d.oh);
    std::fill(out, out + i_lo * d.ow, 0.f);
    std::fill(out + i_hi * d.ow, out + ohw, 0.f);
    if (i_lo == i_hi) return;
    float* dst = out + i_lo * d.ow;
    const int64_t src0 = (i_lo + off_h) * d.w + off_w, len = (i_hi - i_lo) * d.ow;
    const int64_t t_lo = std::clamp<int64_t>(-src0, 0, len);
    const int64_t t_hi = std::clamp<int64_t>(hw - src0, t_lo, len);
    std::fill(dst, dst + t_lo, 0.f);
    std::memcpy(dst + t_lo, xp + src0 + t_lo, sizeof(float) * (t_hi - t_lo));
    std::fill(dst + t_hi, dst + len, 0.f);
    for (float* rp = dst; rp < dst + len; rp += d.ow) {  // wrapped columns
        for (int64_t j = 0; j < js.lo; ++j) rp[j] = 0.f;
        for (int64_t j = js.hi; j < d.ow; ++j) rp[j] = 0.f;
    }
}

// col (C KH KW, cnt OH OW) from images x[0, cnt) (NCHW); out-of-image taps are zero. Rows of
// group g are [g Kg, (g + 1) Kg), so col_g is a contiguous (Kg, P) matrix.
void im2col(float* col, const float* x, int64_t cnt, const Conv2dDims& d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow, ld = cnt * ohw;
    const bool same_size = d.stride_h == 1 && d.stride_w == 1 && d.ow == d.w;
    for (int64_t c = 0; c < d.c; ++c) {
        for (int64_t a = 0; a < d.kh; ++a) {
            for (int64_t b = 0; b < d.kw; ++b) {
                float* row = col + ((c * d.kh + a) * d.kw + b) * ld;
                const int64_t off_w = b * d.dilation_w - d.pad_w;
                const Span js = valid_span(off_w, d.stride_w, d.w, d.ow);
                for (int64_t i = 0; i < cnt; ++i) {
                    const float* xp = x + (i * d.c + c) * hw;
                    if (same_size) {
                        shifted_plane(row + i * ohw, xp, a * d.dilation_h - d.pad_h, off_w, js, d);
                        continue;
                    }
                    for (int64_t oi = 0; oi < d.oh; ++oi) {
                        float* out = row + i * ohw + oi * d.ow;
                        const int64_t r = oi * d.stride_h - d.pad_h + a * d.dilation_h;
                        if (r < 0 || r >= d.h) {
                            std::fill(out, out + d.ow, 0.f);
                            continue;
                        }
                        const float* src = xp + r * d.w;
                        std::fill(out, out + js.lo, 0.f);
                        if (d.stride_w == 1) {
                            std::memcpy(out + js.lo, src + js.lo + off_w,
                                        sizeof(float) * (js.hi - js.lo));
                        } else {
                            for (int64_t j = js.lo; j < js.hi; ++j)
                                out[j] = src[j * d.stride_w + off_w];
                        }
                        std::fill(out + js.hi, out + d.ow, 0.f);
                    }
                }
            }
        }
    }
}

// The adjoint of im2col: dx[0, cnt) = sum over col rows of their taps, added in a fixed order
// (tap by tap, each a contiguous run of one image row).
void col2im(float* dx, const float* col, int64_t cnt, const Conv2dDims& d) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow, ld = cnt * ohw;
    std::fill(dx, dx + cnt * d.c * hw, 0.f);
    for (int64_t c = 0; c < d.c; ++c) {
        for (int64_t a = 0; a < d.kh; ++a) {
            for (int64_t b = 0; b < d.kw; ++b) {
                const float* row = col + ((c * d.kh + a) * d.kw + b) * ld;
                const int64_t off_w = b * d.dilation_w - d.pad_w;
                const Span js = valid_span(off_w, d.stride_w, d.w, d.ow);
                for (int64_t i = 0; i < cnt; ++i) {
                    float* xp = dx + (i * d.c + c) * hw;
                    for (int64_t oi = 0; oi < d.oh; ++oi) {
                        const int64_t r = oi * d.stride_h - d.pad_h + a * d.dilation_h;
                        if (r < 0 || r >= d.h) continue;
                        const float* in = row + i * ohw + oi * d.ow;
                        float* dst = xp + r * d.w;
                        for (int64_t j = js.lo; j < js.hi; ++j)
                            dst[j * d.stride_w + off_w] += in[j];
                    }
                }
            }
        }
    }
}

// Visits every (pixel column, tap) pair of the row layout of images [0, cnt):
//   f(row_index, x_index) with x_index = -1 for a padding tap,
// where row_index addresses row[g][p][k] (group-blocked: row_g is a contiguous (P, Kg) matrix)
// and x_index the pixel in the chunk's NCHW images. Pixel by pixel, so the row writes are
// contiguous; pixels whose whole window lies inside the image skip the bounds checks.
template <class F>
void for_each_row_tap(int64_t cnt, const Conv2dDims& d, const Plan& p, F&& f) {
    const int64_t cols = cnt * p.ohw;
    const int64_t span_h = (d.kh - 1) * d.dilation_h, span_w = (d.kw - 1) * d.dilation_w;
    for (int64_t i = 0; i < cnt; ++i) {
        for (int64_t oi = 0; oi < d.oh; ++oi) {
            const int64_t r0 = oi * d.stride_h - d.pad_h;
            for (int64_t oj = 0; oj < d.ow; ++oj) {
                const int64_t s0 = oj * d.stride_w - d.pad_w;
                const int64_t pix = i * p.ohw + oi * d.ow + oj;
                const bool inside = r0 >= 0 && r0 + span_h < d.h && s0 >= 0 && s0 + span_w < d.w;
                for (int64_t g = 0; g < d.groups; ++g) {
                    int64_t ri = (g * cols + pix) * p.ckk;
                    for (int64_t cl = 0; cl < p.cg; ++cl) {
                        const int64_t xc = (i * d.c + g * p.cg + cl) * p.hw;
                        for (int64_t a = 0; a < d.kh; ++a) {
                            const int64_t r = r0 + a * d.dilation_h;
                            const int64_t xr = xc + r * d.w + s0;
                            if (inside) {
                                for (int64_t b = 0; b < d.kw; ++b) f(ri++, xr + b * d.dilation_w);
                                continue;
                            }
                            const bool row_ok = r >= 0 && r < d.h;
                            for (int64_t b = 0; b < d.kw; ++b) {
                                const int64_t s = s0 + b * d.dilation_w;
                                f(ri++, row_ok && s >= 0 && s < d.w ? xr + b * d.dilation_w
                                                                    : int64_t(-1));
                            }
                        }
                    }
                }
            }
        }
    }
}

// row[g] (P, Kg) from images x[0, cnt); padding taps are zero.
void im2row(float* row, const float* x, int64_t cnt, const Conv2dDims& d, const Plan& p) {
    for_each_row_tap(cnt, d, p, [&](int64_t ri, int64_t xi) { row[ri] = xi < 0 ? 0.f : x[xi]; });
}

// Runs `body(item, col, ybuf)` over [0, count) with per-thread scratch: one item per thread when
// there are enough items to occupy the team, else serially (the GEMM then uses the team).
// Results do not depend on which path runs.
template <class Body>
void for_each_item(int64_t count, const Plan& p, const Conv2dDims& d, Body&& body) {
    [[maybe_unused]] const bool par =
        count >= num_threads() && num_threads() > 1 && parallel_worth_it(conv2d_macs(d));
#pragma omp parallel if (par)
    {
        std::vector<float> col(static_cast<size_t>(p.col_floats));
        std::vector<float> ybuf(static_cast<size_t>(p.ybuf_floats));
#pragma omp for schedule(static)
        for (int64_t k = 0; k < count; ++k) body(k, col.data(), ybuf.data());
    }
}

}  // namespace

void conv2d_forward_fast_cpu(float* y, const float* x, const float* weight, const float* bias,
                             Conv2dDims d) {
    const Plan p = make_plan(d);
    for_each_item(p.chunks, p, d, [&](int64_t k, float* col, float* ybuf) {
        const int64_t n0 = k * p.nb, cnt = std::min(p.nb, d.n - n0), cols = cnt * p.ohw;
        const float* xs = x + n0 * d.c * p.hw;
        const float* colp = xs;
        if (!p.direct) {
            im2col(col, xs, cnt, d);
            colp = col;
        }
        if (p.transposed) {  // ybuf[g] (P, Og) = col_g^T @ weight_g^T, then to NCHW
            for (int64_t g = 0; g < d.groups; ++g) {
                gemm_fast_cpu(ybuf + g * cols * p.og, colp + g * p.ckk * cols,
                              weight + g * p.og * p.ckk,
                              GemmDims{1, cols, p.og, p.ckk, true, true});
            }
            for (int64_t i = 0; i < cnt; ++i) {
                for (int64_t o = 0; o < d.o; ++o) {
                    const int64_t g = o / p.og, ol = o % p.og;
                    float* dst = y + ((n0 + i) * d.o + o) * p.ohw;
                    const float* src = ybuf + g * cols * p.og + i * p.ohw * p.og + ol;
                    const float b = bias ? bias[o] : 0.f;
                    for (int64_t q = 0; q < p.ohw; ++q) dst[q] = src[q * p.og] + b;
                }
            }
            return;
        }
        // y_g (Og, P) = weight_g @ col_g, written in place when the chunk is one image.
        float* out = p.nb == 1 ? y + n0 * d.o * p.ohw : ybuf;
        for (int64_t g = 0; g < d.groups; ++g) {
            gemm_fast_cpu(out + g * p.og * cols, weight + g * p.og * p.ckk, colp + g * p.ckk * cols,
                          GemmDims{1, p.og, cols, p.ckk, false, false});
        }
        for (int64_t i = 0; i < cnt; ++i) {  // (O, cnt OH OW) -> (cnt, O, OH OW), plus bias
            for (int64_t o = 0; o < d.o; ++o) {
                float* dst = y + ((n0 + i) * d.o + o) * p.ohw;
                const float* src = out + o * cols + i * p.ohw;
                const float b = bias ? bias[o] : 0.f;
                for (int64_t q = 0; q < p.ohw; ++q) dst[q] = src[q] + b;
            }
        }
    });
}

void conv2d_backward_fast_cpu(float* grad_x, float* grad_weight, float* grad_bias,
                              const float* grad_y, const float* x, const float* weight,
                              Conv2dDims d) {
    const Plan p = make_plan(d);
    if (grad_bias) {
#pragma omp parallel for if (parallel_worth_it(d.n * d.o * p.ohw)) schedule(static)
        for (int64_t o = 0; o < d.o; ++o) {
            double acc = 0.0;
            for (int64_t n = 0; n < d.n; ++n) {
                const float* dyp = grad_y + (n * d.o + o) * p.ohw;
                for (int64_t q = 0; q < p.ohw; ++q) acc += dyp[q];
            }
            grad_bias[o] = static_cast<float>(acc);
        }
    }
    if (!grad_x && !grad_weight) return;

    // Slots: contiguous runs of chunks, each with its own dweight^T partial, laid out [g][Kg][Og].
    // Without dweight every chunk is its own slot.
    const int64_t wsize = d.o * p.ckk;
    int64_t slots = p.chunks;
    if (grad_weight) {
        slots = std::min(slots, kMaxWeightSlots);
        while (slots > 1 && slots * wsize > kMaxSlotFloats) --slots;
    }
    std::vector<float> partial(grad_weight ? static_cast<size_t>(slots * wsize) : 0);

    for_each_item(slots, p, d, [&](int64_t s, float* row, float* ybuf) {
        float* gwt = grad_weight ? partial.data() + s * wsize : nullptr;
        const int64_t k0 = s * p.chunks / slots, k1 = (s + 1) * p.chunks / slots;
        for (int64_t k = k0; k < k1; ++k) {
            const int64_t n0 = k * p.nb, cnt = std::min(p.nb, d.n - n0), cols = cnt * p.ohw;
            const float* xs = x + n0 * d.c * p.hw;
            // dy of the chunk as (O, P).
            const float* dyc = grad_y + n0 * d.o * p.ohw;
            if (p.nb > 1) {
                for (int64_t i = 0; i < cnt; ++i)
                    for (int64_t o = 0; o < d.o; ++o)
                        std::memcpy(ybuf + o * cols + i * p.ohw, dyc + (i * d.o + o) * p.ohw,
                                    sizeof(float) * p.ohw);
                dyc = ybuf;
            }
            if (gwt) {  // dweight_g^T (Kg, Og) (+)= row_g^T (Kg, P) @ dy_g^T (P, Og)
                im2row(row, xs, cnt, d, p);
                for (int64_t g = 0; g < d.groups; ++g) {
                    gemm_fast_cpu(gwt + g * p.ckk * p.og, row + g * cols * p.ckk,
                                  dyc + g * p.og * cols, GemmDims{1, p.ckk, p.og, cols, true, true},
                                  1.f, k == k0 ? 0.f : 1.f);
                }
            }
            if (!grad_x) continue;
            // dcol_g (Kg, P) = weight_g^T (Kg, Og) @ dy_g (Og, P), into the now free buffer and
            // then col2im; a direct conv's dcol is dx itself.
            float* gxs = grad_x + n0 * d.c * p.hw;
            float* dcol = p.direct ? gxs : row;
            for (int64_t g = 0; g < d.groups; ++g) {
                gemm_fast_cpu(dcol + g * p.ckk * cols, weight + g * p.og * p.ckk,
                              dyc + g * p.og * cols, GemmDims{1, p.ckk, cols, p.og, true, false});
            }
            if (!p.direct) col2im(gxs, dcol, cnt, d);
        }
    });

    // grad_weight[g][o][k] = sum over slots, in slot order, of partial[s][g][k][o].
    if (grad_weight) {
#pragma omp parallel for if (parallel_worth_it(slots * wsize)) schedule(static)
        for (int64_t e = 0; e < wsize; ++e) {
            const int64_t g = e / (p.og * p.ckk), o = (e / p.ckk) % p.og, kk = e % p.ckk;
            const int64_t t = (g * p.ckk + kk) * p.og + o;
            float acc = partial[t];
            for (int64_t s = 1; s < slots; ++s) acc += partial[s * wsize + t];
            grad_weight[e] = acc;
        }
    }
}

}  // namespace obl::kernels
