// Thread-count control over OpenMP (a no-op single thread without OpenMP).
#include "kernels/common/parallel.h"

#include "kernels/common/check.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace obl {

int num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void set_num_threads(int n) {
    OBL_CHECK(n >= 1, "thread count must be >= 1, got ", n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

}  // namespace obl
