#!/usr/bin/env bash
# The single prepared script for a lent GPU machine (DESIGN.md §K). Run from the repo root:
#   tools/gpu_check.sh            (logs and benchmark JSON go to $OUT, default ./gpu_out)
# Steps: configure with OBL_CUDA=ON and build with ninja -> ctest -L gpu -> the CPU suites again
# on CUDA (OBL_TEST_DEVICE=cuda) -> a short benchmark pass. Sized for ~8 device minutes.
#
# The device image has nvcc, CMake and ninja but not our Debian -dev packages. Prepare them here
# first with `tools/gpu_check.sh --fetch-debs` (apt-get download into gpu_debs/, git-ignored) and
# carry gpu_debs/ to the device; they are unpacked with dpkg -x into a private prefix.
set -uo pipefail
cd "$(dirname "$0")/.."

debs=(libgtest-dev libgmock-dev googletest libbenchmark-dev libbenchmark1 libyaml-cpp-dev
      libyaml-cpp0.7 libstb-dev libstb0)
if [ "${1:-}" = "--fetch-debs" ]; then
  mkdir -p gpu_debs && cd gpu_debs && apt-get download "${debs[@]}"
  exit $?
fi

OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
prefix=$PWD/.gpu_prefix
if ls gpu_debs/*.deb >/dev/null 2>&1; then
  mkdir -p "$prefix"
  for d in gpu_debs/*.deb; do dpkg -x "$d" "$prefix"; done
fi
export CMAKE_PREFIX_PATH="$prefix/usr:${CMAKE_PREFIX_PATH:-}"
export CPATH="$prefix/usr/include:${CPATH:-}"
export LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LIBRARY_PATH:-}"
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
{
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DOBL_CUDA=ON &&
  cmake --build build-gpu -j "$(nproc)"
} > "$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log"; exit 1; }

(cd build-gpu && ctest -L gpu -j 4 --output-on-failure) > "$OUT/ctest_gpu.log" 2>&1
gpu_rc=$?
(cd build-gpu && OBL_TEST_DEVICE=cuda ctest -L "cpu|golden" -j 4 --output-on-failure) \
  > "$OUT/ctest_cpu_on_cuda.log" 2>&1
cpu_on_cuda_rc=$?
./build-gpu/bench/obl_bench --benchmark_filter='cuda' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_out="$OUT/bench.json" \
  --benchmark_out_format=json > "$OUT/bench.txt" 2>&1
tail -3 "$OUT/ctest_gpu.log" "$OUT/ctest_cpu_on_cuda.log"
echo "gpu suite rc=$gpu_rc, cpu suites on cuda rc=$cpu_on_cuda_rc"
[ $gpu_rc -eq 0 ] && [ $cpu_on_cuda_rc -eq 0 ]
