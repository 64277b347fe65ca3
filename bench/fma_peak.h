// The FMA ceiling of one core, measured: a register-only loop of fused multiply-adds on
// kFmaAccumulators independent vector accumulators (more than FMA latency x issue rate, so the
// loop is throughput-bound), on the widest ISA this CPU has kernels for. Used as "100%" by the
// kernel studies (bench_study.cpp, BM_study/peak/fma) and by the sampler's draw limit
// (bench_forget.cpp).
#pragma once

#include <cstdint>

namespace obl::bench {

inline constexpr int kFmaAccumulators = 12;

// FP32 lanes of the loop fma_loop() runs here: 16 (AVX-512), 8 (AVX2), 0 (neither: no loop).
int fma_lanes();

// `iters` rounds of kFmaAccumulators vector FMAs (2 x fma_lanes() x kFmaAccumulators flops per
// round); returns a sum of the accumulators so the work cannot be dropped. Needs fma_lanes() > 0.
float fma_loop(int64_t iters);

}  // namespace obl::bench
