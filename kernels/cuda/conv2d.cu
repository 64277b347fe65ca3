// CUDA conv2d without cuDNN (formulas in kernels/conv2d.h): hand-written im2col / col2im kernels
// around kernels::gemm_cuda (cuBLAS, pedantic FP32). Compiled only when the build has no cuDNN;
// with cuDNN, kernels/cuda/conv2d_cudnn.cpp defines the same entry points. The CPU fast path
// (kernels/cpu/fast/conv2d.cpp) uses the same chunked layout.
//
// The batch is processed in chunks of nb images sized so that the scratch fits kMaxScratchFloats:
//   col  (C KH KW, nb OH OW)   receptive fields, column i OH OW + p for image i of the chunk
//   ybuf (O, nb OH OW)         the GEMM result (forward) or the chunk's dy (backward)
// Forward per chunk:  im2col -> per group ybuf_g = weight_g @ col_g -> scatter to NCHW + bias.
// Backward per chunk: gather dy -> im2col -> dweight_g (+)= dy_g @ col_g^T (beta = 1 after the
// first chunk) -> col_g = weight_g^T @ dy_g -> col2im (gather form: each input pixel sums its
// taps, so no atomics and the result is deterministic). dbias: one block per output channel.
#include "kernels/conv2d.h"

#if !OBL_WITH_CUDNN

#include <algorithm>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/gemm.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;                               // streaming kernels: 8 warps per block
constexpr int kReduceBlock = 512;                         // dbias: one block per channel
constexpr int64_t kMaxScratchFloats = int64_t(64) << 20;  // 256 MB of col + ybuf

int grid_for(int64_t n) {
    return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), 1 << 20));
}

// One thread per col element (grid-stride): reads at most C KH KW cnt OH OW floats of x (cached
// re-reads of the same pixel by neighbouring taps), writes as many floats of col, coalesced.
__global__ void im2col_kernel(float* col, const float* x, Conv2dDims d, int64_t cnt) {
    const int64_t ohw = d.oh * d.ow, cols = cnt * ohw, total = d.c * d.kh * d.kw * cols;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = q / cols, cidx = q % cols;
        const int64_t i = cidx / ohw, p = cidx % ohw, oi = p / d.ow, oj = p % d.ow;
        // Row = (c, a, b) tap, column = (image i, output pixel p).
        const int64_t b = row % d.kw, a = (row / d.kw) % d.kh, c = row / (d.kw * d.kh);
        const int64_t r = oi * d.stride_h - d.pad_h + a * d.dilation_h;
        const int64_t s = oj * d.stride_w - d.pad_w + b * d.dilation_w;
        col[q] =
            (r >= 0 && r < d.h && s >= 0 && s < d.w) ? x[((i * d.c + c) * d.h + r) * d.w + s] : 0.f;
    }
}

// One thread per input pixel of the chunk (grid-stride): gathers its <= KH KW taps from dcol and
// writes dx once. Reads C KH KW cnt OH OW floats of dcol at most, writes cnt C H W floats.
__global__ void col2im_kernel(float* dx, const float* dcol, Conv2dDims d, int64_t cnt) {
    const int64_t hw = d.h * d.w, ohw = d.oh * d.ow, cols = cnt * ohw, total = cnt * d.c * hw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t s = q % d.w, r = (q / d.w) % d.h, c = (q / hw) % d.c, i = q / (d.c * hw);
        // Tap (a, b) read this pixel for output (oi, oj) iff oi sh - ph + a dh = r (and the
        // same along W), i.e. when r + ph - a dh is a non-negative multiple of sh below OH sh.
        float acc = 0.f;
        for (int64_t a = 0; a < d.kh; ++a) {
            const int64_t num_h = r + d.pad_h - a * d.dilation_h;
            if (num_h < 0 || num_h % d.stride_h != 0 || num_h / d.stride_h >= d.oh) continue;
            const int64_t oi = num_h / d.stride_h;
            for (int64_t b = 0; b < d.kw; ++b) {
                const int64_t num_w = s + d.pad_w - b * d.dilation_w;
                if (num_w < 0 || num_w % d.stride_w != 0 || num_w / d.stride_w >= d.ow) continue;
                const int64_t oj = num_w / d.stride_w;
                acc += dcol[((c * d.kh + a) * d.kw + b) * cols + i * ohw + oi * d.ow + oj];
            }
        }
        dx[q] = acc;
    }
}

// (O, cnt OH OW) -> (cnt, O, OH OW) plus bias: one thread per output element; reads and writes
// cnt O OH OW floats.
__global__ void scatter_bias_kernel(float* y, const float* ybuf, const float* bias, int64_t o,
                                    int64_t ohw, int64_t cnt) {
    const int64_t total = cnt * o * ohw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t p = q % ohw, ch = (q / ohw) % o, i = q / (o * ohw);
        y[q] = ybuf[ch * cnt * ohw + i * ohw + p] + (bias ? bias[ch] : 0.f);
    }
}

// (cnt, O, OH OW) -> (O, cnt OH OW): the chunk's dy as GEMM operand; reads/writes cnt O OH OW.
__global__ void gather_dy_kernel(float* ybuf, const float* dy, int64_t o, int64_t ohw,
                                 int64_t cnt) {
    const int64_t total = cnt * o * ohw;
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < total;
         q += int64_t(gridDim.x) * blockDim.x) {
        const int64_t p = q % ohw, ch = (q / ohw) % o, i = q / (o * ohw);
        ybuf[ch * cnt * ohw + i * ohw + p] = dy[q];
    }
}

// dbias[o] = sum_{n, p} dy[n, o, p]: one block per channel, block reduction; reads N O OH OW.
__global__ void bias_grad_kernel(float* grad_bias, const float* dy, int64_t n, int64_t o,
                                 int64_t ohw) {
    __shared__ float shared[kReduceBlock / kWarpSize];
    const int64_t ch = blockIdx.x, m = n * ohw;
    float acc = 0.f;
    for (int64_t k = threadIdx.x; k < m; k += blockDim.x)
        acc += dy[((k / ohw) * o + ch) * ohw + k % ohw];
    acc = block_reduce_sum(acc, shared);
    if (threadIdx.x == 0) grad_bias[ch] = acc;
}

struct Chunking {
    int64_t nb, col_floats, ybuf_floats;
};

// Images per chunk: as many as fit kMaxScratchFloats of col + ybuf (at least one).
Chunking chunking(const Conv2dDims& d) {
    const int64_t ohw = d.oh * d.ow, per_image = (d.c * d.kh * d.kw + d.o) * ohw;
    Chunking ch{};
    ch.nb =
        std::max<int64_t>(1, std::min(d.n, kMaxScratchFloats / std::max<int64_t>(1, per_image)));
    ch.col_floats = d.c * d.kh * d.kw * ch.nb * ohw;
    ch.ybuf_floats = d.o * ch.nb * ohw;
    return ch;
}

}  // namespace

void conv2d_forward_cuda(float* y, const float* x, const float* weight, const float* bias,
                         Conv2dDims d, Stream s) {
    OBL_CHECK(d.c % d.groups == 0 && d.o % d.groups == 0, "conv2d_forward_cuda: groups ", d.groups,
              " must divide C = ", d.c, " and O = ", d.o);
    if (d.n == 0 || d.o == 0 || d.oh * d.ow == 0) return;
    const int64_t cg = d.c / d.groups, og = d.o / d.groups, ckk = cg * d.kh * d.kw;
    const int64_t ohw = d.oh * d.ow;
    const Chunking ch = chunking(d);
    float* col = static_cast<float*>(
        s->workspace(sizeof(float) * static_cast<size_t>(ch.col_floats + ch.ybuf_floats)));
    float* ybuf = col + ch.col_floats;
    // Chunks run in stream order and reuse the same scratch.
    for (int64_t n0 = 0; n0 < d.n; n0 += ch.nb) {
        const int64_t cnt = std::min(ch.nb, d.n - n0), cols = cnt * ohw;
        im2col_kernel<<<grid_for(d.c * d.kh * d.kw * cols), kBlock, 0, s->stream>>>(
            col, x + n0 * d.c * d.h * d.w, d, cnt);
        OBL_LAUNCH_CHECK(s->stream);
        // Group g: rows [g Og, (g + 1) Og) of ybuf, [g Kg, (g + 1) Kg) of col; weight_g is the
        // contiguous (Og, Kg) block g.
        for (int64_t g = 0; g < d.groups; ++g) {
            gemm_cuda(ybuf + g * og * cols, weight + g * og * ckk, col + g * ckk * cols,
                      GemmDims{1, og, cols, ckk, false, false}, 1.f, 0.f, s);
        }
        scatter_bias_kernel<<<grid_for(cnt * d.o * ohw), kBlock, 0, s->stream>>>(
            y + n0 * d.o * ohw, ybuf, bias, d.o, ohw, cnt);
        OBL_LAUNCH_CHECK(s->stream);
    }
}

void conv2d_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias, const float* grad_y,
                          const float* x, const float* weight, Conv2dDims d, Stream s) {
    OBL_CHECK(d.c % d.groups == 0 && d.o % d.groups == 0, "conv2d_backward_cuda: groups ", d.groups,
              " must divide C = ", d.c, " and O = ", d.o);
    if (d.n == 0 || d.o == 0) return;
    const int64_t cg = d.c / d.groups, og = d.o / d.groups, ckk = cg * d.kh * d.kw;
    const int64_t ohw = d.oh * d.ow;
    if (grad_bias) {
        bias_grad_kernel<<<static_cast<unsigned>(d.o), kReduceBlock, 0, s->stream>>>(
            grad_bias, grad_y, d.n, d.o, ohw);
        OBL_LAUNCH_CHECK(s->stream);
    }
    if (!grad_x && !grad_weight) return;
    const Chunking ch = chunking(d);
    float* col = static_cast<float*>(
        s->workspace(sizeof(float) * static_cast<size_t>(ch.col_floats + ch.ybuf_floats)));
    float* ybuf = col + ch.col_floats;
    for (int64_t n0 = 0; n0 < d.n; n0 += ch.nb) {
        const int64_t cnt = std::min(ch.nb, d.n - n0), cols = cnt * ohw;
        gather_dy_kernel<<<grid_for(cnt * d.o * ohw), kBlock, 0, s->stream>>>(
            ybuf, grad_y + n0 * d.o * ohw, d.o, ohw, cnt);
        OBL_LAUNCH_CHECK(s->stream);
        if (grad_weight) {
            im2col_kernel<<<grid_for(d.c * d.kh * d.kw * cols), kBlock, 0, s->stream>>>(
                col, x + n0 * d.c * d.h * d.w, d, cnt);
            OBL_LAUNCH_CHECK(s->stream);
            for (int64_t g = 0; g < d.groups; ++g) {
                gemm_cuda(grad_weight + g * og * ckk, ybuf + g * og * cols, col + g * ckk * cols,
                          GemmDims{1, og, ckk, cols, false, true}, 1.f, n0 == 0 ? 0.f : 1.f, s);
            }
        }
        if (grad_x) {  // col now holds dcol (dweight has consumed the receptive fields)
            for (int64_t g = 0; g < d.groups; ++g) {
                gemm_cuda(col + g * ckk * cols, weight + g * og * ckk, ybuf + g * og * cols,
                          GemmDims{1, ckk, cols, og, true, false}, 1.f, 0.f, s);
            }
            col2im_kernel<<<grid_for(cnt * d.c * d.h * d.w), kBlock, 0, s->stream>>>(
                grad_x + n0 * d.c * d.h * d.w, col, d, cnt);
            OBL_LAUNCH_CHECK(s->stream);
        }
    }
}

}  // namespace obl::kernels

#endif  // !OBL_WITH_CUDNN
