// CUDA SGD and Adam/AdamW updates (kernels/optim.h): one thread per parameter element, float
// math. The bias corrections are folded on the host, in double, into step_size = lr / (1 - b1^t)
// and bc2_sqrt = sqrt(1 - b2^t), as PyTorch's single-tensor path does.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#include "kernels/common/cuda_utils.cuh"
#include "kernels/optim.h"

namespace obl::kernels {

namespace {

constexpr int kBlock = 256;          // streaming elementwise kernels: latency hiding, nothing more
constexpr int64_t kMaxGrid = 65535;  // larger tensors grid-stride

int grid_for(int64_t n) {
    return static_cast<int>(std::min<int64_t>(ceil_div(n, kBlock), kMaxGrid));
}

// One thread per element, grid-stride. Reads param, grad (+ buf): 8 (12) bytes; writes param
// (+ buf): 4 (8) bytes per element.
__global__ void sgd_kernel(float* param, float* buf, const float* grad, int64_t n, float lr,
                           float momentum, float dampening, float weight_decay, bool nesterov,
                           bool first_step) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        float g = grad[i] + weight_decay * param[i];
        if (momentum != 0.f) {
            const float b = first_step ? g : momentum * buf[i] + (1.f - dampening) * g;
            buf[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        param[i] -= lr * g;
    }
}

// One thread per element, grid-stride. Reads param, grad, m, v (16 bytes); writes param, m, v
// (12 bytes) per element.
__global__ void adam_kernel(float* param, float* exp_avg, float* exp_avg_sq, const float* grad,
                            int64_t n, float lr, float beta1, float beta2, float eps,
                            float weight_decay, bool decoupled, float step_size,
                            float bias_correction2_sqrt) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        float w = param[i];
        float g = grad[i];
        if (decoupled) {
            w *= 1.f - lr * weight_decay;
        } else {
            g += weight_decay * w;
        }
        const float m = beta1 * exp_avg[i] + (1.f - beta1) * g;
        const float v = beta2 * exp_avg_sq[i] + (1.f - beta2) * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        param[i] = w - step_size * m / (sqrtf(v) / bias_correction2_sqrt + eps);
    }
}

}  // namespace

void sgd_step_cuda(float* param, float* momentum_buf, const float* grad, SgdParams p, Stream s) {
    OBL_CHECK(p.momentum == 0 || momentum_buf != nullptr, "sgd_step: momentum ", p.momentum,
              " needs a momentum buffer");
    if (p.n == 0) return;
    sgd_kernel<<<grid_for(p.n), kBlock, 0, s->stream>>>(
        param, momentum_buf, grad, p.n, static_cast<float>(p.lr), static_cast<float>(p.momentum),
        static_cast<float>(p.dampening), static_cast<float>(p.weight_decay), p.nesterov,
        p.first_step);
    OBL_LAUNCH_CHECK(s->stream);
}

void adam_step_cuda(float* param, float* exp_avg, float* exp_avg_sq, const float* grad,
                    AdamParams p, Stream s) {
    OBL_CHECK(p.step >= 1, "adam_step: step must be >= 1, got ", p.step);
    if (p.n == 0) return;
    const double step_size = p.lr / (1 - std::pow(p.beta1, static_cast<double>(p.step)));
    const double bc2_sqrt = std::sqrt(1 - std::pow(p.beta2, static_cast<double>(p.step)));
    adam_kernel<<<grid_for(p.n), kBlock, 0, s->stream>>>(
        param, exp_avg, exp_avg_sq, grad, p.n, static_cast<float>(p.lr),
        static_cast<float>(p.beta1), static_cast<float>(p.beta2), static_cast<float>(p.eps),
        static_cast<float>(p.weight_decay), p.decoupled, static_cast<float>(step_size),
        static_cast<float>(bc2_sqrt));
    OBL_LAUNCH_CHECK(s->stream);
}

}  // namespace obl::kernels
