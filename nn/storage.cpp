#include "nn/storage.h"

#include "kernels/common/check.h"

namespace obl {

Storage::Storage(size_t n, Device d)
    : nbytes(n), device(d), allocator(d.is_cpu() ? &cpu_allocator() : &cuda_allocator()) {
    OBL_CHECK(d.is_cpu() || cuda_available(),
              "no CUDA device available (this build has CUDA, but no GPU was found); use the CPU");
    data = allocator->allocate(n);
}

Storage::~Storage() { allocator->deallocate(data, nbytes); }

}  // namespace obl
