// Allocators (DESIGN.md §C). CPU blocks are 64-byte aligned. CUDA memory comes from a caching
// allocator: freed blocks go to size-class free lists and are reused (stream-ordered, one stream),
// so steady-state training never calls cudaMalloc; stats() reports current and peak bytes.
#pragma once

#include <cstddef>

namespace obl {

class Allocator {
   public:
    virtual ~Allocator() = default;
    virtual void* allocate(size_t nbytes) = 0;          // never null for nbytes > 0; throws
    virtual void deallocate(void* p, size_t nbytes) noexcept = 0;
};

struct MemoryStats {
    size_t current_bytes = 0;  // handed out and not yet returned
    size_t peak_bytes = 0;     // max of current_bytes since start or reset_peak
    size_t cached_bytes = 0;   // held in free lists for reuse
    size_t num_device_allocs = 0;  // cudaMalloc calls so far
};

Allocator& cpu_allocator();
Allocator& cuda_allocator();  // throws obl::Error in CPU-only builds

MemoryStats cuda_memory_stats();
void cuda_reset_peak_memory();
void cuda_empty_cache();  // returns cached blocks to the driver

}  // namespace obl
