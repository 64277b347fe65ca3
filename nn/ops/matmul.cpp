// matmul / bmm / linear (kernels/gemm.h): check -> allocate -> dispatch (f64 CPU: reference; f32
// CPU: fast packed GEMM unless ReferenceCpuGuard; CUDA: cuBLAS) -> record.
//
// Backward of C = op(A) op(B) with G = dL/dC:
//   d op(A) = G op(B)^T,   d op(B) = op(A)^T G;
// a transposed operand receives the transpose of that, and every case is one more GEMM with
// transpose flags (no transpose copies). linear's bias is added by a rank-1 GEMM (ones x b) that
// the main GEMM accumulates onto (beta = 1); its gradient is G^T ones, a GEMM with N = 1.
#include "nn/ops/matmul.h"

#include "kernels/gemm.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"
#include "nn/dispatch.h"

namespace obl {

namespace {

using kernels::GemmDims;

// c = op(a) op(b) + beta * c on the operands' device, no autograd. beta is 0 or 1.
void run_gemm(const Tensor& c, const Tensor& a, const Tensor& b, GemmDims d, double beta) {
    switch (c.device().type) {
        case DeviceType::CPU:
            if (c.dtype() == DType::F64) {
                kernels::gemm_cpu<double>(c.f64(), a.f64(), b.f64(), d, 1.0, beta);
            } else if (use_fast_cpu()) {
                kernels::gemm_fast_cpu(c.f32(), a.f32(), b.f32(), d, 1.f, static_cast<float>(beta));
            } else {
                kernels::gemm_cpu<float>(c.f32(), a.f32(), b.f32(), d, 1.f,
                                         static_cast<float>(beta));
            }
            break;
        case DeviceType::CUDA:
            OBL_CUDA_ONLY(kernels::gemm_cuda(c.f32(), a.f32(), b.f32(), d, 1.f,
                                             static_cast<float>(beta), cuda_context().stream()));
            break;
    }
}

// Fresh tensor `shape` holding op(a) op(b) for the dims d (operands already checked).
Tensor product(const Tensor& a, const Tensor& b, GemmDims d, const Shape& shape) {
    Tensor c = Tensor::empty(shape, a.dtype(), a.device());
    run_gemm(c, a, b, d, 0.0);
    return c;
}

void check_operands(const Tensor& a, const Tensor& b, const char* op, const char* a_name = "a",
                    const char* b_name = "b") {
    check_defined(a, op, a_name);
    check_defined(b, op, b_name);
    check_floating(a, op, a_name);
    OBL_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", a_name, " ", a.describe(), " vs ",
              b_name, " ", b.describe());
    check_same_device(a, b, op);
    if (a.device().is_cuda()) check_dtype(a, DType::F32, op, a_name);
}

// Gradients of C = op(A) op(B) (one batch of `d`) for the inputs that need them.
std::vector<Tensor> product_backward(const Tensor& g, const Tensor& a, const Tensor& b, GemmDims d,
                                     bool need_a, bool need_b) {
    Tensor da, db;
    if (need_a) {
        GemmDims e = d;  // dA = G op(B)^T, or dA = op(B) G^T when A is stored transposed
        if (!d.trans_a) {
            e.m = d.m, e.n = d.k, e.k = d.n, e.trans_a = false, e.trans_b = !d.trans_b;
            da = product(g, b, e, a.shape());
        } else {
            e.m = d.k, e.n = d.m, e.k = d.n, e.trans_a = d.trans_b, e.trans_b = true;
            da = product(b, g, e, a.shape());
        }
    }
    if (need_b) {
        GemmDims e = d;  // dB = op(A)^T G, or dB = G^T op(A) when B is stored transposed
        if (!d.trans_b) {
            e.m = d.k, e.n = d.n, e.k = d.m, e.trans_a = !d.trans_a, e.trans_b = false;
            db = product(a, g, e, b.shape());
        } else {
            e.m = d.n, e.n = d.k, e.k = d.m, e.trans_a = true, e.trans_b = d.trans_a;
            db = product(g, a, e, b.shape());
        }
    }
    return {da, db};
}

// Shared by matmul (batch 1, 2-D) and bmm (3-D): dims from the shapes and flags.
Tensor batched_product(const char* op, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
                       bool batched) {
    check_operands(a, b, op);
    const int rank = batched ? 3 : 2;
    OBL_CHECK(a.dim() == rank && b.dim() == rank, op, ": needs ", rank, "-D operands, got a ",
              a.shape(), " and b ", b.shape());
    const int r = batched ? 1 : 0;  // first matrix dim
    GemmDims d;
    d.batch = batched ? a.size(0) : 1;
    d.trans_a = trans_a;
    d.trans_b = trans_b;
    d.m = trans_a ? a.size(r + 1) : a.size(r);
    d.k = trans_a ? a.size(r) : a.size(r + 1);
    const int64_t kb = trans_b ? b.size(r + 1) : b.size(r);
    d.n = trans_b ? b.size(r) : b.size(r + 1);
    OBL_CHECK(!batched || b.size(0) == d.batch, op, ": batch sizes differ: a ", a.shape(), " vs b ",
              b.shape());
    OBL_CHECK(d.k == kb, op, ": inner dims differ: a ", a.shape(), (trans_a ? " (transposed)" : ""),
              " vs b ", b.shape(), (trans_b ? " (transposed)" : ""), ": ", d.k, " vs ", kb);
    const Shape shape = batched ? Shape{d.batch, d.m, d.n} : Shape{d.m, d.n};
    Tensor c = product(a, b, d, shape);
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    return record(op, c, {a, b},
                  [ad = a.detach(), bd = b.detach(), d, need_a, need_b](const Tensor& g) {
                      return product_backward(g, ad, bd, d, need_a, need_b);
                  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
    return batched_product("matmul", a, b, trans_a, trans_b, false);
}

Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
    return batched_product("bmm", a, b, trans_a, trans_b, true);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    check_operands(x, weight, "linear", "x", "weight");
    OBL_CHECK(x.dim() >= 1 && weight.dim() == 2,
              "linear: needs x (..., in) and weight (out, in), got x ", x.shape(), " and weight ",
              weight.shape());
    const int64_t in = x.shape().back(), out = weight.size(0);
    OBL_CHECK(weight.size(1) == in, "linear: x ", x.shape(), " has ", in,
              " input features but weight ", weight.shape(), " expects ", weight.size(1));
    if (bias.defined()) {
        OBL_CHECK(bias.dtype() == x.dtype(), "linear: dtypes differ: x ", x.describe(), " vs bias ",
                  bias.describe());
        check_same_device(x, bias, "linear");
        OBL_CHECK(bias.dim() == 1 && bias.size(0) == out, "linear: bias ", bias.shape(),
                  " does not match weight ", weight.shape(), " (want [", out, "])");
    }
    const int64_t rows = x.shape().prod(0, x.dim() - 1);
    Shape shape = x.shape();
    shape[shape.size() - 1] = out;

    // y2 (rows, out) = x2 (rows, in) W^T (+ ones (rows, 1) b (1, out), computed first).
    const Tensor x2 = x.detach().reshape({rows, in});
    Tensor y = Tensor::empty(shape, x.dtype(), x.device());
    const Tensor y2 = y.detach().reshape({rows, out});
    GemmDims d;
    d.m = rows, d.n = out, d.k = in, d.trans_b = true;
    if (bias.defined()) {
        GemmDims e;
        e.m = rows, e.n = out, e.k = 1;
        run_gemm(y2, Tensor::ones({rows, 1}, x.dtype(), x.device()), bias.detach(), e, 0.0);
    }
    run_gemm(y2, x2, weight.detach(), d, bias.defined() ? 1.0 : 0.0);

    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    return record(
        "linear", y, {x, weight, bias},
        [x2, wd = weight.detach(), d, rows, out, xs = x.shape(), need_x, need_w,
         need_b](const Tensor& g) -> std::vector<Tensor> {
            const Tensor g2 = g.reshape({rows, out});
            std::vector<Tensor> grads = product_backward(g2, x2, wd, d, need_x, need_w);
            Tensor dx = grads[0].defined() ? grads[0].reshape(xs) : Tensor();
            Tensor db;
            if (need_b) {  // db (out, 1) = G^T (out, rows) ones (rows, 1)
                GemmDims e;
                e.m = out, e.n = 1, e.k = rows, e.trans_a = true;
                db = product(g2, Tensor::ones({rows, 1}, g.dtype(), g.device()), e, Shape{out});
            }
            return {dx, grads[1], db};
        });
}

}  // namespace obl
