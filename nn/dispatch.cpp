#include "nn/dispatch.h"

namespace obl {

namespace {
thread_local bool t_reference_only = false;
}

bool use_fast_cpu() { return !t_reference_only; }

ReferenceCpuGuard::ReferenceCpuGuard() : prev_(t_reference_only) { t_reference_only = true; }
ReferenceCpuGuard::~ReferenceCpuGuard() { t_reference_only = prev_; }

}  // namespace obl
