// CPU threading: one persistent OpenMP team (DESIGN.md §N).
//
// Kernels parallelise their outermost loop with
//     #pragma omp parallel for if (obl::parallel_worth_it(work)) schedule(static)
// so small ops (a 256x512x10 head step) stay on the calling thread: waking the team costs more
// than the work. Results never depend on the thread count: a kernel splits work into fixed
// chunks whose boundaries do not depend on the number of threads, and reduces them in order.
#pragma once

#include <cstdint>

namespace obl {

// Roughly 32k flops (or elements touched) per op before threads pay for themselves.
constexpr int64_t kParallelThreshold = 1 << 15;

inline bool parallel_worth_it(int64_t work) { return work >= kParallelThreshold; }

int num_threads();           // threads the team will use (OMP_NUM_THREADS or the core count)
void set_num_threads(int n);  // n >= 1

}  // namespace obl
