#!/usr/bin/env bash
# Fails when an op is incomplete (DESIGN.md §D): every kernels/<op>.h needs
#   kernels/cpu/<op>.cpp            the CPU reference
#   kernels/cuda/<op>*.cu|.cpp      a CUDA kernel (or vendor wrapper, e.g. gemm_cublas.cpp)
#   a row in tests/kernels/op_cases_*.cpp naming the kernel ("<op>")
#   bench/kernels/bench_<op>.cpp    a benchmark
#   a `| <op> |` row in kernels/README.md
# and every kernels/cpu/fast/<op>*.cpp needs an op-table row with has_fast_cpu.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
count=0
for header in kernels/*.h; do
  op=$(basename "$header" .h)
  count=$((count + 1))
  missing=()
  [ -f "kernels/cpu/$op.cpp" ] || missing+=("kernels/cpu/$op.cpp")
  compgen -G "kernels/cuda/$op.cu" >/dev/null || compgen -G "kernels/cuda/${op}_*.cu" >/dev/null ||
    compgen -G "kernels/cuda/${op}_*.cpp" >/dev/null || missing+=("kernels/cuda/$op.cu")
  grep -q "\"$op\"" tests/kernels/op_cases_*.cpp 2>/dev/null || missing+=("an OpCase row with kernel \"$op\"")
  [ -f "bench/kernels/bench_$op.cpp" ] || missing+=("bench/kernels/bench_$op.cpp")
  grep -q "^| $op |" kernels/README.md 2>/dev/null || missing+=("a '| $op |' row in kernels/README.md")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "op '$op' lacks: ${missing[*]}"
    fail=1
  fi
done
if compgen -G "kernels/cpu/fast/*.cpp" >/dev/null; then
  grep -q "has_fast_cpu = true" tests/kernels/op_cases_*.cpp ||
    { echo "fast CPU kernels exist but no op-table row sets has_fast_cpu = true"; fail=1; }
fi
if [ "$count" -eq 0 ]; then
  echo "no kernels/<op>.h found"
  fail=1
fi
[ $fail -eq 0 ] && echo "op inventory complete: $count kernel headers"
exit $fail
