#!/usr/bin/env bash
# tests/cli/determinism.sh — the same command gives the same bytes (issue #7).
#
#   bash tests/cli/determinism.sh /path/to/oblivio     (ctest: Cli_determinism)
#
# On the CPU every result of oblivio is a pure function of its inputs and seeds: kernels split
# work into chunks that do not depend on the thread count and reduce them in a fixed order
# (kernels/common/parallel.h), the data loader's order and augmentation depend on (seed, epoch)
# only, and the synthetic draws come from counter-based Philox streams. This script checks that
# promise end to end through the real binary:
#   train    1 epoch of fmnist_cnn on a tiny IDX data set (random crops and flips on, 2 loader
#            threads): run twice with OMP_NUM_THREADS=2, and once with OMP_NUM_THREADS=1;
#            the three model files must be bit-identical (cmp).
#   forget   on that model, three requests: neg_grad_plus with batch 4096 (so that the fused
#            head step and the synthetic sampler take their multi-threaded paths), scrub (the
#            autograd path, KL to the original), and neg_grad_plus with --eval-dataset (the
#            real-data embedding and evaluation path). Each runs twice at 2 threads and once at
#            1 thread: models bit-identical; report.json identical after dropping its wall-clock
#            fields ("seconds" of each epoch, "wall_seconds"): everything else in the report
#            (sampler counts, per-epoch losses and signals, selection, accuracies) is part of the
#            deterministic result.
# Control: another seed must change both the model and the report (the checks can fail).
# On a mismatch it names the differing tensors or report keys.
# The fixtures are made at test time in a mktemp directory with Python's standard library.
# Exit status: 0 all identical, 1 a difference or a failing command, 77 skipped (no python3).
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash tests/cli/determinism.sh /path/to/oblivio" >&2
    exit 1
fi
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "FAIL: $1 is not an executable" >&2; exit 1; }
command -v python3 > /dev/null || { echo "skipped: python3 not found"; exit 77; }
export OMP_WAIT_POLICY=PASSIVE  # idle threads sleep (no effect on results)

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/obl_determinism.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
FAILED=0
CHECKS=0

# ---- fixtures -------------------------------------------------------------------------------
# A 10-class 1x28x28 IDX set (the fmnist file names): 30 train and 10 test images per class,
# class-dependent stripes plus seeded noise.
python3 "$HERE/idx_fixture.py" data 30 10 7 || { echo "FAIL: could not write the fixtures"; exit 1; }
cat > recipe.yaml << 'EOF'
arch: fmnist_cnn
dataset: fmnist
epochs: 1
batch_size: 32
lr: 0.05
momentum: 0.9
weight_decay: 0.0005
schedule: cosine
augment: true
crop_padding: 2
seed: 3
workers: 2
EOF

# Lists the tensors of two safetensors files that differ (header JSON + raw bytes per tensor).
cat > diff_safetensors.py << 'EOF'
import json, struct, sys
def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    meta = header.pop("__metadata__", {})
    return meta, {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}
(ma, ta), (mb, tb) = load(sys.argv[1]), load(sys.argv[2])
for k in sorted(set(ma) | set(mb)):
    if ma.get(k) != mb.get(k): print(f"    metadata '{k}': {ma.get(k)!r} vs {mb.get(k)!r}")
for k in sorted(set(ta) | set(tb)):
    if ta.get(k) != tb.get(k): print(f"    tensor '{k}' differs")
EOF

# Compares two report.json files without their wall-clock fields; prints the differing paths.
cat > diff_report.py << 'EOF'
import json, sys
TIMING = {"seconds", "wall_seconds"}
def strip(v):
    if isinstance(v, dict): return {k: strip(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list): return [strip(x) for x in v]
    return v
def walk(a, b, path, out):
    if type(a) != type(b) or not isinstance(a, (dict, list)):
        if a != b: out.append(f"    {path or '/'}: {a!r} vs {b!r}")
        return
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)): walk(a.get(k), b.get(k), f"{path}/{k}", out)
    elif len(a) != len(b):
        out.append(f"    {path}: {len(a)} vs {len(b)} entries")
    else:
        for i, (x, y) in enumerate(zip(a, b)): walk(x, y, f"{path}[{i}]", out)
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
if "wall_seconds" not in json.load(open(sys.argv[1])):
    print("    note: no 'wall_seconds' key (the report changed shape?)")
out = []
walk(a, b, "", out)
print("\n".join(out[:20]))
sys.exit(1 if out else 0)
EOF

# run LABEL THREADS command...: runs one command at OMP_NUM_THREADS=THREADS, log in LABEL.log.
run() {
    local label=$1 threads=$2
    shift 2
    if ! OMP_NUM_THREADS=$threads "$@" > "$label.log" 2>&1; then
        echo "FAIL: $label: exit status $? ($*)"
        tail -3 "$label.log" | sed 's/^/    /'
        return 1
    fi
}

# same_model WHAT A B: bit-identical files, else the differing tensors.
same_model() {
    CHECKS=$((CHECKS + 1))
    if cmp -s "$2" "$3"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: $2 and $3 differ"
        python3 diff_safetensors.py "$2" "$3"
        FAILED=$((FAILED + 1))
    fi
}

# same_report WHAT A B: equal after dropping the wall-clock fields.
same_report() {
    CHECKS=$((CHECKS + 1))
    local d
    if d=$(python3 diff_report.py "$2" "$3"); then
        echo "ok: $1"
    else
        echo "FAIL: $1: $2 and $3 differ beyond their wall-clock fields"
        echo "$d"
        FAILED=$((FAILED + 1))
    fi
}

# ---- train ----------------------------------------------------------------------------------
TRAIN=("$BIN" train --recipe recipe.yaml --root data)
run train_a 2 "${TRAIN[@]}" --out train_a.safetensors || exit 1
run train_b 2 "${TRAIN[@]}" --out train_b.safetensors || exit 1
run train_1 1 "${TRAIN[@]}" --out train_1.safetensors || exit 1
same_model "train: the same command twice gives the same model" train_a.safetensors \
    train_b.safetensors
same_model "train: OMP_NUM_THREADS=1 and 2 give the same model" train_a.safetensors \
    train_1.safetensors

# ---- forget ---------------------------------------------------------------------------------
FORGET=("$BIN" forget --model train_a.safetensors --arch fmnist_cnn --classes 3 --force)
EVAL="--eval-dataset fmnist --eval-root data"
CASES=(
    "ngp_batch4096|--method neg_grad_plus --samples-per-class 2000 --set batch_size=4096"
    "scrub|--method scrub --samples-per-class 1000 --seed 5"
    "ngp_eval|--method neg_grad_plus --samples-per-class 1000 $EVAL"
)
for c in "${CASES[@]}"; do
    name=${c%%|*}
    read -r -a args <<< "${c#*|}"
    for v in a b 1; do
        threads=2
        [ "$v" = 1 ] && threads=1
        run "forget_${name}_$v" $threads "${FORGET[@]}" "${args[@]}" \
            --out "forget_${name}_$v.safetensors" || exit 1
    done
    same_model "forget $name: the same command twice gives the same model" \
        "forget_${name}_a.safetensors" "forget_${name}_b.safetensors"
    same_report "forget $name: the same command twice gives the same report" \
        "forget_${name}_a.safetensors.report.json" "forget_${name}_b.safetensors.report.json"
    same_model "forget $name: OMP_NUM_THREADS=1 and 2 give the same model" \
        "forget_${name}_a.safetensors" "forget_${name}_1.safetensors"
    same_report "forget $name: OMP_NUM_THREADS=1 and 2 give the same report" \
        "forget_${name}_a.safetensors.report.json" "forget_${name}_1.safetensors.report.json"
done

grep -q "^real fmnist test: A_f" forget_ngp_eval_a.log || {
    echo "FAIL: forget ngp_eval did not evaluate on the real data (--eval-dataset)"
    FAILED=$((FAILED + 1))
}

# ---- controls: the comparisons can fail ----------------------------------------------------
# Another seed must change the model and the report (else the checks above prove nothing).
run train_seed4 2 "${TRAIN[@]}" --set seed=4 --out train_seed4.safetensors || exit 1
run forget_seed1 2 "${FORGET[@]}" --method neg_grad_plus --samples-per-class 2000 \
    --set batch_size=4096 --seed 1 --out forget_seed1.safetensors || exit 1
CHECKS=$((CHECKS + 1))
if cmp -s train_a.safetensors train_seed4.safetensors ||
    python3 diff_report.py forget_ngp_batch4096_a.safetensors.report.json \
        forget_seed1.safetensors.report.json > /dev/null; then
    echo "FAIL: control: another seed gave the same model or report"
    FAILED=$((FAILED + 1))
else
    echo "ok: control: another seed gives another model and report"
fi

echo "determinism: $((CHECKS - FAILED)) passed, $FAILED failed"
[ "$FAILED" = 0 ]
