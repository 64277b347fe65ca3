// Tensor: a handle to (storage, offset, shape, dtype) plus autograd state (DESIGN.md §B).
//
// Copying a Tensor ALIASES its data (like flashlight's and PyTorch's handles): `Tensor b = a;`
// shares storage and autograd identity. `clone()` deep-copies. Tensors are always contiguous in
// PyTorch (row-major) order; reshape() and slice0() are free views (a storage offset), while
// permute/transpose copy. to(Device), cpu() and item() are the only host<->device transfers and
// the only synchronisation points.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/device.h"
#include "nn/dtype.h"
#include "nn/shape.h"
#include "nn/storage.h"

namespace obl {

struct Node;
class Tensor;

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    size_t offset = 0;  // in bytes from storage->data
    Shape shape;
    DType dtype = DType::F32;
    bool requires_grad = false;
    std::shared_ptr<TensorImpl> grad;  // leaf gradient (accumulated by backward)
    std::shared_ptr<Node> grad_fn;     // the node that produced this tensor, if recorded
};

class Tensor {
   public:
    Tensor() = default;  // undefined (no data): used for "no gradient" and optional arguments
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ---- factories ------------------------------------------------------------------------
    static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
    static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
    static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
    static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                       Device device = Device::cpu());
    static Tensor scalar(double value, DType dtype = DType::F32, Device device = Device::cpu());
    // Copies host values; values.size() must equal shape.numel().
    template <class T>
    static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                              Device device = Device::cpu());

    // ---- metadata --------------------------------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const { return checked().shape; }
    int dim() const { return shape().size(); }
    int64_t size(int d) const { return shape()[shape().axis(d)]; }
    int64_t numel() const { return shape().numel(); }
    DType dtype() const { return checked().dtype; }
    Device device() const { return checked().storage ? checked().storage->device : Device::cpu(); }
    size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
    std::string describe() const;  // "f32[2, 3] on cpu" (for error messages)

    // ---- typed data access (checks dtype; device pointers for CUDA tensors) -------------
    template <class T>
    T* data() const;
    float* f32() const { return data<float>(); }
    double* f64() const { return data<double>(); }
    int32_t* i32() const { return data<int32_t>(); }
    int64_t* i64() const { return data<int64_t>(); }
    uint8_t* u8() const { return data<uint8_t>(); }
    void* raw() const;  // for kernels taking a dtype code; prefer the typed accessors

    // ---- views and copies --------------------------------------------------------------------
    Tensor reshape(const Shape& shape) const;   // view with the same numel
    Tensor flatten(int start_dim = 1) const;     // view: dims [start_dim, end) merged into one
    Tensor slice0(int64_t begin, int64_t end) const;  // view of rows [begin, end) of dim 0
    Tensor clone() const;                        // deep copy (differentiable)
    Tensor to(Device device) const;              // copy to a device (differentiable)
    Tensor to(DType dtype) const;                // cast (differentiable between f32 and f64)
    Tensor cpu() const { return to(Device::cpu()); }
    double item() const;                         // single-element tensor -> double (syncs)
    template <class T>
    std::vector<T> to_vector() const;            // copies to host, converting to T
    void copy_(const Tensor& src);               // in-place copy of same shape/dtype (no grad)
    void fill_(double value);                    // in-place fill (no grad)

    // ---- autograd ----------------------------------------------------------------------------
    bool requires_grad() const { return checked().requires_grad; }
    Tensor& set_requires_grad(bool r);  // only on leaves of floating dtype
    Tensor grad() const;                // undefined until backward reaches this leaf
    void set_grad(const Tensor& g);
    void zero_grad();                   // drops the gradient (PyTorch's set_to_none)
    Tensor detach() const;              // same data, no autograd history
    const std::shared_ptr<Node>& grad_fn() const { return checked().grad_fn; }
    bool is_leaf() const { return grad_fn() == nullptr; }

    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
    bool same(const Tensor& o) const { return impl_ == o.impl_; }

   private:
    const TensorImpl& checked() const;
    std::shared_ptr<TensorImpl> impl_;
};

// Checks used by op wrappers; messages name the op and the offending tensors.
void check_defined(const Tensor& t, const char* op, const char* arg);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
void check_dtype(const Tensor& t, DType want, const char* op, const char* arg);
void check_floating(const Tensor& t, const char* op, const char* arg);

// ---- template definitions ---------------------------------------------------------------------

template <class T>
T* Tensor::data() const {
    const TensorImpl& i = checked();
    OBL_CHECK(i.dtype == DTypeOf<std::remove_const_t<T>>::value, "tensor is ", dtype_name(i.dtype),
              ", accessed as ", dtype_name(DTypeOf<std::remove_const_t<T>>::value));
    return reinterpret_cast<T*>(static_cast<char*>(i.storage ? i.storage->data : nullptr) + i.offset);
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
    OBL_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ", values.size(),
              " values for shape ", shape, " (", shape.numel(), " elements)");
    Tensor t = empty(shape, DTypeOf<T>::value, Device::cpu());
    std::copy(values.begin(), values.end(), t.data<T>());
    return device.is_cpu() ? t : t.to(device);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
    Tensor host = device().is_cpu() ? *this : cpu();
    if (host.dtype() != DTypeOf<T>::value) host = host.detach().to(DTypeOf<T>::value);
    const T* p = host.data<T>();
    return std::vector<T>(p, p + host.numel());
}

}  // namespace obl
