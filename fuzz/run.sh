#!/usr/bin/env bash
# Runs the libFuzzer targets one after the other, each for MINUTES minutes, and prints one line per
# target: executions, seconds, coverage, and crashes (0, or the path of the crashing input).
#   fuzz/run.sh BUILD_DIR MINUTES [TARGET ...]      (default: every target; `make fuzz` calls it)
# Each target starts from a scratch copy of its committed seeds (fuzz/corpus/<target>/ stays
# small) in BUILD_DIR/fuzz-work/<target>/corpus; the inputs libFuzzer finds interesting pile up
# there, its log is BUILD_DIR/fuzz-work/<target>/log and crashing inputs land in .../artifacts/.
# A target stops at its first finding. Exit status 1 when any target found something.
set -uo pipefail
if [ $# -lt 2 ]; then
  echo "usage: fuzz/run.sh BUILD_DIR MINUTES [TARGET ...]" >&2
  exit 2
fi
build=$1
minutes=$2
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(safetensors cifar idx image experiment recipe)
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$build" && pwd)/fuzz-work
# UB is already fatal (-fno-sanitize-recover); these make every report carry a stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

found=0
lines=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz/run.sh: $bin not built (cmake --build $build --target obl_fuzz)" >&2
    exit 2
  fi
  dir=$work/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$here/corpus/$t/"* "$dir/corpus/"
  extra=()
  if [ -f "$here/$t.dict" ]; then extra+=(-dict="$here/$t.dict"); fi
  # Two CIFAR-10 records are 6,146 bytes: let inputs grow past libFuzzer's default 4,096.
  if [ "$t" = cifar ]; then extra+=(-max_len=10000); fi
  echo "fuzz_$t: ${minutes} min ..."
  start=$(date +%s)
  "$bin" -max_total_time=$((minutes * 60)) -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "${extra[@]}" "$dir/corpus" > "$dir/log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/log" | tail -1 | awk '{print $2}')
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | awk '{print $2}')
  artifact=$(ls "$dir/artifacts" | head -1)
  if [ -n "$artifact" ]; then
    crashes="1: $dir/artifacts/$artifact"
    found=1
  elif [ $rc -ne 0 ]; then
    crashes="exit $rc without an artifact: see $dir/log"
    found=1
  else
    crashes=0
  fi
  lines+=("$(printf '%-12s execs %-10s time %5ss  cov %-6s crashes %s' "$t" "${execs:-?}" "$secs" \
    "${cov:-?}" "$crashes")")
  echo "${lines[-1]}"
done
echo
echo "fuzz summary (${minutes} min per target; logs in $work/<target>/log):"
printf '  %s\n' "${lines[@]}"
exit $found
