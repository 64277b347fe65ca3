// CPU aligned allocator and the CUDA caching allocator.
#include "nn/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/stream.h"

#if OBL_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/common/cuda_check.h"
#endif

namespace obl {

namespace {

constexpr size_t kCpuAlignment = 64;

class CpuAllocator final : public Allocator {
   public:
    void* allocate(size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
        void* p = std::aligned_alloc(kCpuAlignment, rounded);
        OBL_CHECK(p != nullptr, "out of CPU memory allocating ", nbytes, " bytes");
        return p;
    }
    void deallocate(void* p, size_t) noexcept override { std::free(p); }
};

#if OBL_WITH_CUDA
// Size classes: multiples of 512 B below 1 MiB, multiples of 2 MiB above. A request takes a cached
// block of exactly its class, so waste is bounded and lookups are one map probe.
size_t size_class(size_t n) {
    constexpr size_t kSmall = 512, kLarge = size_t(2) << 20, kSmallLimit = size_t(1) << 20;
    return n < kSmallLimit ? (n + kSmall - 1) / kSmall * kSmall : (n + kLarge - 1) / kLarge * kLarge;
}

class CudaCachingAllocator final : public Allocator {
   public:
    void* allocate(size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        const size_t cls = size_class(nbytes);
        std::lock_guard<std::mutex> lock(mu_);
        void* p = nullptr;
        auto it = free_.find(cls);
        if (it != free_.end() && !it->second.empty()) {
            p = it->second.back();
            it->second.pop_back();
            stats_.cached_bytes -= cls;
        } else {
            cudaError_t err = cudaMalloc(&p, cls);
            if (err != cudaSuccess) {  // release the cache and try once more
                (void)cudaGetLastError();
                release_cache_locked();
                err = cudaMalloc(&p, cls);
            }
            if (err != cudaSuccess) {
                (void)cudaGetLastError();
                OBL_THROW("out of GPU memory allocating ", nbytes, " bytes (in use ",
                          stats_.current_bytes, " bytes, peak ", stats_.peak_bytes, ")");
            }
            ++stats_.num_device_allocs;
        }
        stats_.current_bytes += cls;
        if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
        return p;
    }

    void deallocate(void* p, size_t nbytes) noexcept override {
        if (!p) return;
        const size_t cls = size_class(nbytes);
        std::lock_guard<std::mutex> lock(mu_);
        free_[cls].push_back(p);  // reuse is safe: all work is ordered on the one stream
        stats_.current_bytes -= cls;
        stats_.cached_bytes += cls;
    }

    MemoryStats stats() {
        std::lock_guard<std::mutex> lock(mu_);
        return stats_;
    }
    void reset_peak() {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.peak_bytes = stats_.current_bytes;
    }
    void empty_cache() {
        std::lock_guard<std::mutex> lock(mu_);
        release_cache_locked();
    }

   private:
    void release_cache_locked() noexcept {
        cudaDeviceSynchronize();  // blocks may still be used by queued kernels
        for (auto& [cls, blocks] : free_)
            for (void* b : blocks) cudaFree(b);
        free_.clear();
        stats_.cached_bytes = 0;
    }

    std::mutex mu_;
    std::map<size_t, std::vector<void*>> free_;
    MemoryStats stats_;
};

CudaCachingAllocator& caching() {
    // Deliberately leaked: blocks may be returned by static tensors during exit, after the CUDA
    // runtime has shut down; the driver reclaims device memory at process exit.
    static auto* a = new CudaCachingAllocator();
    return *a;
}
#endif

}  // namespace

Allocator& cpu_allocator() {
    // Never destroyed (like the CUDA one): a tensor held by some other static (a cache, a test
    // fixture) may be freed during static destruction, after a function-local allocator would be.
    static auto* a = new CpuAllocator();
    return *a;
}

Allocator& cuda_allocator() {
#if OBL_WITH_CUDA
    return caching();
#else
    OBL_THROW("built without CUDA: no CUDA allocator");
#endif
}

MemoryStats cuda_memory_stats() {
#if OBL_WITH_CUDA
    return caching().stats();
#else
    return {};
#endif
}

void cuda_reset_peak_memory() {
#if OBL_WITH_CUDA
    caching().reset_peak();
#endif
}

void cuda_empty_cache() {
#if OBL_WITH_CUDA
    caching().empty_cache();
#endif
}

}  // namespace obl
