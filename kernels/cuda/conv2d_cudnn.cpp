// CUDA conv2d through cuDNN (formulas in kernels/conv2d.h): cudnnConvolutionForward /
// BackwardData / BackwardFilter / BackwardBias on NCHW f32 tensors. Compiled only when the build
// has cuDNN (OBL_WITH_CUDNN); otherwise kernels/cuda/conv2d.cu provides the same two entry points
// with hand-written im2col/col2im kernels, so exactly one definition exists per build.
//
// Precision: the convolution descriptor is set to CUDNN_FMA_MATH, which forbids tensor-core
// (TF32) math for f32 (DESIGN.md §M.8); heuristic entries that ask for tensor-op math are skipped.
// Algorithm: cudnnGetConvolution*Algorithm_v7 ranks the algorithms for these shapes; we take the
// first one that reports success and fits kMaxWorkspaceBytes, and fall through to the next if the
// call itself answers CUDNN_STATUS_NOT_SUPPORTED. Nothing is cached (no global state, §M.7): the
// heuristic query costs microseconds next to a convolution. Workspace comes from the context's
// stream-ordered scratch buffer (s->workspace).
#include "kernels/conv2d.h"

#if OBL_WITH_CUDNN

#include <limits>
#include <vector>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"

namespace obl::kernels {

namespace {

constexpr size_t kMaxWorkspaceBytes = size_t(1) << 30;  // 1 GiB: never the limiting factor on H200

int as_int(int64_t v, const char* what) {
    OBL_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "conv2d (cuDNN): ", what, " = ", v,
              " does not fit cuDNN's int");
    return static_cast<int>(v);
}

// RAII descriptors for one call: x, y (and dx, dy share them), weight, bias, convolution.
struct Descriptors {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
    cudnnFilterDescriptor_t weight = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;

    explicit Descriptors(const Conv2dDims& d) {
        OBL_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
        OBL_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
        OBL_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias));
        OBL_CUDNN_CHECK(cudnnCreateFilterDescriptor(&weight));
        OBL_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
        OBL_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                   as_int(d.n, "N"), as_int(d.c, "C"),
                                                   as_int(d.h, "H"), as_int(d.w, "W")));
        OBL_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                   as_int(d.n, "N"), as_int(d.o, "O"),
                                                   as_int(d.oh, "OH"), as_int(d.ow, "OW")));
        OBL_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                                   as_int(d.o, "O"), 1, 1));
        OBL_CUDNN_CHECK(cudnnSetFilter4dDescriptor(weight, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                   as_int(d.o, "O"), as_int(d.c / d.groups, "Cg"),
                                                   as_int(d.kh, "KH"), as_int(d.kw, "KW")));
        OBL_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
            conv, as_int(d.pad_h, "pad_h"), as_int(d.pad_w, "pad_w"),
            as_int(d.stride_h, "stride_h"), as_int(d.stride_w, "stride_w"),
            as_int(d.dilation_h, "dilation_h"), as_int(d.dilation_w, "dilation_w"),
            CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        OBL_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, as_int(d.groups, "groups")));
        OBL_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH));
    }
    ~Descriptors() {  // noexcept: destroy only, never throw
        if (conv) cudnnDestroyConvolutionDescriptor(conv);
        if (weight) cudnnDestroyFilterDescriptor(weight);
        if (bias) cudnnDestroyTensorDescriptor(bias);
        if (y) cudnnDestroyTensorDescriptor(y);
        if (x) cudnnDestroyTensorDescriptor(x);
    }
    Descriptors(const Descriptors&) = delete;
    Descriptors& operator=(const Descriptors&) = delete;
};

// Runs `attempt(algo, workspace, bytes)` for the heuristic's candidates in rank order until one
// does not answer NOT_SUPPORTED. Perf is one of cuDNN's *AlgoPerf_t structs.
template <class Perf, class Attempt>
void run_ranked(const std::vector<Perf>& perf, int returned, Stream s, const char* what,
                Attempt&& attempt) {
    for (int i = 0; i < returned; ++i) {
        const Perf& p = perf[static_cast<size_t>(i)];
        if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspaceBytes) continue;
        if (p.mathType == CUDNN_TENSOR_OP_MATH ||
            p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
            continue;  // tensor cores would mean TF32 for f32
        void* ws = p.memory > 0 ? s->workspace(p.memory) : nullptr;
        const cudnnStatus_t st = attempt(p.algo, ws, p.memory);
        if (st == CUDNN_STATUS_NOT_SUPPORTED) continue;
        OBL_CUDNN_CHECK(st);
        return;
    }
    OBL_THROW("conv2d (cuDNN): no FMA-math ", what, " algorithm fits these shapes");
}

}  // namespace

// y = conv(x, weight) by the ranked algorithms, then y += bias broadcast over (N, ., OH, OW).
void conv2d_forward_cuda(float* y, const float* x, const float* weight, const float* bias,
                         Conv2dDims d, Stream s) {
    OBL_CHECK(d.c % d.groups == 0 && d.o % d.groups == 0, "conv2d_forward_cuda: groups ", d.groups,
              " must divide C = ", d.c, " and O = ", d.o);
    if (d.n == 0 || d.o == 0) return;
    Descriptors desc(d);
    cudnnHandle_t h = s->cudnn;
    const float one = 1.f, zero = 0.f;
    int max_count = 0, returned = 0;
    OBL_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max_count));
    OBL_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
        h, desc.x, desc.weight, desc.conv, desc.y, max_count, &returned, perf.data()));
    run_ranked(perf, returned, s, "forward",
               [&](cudnnConvolutionFwdAlgo_t algo, void* ws, size_t bytes) {
                   return cudnnConvolutionForward(h, &one, desc.x, x, desc.weight, weight,
                                                  desc.conv, algo, ws, bytes, &zero, desc.y, y);
               });
    if (bias) OBL_CUDNN_CHECK(cudnnAddTensor(h, &one, desc.bias, bias, &one, desc.y, y));
}

// dbias, dx (backward data) and dweight (backward filter), each only when its pointer is set;
// all written with beta = 0.
void conv2d_backward_cuda(float* grad_x, float* grad_weight, float* grad_bias, const float* grad_y,
                          const float* x, const float* weight, Conv2dDims d, Stream s) {
    OBL_CHECK(d.c % d.groups == 0 && d.o % d.groups == 0, "conv2d_backward_cuda: groups ", d.groups,
              " must divide C = ", d.c, " and O = ", d.o);
    if (d.n == 0 || d.o == 0) return;
    Descriptors desc(d);
    cudnnHandle_t h = s->cudnn;
    const float one = 1.f, zero = 0.f;
    if (grad_bias) {
        OBL_CUDNN_CHECK(
            cudnnConvolutionBackwardBias(h, &one, desc.y, grad_y, &zero, desc.bias, grad_bias));
    }
    if (grad_x) {
        int max_count = 0, returned = 0;
        OBL_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
        std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max_count));
        OBL_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
            h, desc.weight, desc.y, desc.conv, desc.x, max_count, &returned, perf.data()));
        run_ranked(perf, returned, s, "backward-data",
                   [&](cudnnConvolutionBwdDataAlgo_t algo, void* ws, size_t bytes) {
                       return cudnnConvolutionBackwardData(h, &one, desc.weight, weight, desc.y,
                                                           grad_y, desc.conv, algo, ws, bytes,
                                                           &zero, desc.x, grad_x);
                   });
    }
    if (grad_weight) {
        int max_count = 0, returned = 0;
        OBL_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
        std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max_count));
        OBL_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
            h, desc.x, desc.y, desc.conv, desc.weight, max_count, &returned, perf.data()));
        run_ranked(perf, returned, s, "backward-filter",
                   [&](cudnnConvolutionBwdFilterAlgo_t algo, void* ws, size_t bytes) {
                       return cudnnConvolutionBackwardFilter(h, &one, desc.x, x, desc.y, grad_y,
                                                             desc.conv, algo, ws, bytes, &zero,
                                                             desc.weight, grad_weight);
                   });
    }
}

}  // namespace obl::kernels

#endif  // OBL_WITH_CUDNN
