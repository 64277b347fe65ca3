#!/usr/bin/env bash
# ctest: converts both shared CIFAR-10 ResNet checkpoints and verifies them bit for bit with the
# converter's own --check mode. Skips (exit 77) when python3-torch or ../shared is absent.
set -uo pipefail
cd "$(dirname "$0")/.."
shared=${OBL_SHARED_DIR:-../shared}
models="$shared/models/cifar10-resnet-akamaster"
if [ ! -d "$models" ]; then
  echo "skipped: $models not found (set OBL_SHARED_DIR)"; exit 77
fi
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "skipped: Debian python3-torch not installed (apt-get install python3-torch)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for depth in 20 32; do
  src=$(ls "$models"/resnet$depth-*.th)
  out="$tmp/resnet$depth.safetensors"
  /usr/bin/python3 tools/convert_checkpoint.py "$src" "$out" --arch cifar_resnet$depth || exit 1
  /usr/bin/python3 tools/convert_checkpoint.py --check "$src" "$out" || exit 1
  if [ -n "${1:-}" ]; then  # the C++ reader validates and lists the same file
    "$1" inspect "$out" > "$tmp/inspect.txt" || exit 1
    grep -q "meta arch = cifar_resnet$depth" "$tmp/inspect.txt" || { cat "$tmp/inspect.txt"; exit 1; }
    tail -1 "$tmp/inspect.txt"
  fi
done
