// Benchmark entry point: prints the machine facts every figure depends on, then runs.
// Per-op benchmarks live in bench/kernels/bench_<op>.cpp and validate against the CPU reference
// before timing (SkipWithError on mismatch; DESIGN.md §L).
#include <benchmark/benchmark.h>

#include <cstdio>

#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "nn/cuda_context.h"
#include "nn/device.h"

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::AddCustomContext("cpu_isa", obl::cpu_isa_name(obl::cpu_isa()));
    benchmark::AddCustomContext("omp_threads", std::to_string(obl::num_threads()));
    benchmark::AddCustomContext("gpu", obl::cuda_available() ? obl::cuda_context().device_name()
                                                             : std::string("none"));
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
