// CPU kernel choice. Hot ops have two CPU implementations (DESIGN.md §N): the plain-loop reference
// (kernels/cpu/<op>.cpp) and a fast path (kernels/cpu/fast/<op>*.cpp). Ops dispatch to the fast
// path unless a ReferenceCpuGuard is alive on this thread; the op-table tests use the guard to
// compare the two exactly as they compare CPU with CUDA. F64 always uses the reference.
#pragma once

namespace obl {

bool use_fast_cpu();

class ReferenceCpuGuard {
   public:
    ReferenceCpuGuard();
    ~ReferenceCpuGuard();
    ReferenceCpuGuard(const ReferenceCpuGuard&) = delete;
    ReferenceCpuGuard& operator=(const ReferenceCpuGuard&) = delete;

   private:
    bool prev_;
};

}  // namespace obl
