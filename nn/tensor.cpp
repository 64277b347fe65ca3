// Tensor factories, views, copies and transfers.
#include "nn/tensor.h"

#include <cstring>
#include <sstream>

#include "kernels/common/memory.h"
#include "nn/autograd.h"
#include "nn/cuda_context.h"

#if OBL_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/common/cuda_check.h"
#include "kernels/common/cuda_handles.h"
#endif

namespace obl {

namespace {

std::shared_ptr<TensorImpl> make_impl(const Shape& shape, DType dtype, Device device) {
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->dtype = dtype;
    impl->storage = std::make_shared<Storage>(shape.numel() * dtype_size(dtype), device);
    return impl;
}

// Copies nbytes between any two devices; waits for the copy when the host is involved.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
    if (nbytes == 0) return;
    if (dst_dev.is_cpu() && src_dev.is_cpu()) {
        std::memcpy(dst, src, nbytes);
        return;
    }
#if OBL_WITH_CUDA
    cudaStream_t s = cuda_context().stream()->stream;
    cudaMemcpyKind kind = dst_dev.is_cpu()   ? cudaMemcpyDeviceToHost
                          : src_dev.is_cpu() ? cudaMemcpyHostToDevice
                                             : cudaMemcpyDeviceToDevice;
    OBL_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, kind, s));
    if (kind != cudaMemcpyDeviceToDevice) OBL_CUDA_CHECK(cudaStreamSynchronize(s));
#else
    OBL_THROW("built without CUDA: cannot copy between ", src_dev, " and ", dst_dev);
#endif
}

}  // namespace

const TensorImpl& Tensor::checked() const {
    OBL_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
}

std::string Tensor::describe() const {
    if (!defined()) return "undefined tensor";
    std::ostringstream os;
    os << dtype_name(dtype()) << shape() << " on " << device();
    return os.str();
}

void* Tensor::raw() const {
    const TensorImpl& i = checked();
    return static_cast<char*>(i.storage ? i.storage->data : nullptr) + i.offset;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
    return Tensor(make_impl(shape, dtype, device));
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
    Tensor t = empty(shape, dtype, device);
    t.fill_(value);
    return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
    return full(shape, 0.0, dtype, device);
}
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
    return full(shape, 1.0, dtype, device);
}
Tensor Tensor::scalar(double value, DType dtype, Device device) {
    return full(Shape{}, value, dtype, device);
}

void Tensor::fill_(double value) {
    if (numel() == 0) return;
    if (device().is_cpu()) {
        kernels::fill_cpu(raw(), dtype_code(dtype()), numel(), value);
    } else {
        OBL_CUDA_ONLY(kernels::fill_cuda(raw(), dtype_code(dtype()), numel(), value,
                                         cuda_context().stream()));
    }
}

void Tensor::copy_(const Tensor& src) {
    OBL_CHECK(src.shape() == shape() && src.dtype() == dtype(), "copy_: destination ", describe(),
              " and source ", src.describe(), " differ in shape or dtype");
    copy_bytes(raw(), device(), src.raw(), src.device(), nbytes());
}

Tensor Tensor::reshape(const Shape& new_shape) const {
    OBL_CHECK(new_shape.numel() == numel(), "reshape: cannot view ", describe(), " as ", new_shape,
              " (", numel(), " vs ", new_shape.numel(), " elements)");
    auto v = std::make_shared<TensorImpl>(checked());
    v->shape = new_shape;
    v->requires_grad = false;
    v->grad.reset();
    v->grad_fn.reset();
    const Shape old_shape = shape();
    return record("reshape", Tensor(v), {*this},
                  [old_shape](const Tensor& dy) -> std::vector<Tensor> {
                      return {dy.reshape(old_shape)};
                  });
}

Tensor Tensor::flatten(int start_dim) const {
    const Shape& s = shape();
    if (s.size() == 0) return reshape(Shape{1});
    int a = s.axis(start_dim);
    Shape out;
    for (int i = 0; i < a; ++i) out.push_back(s[i]);
    out.push_back(s.prod(a, s.size()));
    return reshape(out);
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
    OBL_CHECK(dim() >= 1, "slice0 needs at least one dim, got ", describe());
    const int64_t n = shape()[0];
    OBL_CHECK(0 <= begin && begin <= end && end <= n, "slice0: rows [", begin, ", ", end,
              ") out of range for ", describe());
    auto v = std::make_shared<TensorImpl>(checked());
    v->shape[0] = end - begin;
    v->offset += static_cast<size_t>(begin * shape().prod(1, dim())) * dtype_size(dtype());
    v->requires_grad = false;
    v->grad.reset();
    v->grad_fn.reset();
    const Shape full_shape = shape();
    const DType dt = dtype();
    const Device dev = device();
    return record("slice0", Tensor(v), {*this},
                  [full_shape, dt, dev, begin, end](const Tensor& dy) -> std::vector<Tensor> {
                      Tensor dx = Tensor::zeros(full_shape, dt, dev);
                      dx.slice0(begin, end).copy_(dy);
                      return {dx};
                  });
}

Tensor Tensor::clone() const {
    Tensor out = empty(shape(), dtype(), device());
    out.copy_(*this);
    return record("clone", out, {*this},
                  [](const Tensor& dy) -> std::vector<Tensor> { return {dy}; });
}

Tensor Tensor::to(Device target) const {
    if (target == device()) return *this;
    Tensor out = empty(shape(), dtype(), target);
    copy_bytes(out.raw(), target, raw(), device(), nbytes());
    const Device source = device();
    return record("to_device", out, {*this},
                  [source](const Tensor& dy) -> std::vector<Tensor> { return {dy.to(source)}; });
}

Tensor Tensor::to(DType target) const {
    if (target == dtype()) return *this;
    Tensor out = empty(shape(), target, device());
    if (device().is_cpu()) {
        kernels::cast_cpu(out.raw(), dtype_code(target), raw(), dtype_code(dtype()), numel());
    } else {
        OBL_CUDA_ONLY(kernels::cast_cuda(out.raw(), dtype_code(target), raw(), dtype_code(dtype()),
                                         numel(), cuda_context().stream()));
    }
    if (!is_floating(target) || !is_floating(dtype())) return out;  // no gradient through ints
    const DType source = dtype();
    return record("cast", out, {*this},
                  [source](const Tensor& dy) -> std::vector<Tensor> { return {dy.to(source)}; });
}

double Tensor::item() const {
    OBL_CHECK(numel() == 1, "item() needs a single-element tensor, got ", describe());
    return to_vector<double>()[0];
}

Tensor& Tensor::set_requires_grad(bool r) {
    OBL_CHECK(defined(), "set_requires_grad on an undefined tensor");
    OBL_CHECK(!r || is_floating(dtype()), "only floating tensors can require grad, got ",
              describe());
    OBL_CHECK(is_leaf(), "set_requires_grad is for leaves; use detach() on ", describe());
    impl_->requires_grad = r;
    return *this;
}

Tensor Tensor::grad() const { return Tensor(checked().grad); }

void Tensor::set_grad(const Tensor& g) {
    OBL_CHECK(defined(), "set_grad on an undefined tensor");
    OBL_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient ", g.describe(),
              " does not match ", describe());
    impl_->grad = g.impl_ptr();
}

void Tensor::zero_grad() {
    if (impl_) impl_->grad.reset();
}

Tensor Tensor::detach() const {
    auto v = std::make_shared<TensorImpl>(checked());
    v->requires_grad = false;
    v->grad.reset();
    v->grad_fn.reset();
    return Tensor(v);
}

void check_defined(const Tensor& t, const char* op, const char* arg) {
    OBL_CHECK(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
    OBL_CHECK(a.device() == b.device(), op, ": tensors on different devices: ", a.describe(),
              " and ", b.describe());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
    OBL_CHECK(a.shape() == b.shape(), op, ": shape mismatch ", a.shape(), " vs ", b.shape(),
              " (broadcasting is explicit: use broadcast_to)");
}

void check_dtype(const Tensor& t, DType want, const char* op, const char* arg) {
    OBL_CHECK(t.dtype() == want, op, ": '", arg, "' must be ", dtype_name(want), ", got ",
              t.describe());
}

void check_floating(const Tensor& t, const char* op, const char* arg) {
    OBL_CHECK(is_floating(t.dtype()), op, ": '", arg, "' must be f32 or f64, got ", t.describe());
}

}  // namespace obl
