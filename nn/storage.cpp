#include "nn/storage.h"

namespace obl {

Storage::Storage(size_t n, Device d)
    : nbytes(n), device(d), allocator(d.is_cpu() ? &cpu_allocator() : &cuda_allocator()) {
    data = allocator->allocate(n);
}

Storage::~Storage() { allocator->deallocate(data, nbytes); }

}  // namespace obl
