#!/usr/bin/env bash
# `make demo`: oblivio's main job end to end on a default, on the CPU.
#   1. train a small CNN on Fashion-MNIST with oblivio itself (oblivio train), or reuse the one a
#      previous demo left in runs/demo/ (delete it to retrain);
#   2. make it forget one class SOURCE-FREE (oblivio forget: synthetic embeddings only, no
#      training data; epochs chosen by the data-free rule);
#   3. print the real Fashion-MNIST test accuracy per class before and after (reporting only).
# Settings: DEMO_CLASS (default 9, "Ankle boot"), DEMO_METHOD (default neg_grad_plus),
# DEMO_DIR (default runs/demo). Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/oblivio"
class="${DEMO_CLASS:-9}"
method="${DEMO_METHOD:-neg_grad_plus}"
dir="${DEMO_DIR:-runs/demo}"
model="$dir/fmnist_cnn.safetensors"
out="$dir/fmnist_cnn_forget_${class}_${method}.safetensors"
mkdir -p "$dir"

echo "== 1/2 the deployed model: fmnist_cnn on Fashion-MNIST"
if [ -f "$model" ]; then
  echo "reusing $model (delete it to train again)"
else
  "$bin" train --recipe experiments/recipes/fmnist_cnn.yaml --out "$model"
fi

echo
echo "== 2/2 forget class $class with $method, source-free (no training data)"
"$bin" forget --model "$model" --arch fmnist_cnn --classes "$class" --method "$method" \
  --out "$out" --eval-dataset fmnist
echo
echo "demo done: the unlearned model is $out (report: $out.report.json)"
