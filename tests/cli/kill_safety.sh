#!/usr/bin/env bash
# shellcheck disable=SC2317  # the check functions are called through variables (rounds)
# tests/cli/kill_safety.sh — SIGKILL at random points never leaves a partial output, and the
# same command run again finishes the job with the uninterrupted result (issue #7).
#
#   bash tests/cli/kill_safety.sh /path/to/oblivio     (ctest: Cli_kill_safety)
#   OBL_KILL_SEED=7 bash tests/cli/kill_safety.sh ...  (another reproducible set of kill points)
#
# Three commands, on fixtures made at test time (a tiny IDX data set, a 3-epoch fmnist_cnn
# recipe, a 12-row experiment whose oracles are trained by the run itself):
#   train    oblivio train (3 epochs, checkpoint <out>.ckpt after each)
#   forget   oblivio forget (model + <out>.report.json)
#   run      oblivio run (results.jsonl, embedding cache, oracle models trained with checkpoints)
# Each command first runs once uninterrupted: the reference, and its wall time T. Then, in
# rounds that start from an empty output directory, the command is started and killed with
# SIGKILL after a delay drawn uniformly from [0, T) (bash $RANDOM seeded with OBL_KILL_SEED,
# default 20240607, so a rerun draws the same delays), started again (it resumes) and killed
# again, up to 3 kills per round; then it runs to completion. After EVERY kill:
#   - no final output name holds a partial file: each is absent or complete and valid
#     (models and checkpoints pass `oblivio inspect`; report.json parses), and a final output
#     that exists already equals the reference (it was renamed into place complete);
#   - results.jsonl: every complete line parses as a JSON row, no row_id twice, every row equal
#     to the reference's row of that id (timing fields aside); a torn last line without its
#     '\n' is allowed (the documented crash contract: readers ignore it, the next append cuts it)
#     and counted.
# After each round's completion:
#   - train: the model equals the uninterrupted run's bit for bit (resumed from a checkpoint at
#     least once over all rounds: counted, and required), and no checkpoint is left;
#   - forget: model bit-identical, report equal to the reference's without its wall-clock keys;
#   - run: results.jsonl has exactly the reference's rows, each exactly once, each equal to the
#     reference's row (timing aside), no torn line left; the cached oracle models equal the
#     reference's bit for bit.
# Kills are counted only when the process really died of SIGKILL (exit status 137); a delay
# past the end of a (resumed) run just completes it. Temporary files left by a kill inside an
# atomic write (NAME.tmp.PID: never a final name) are counted, and none may remain after a
# completed rerun.
# Runs on one thread (about a minute on one core). Exit status: 0 ok, 1 a check failed, 77
# skipped (no python3 or coreutils timeout).
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash tests/cli/kill_safety.sh /path/to/oblivio" >&2
    exit 1
fi
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "FAIL: $1 is not an executable" >&2; exit 1; }
for tool in python3 timeout; do  # timeout: a hung command fails instead of blocking
    command -v "$tool" > /dev/null || { echo "skipped: $tool not found"; exit 77; }
done
TIMEOUT=(timeout 300)  # a hung command fails the test instead of blocking it
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
SEED=${OBL_KILL_SEED:-20240607}
RANDOM=$SEED
# Kills wanted per command (at least 20 in all).
KILLS_TRAIN=8 KILLS_FORGET=6 KILLS_RUN=8
MAX_KILLS_PER_ROUND=3

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/obl_kill_safety.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
echo "kill-safety: seed $SEED (OBL_KILL_SEED), work in $WORK"

# ---- fixtures -------------------------------------------------------------------------------
python3 "$HERE/idx_fixture.py" data 10 5 11 || { echo "FAIL: could not write the fixtures"; exit 1; }
mkdir -p exp/recipes models
cat > exp/recipes/tiny.yaml << 'EOF'
arch: fmnist_cnn
dataset: fmnist
epochs: 3
batch_size: 10
lr: 0.05
momentum: 0.9
nesterov: true
weight_decay: 0.0005
schedule: cosine
augment: true
crop_padding: 2
seed: 5
workers: 1
EOF
cat > exp/tiny.yaml << 'EOF'
name: tiny
arch: fmnist_cnn
dataset: fmnist
original: {weights: tiny.safetensors}
oracle: {recipe: tiny.yaml, set: {epochs: 2}}
classes: [[3], [5]]
methods: [neg_grad_plus, random_labels]
seeds: [0, 1]
samples_per_class: 300
metrics: [accuracy, aus, js]
EOF

# The checks, in Python (standard library): see `usage` below.
cat > check.py << 'EOF'
import json, sys
TIMING = {"timing", "seconds", "wall_seconds"}
def strip(v):
    if isinstance(v, dict): return {k: strip(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list): return [strip(x) for x in v]
    return v
def rows(path, allow_torn):
    """(rows by id, torn tail?) of a results.jsonl; raises on a bad complete line or a repeat."""
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    torn = lines.pop() != b""
    if torn and not allow_torn: raise ValueError(f"{path}: last line has no newline")
    out = {}
    for n, line in enumerate(lines, 1):
        try: row = json.loads(line)
        except ValueError as e: raise ValueError(f"{path}:{n}: not JSON ({e}): {line[:80]!r}")
        rid = row.get("row_id") if isinstance(row, dict) else None
        if not rid: raise ValueError(f"{path}:{n}: no row_id")
        if rid in out: raise ValueError(f"{path}:{n}: row_id {rid} appears twice")
        out[rid] = strip(row)
    return out, torn
mode, args = sys.argv[1], sys.argv[2:]
try:
    if mode == "report":  # report PATH REF: valid JSON, equal to REF without wall-clock keys
        got, ref = (strip(json.load(open(p))) for p in args)
        if got != ref: raise ValueError(f"{args[0]} differs from the reference beyond timing")
    elif mode in ("partial", "final"):  # RESULTS REF: rows valid, a subset (final: all) of REF
        ref, _ = rows(args[1], False)
        got, torn = rows(args[0], mode == "partial")
        for rid, row in got.items():
            if rid not in ref: raise ValueError(f"{args[0]}: unexpected row {rid}")
            if row != ref[rid]: raise ValueError(f"{args[0]}: row {rid} differs from the reference")
        if mode == "final" and set(got) != set(ref):
            raise ValueError(f"{args[0]}: {len(got)} rows, missing {sorted(set(ref) - set(got))}")
        print(f"{len(got)} {int(torn)}")
    else:
        raise ValueError("usage: check.py report PATH REF | partial|final RESULTS REF")
except (OSError, ValueError) as e:
    print(e, file=sys.stderr)
    sys.exit(1)
EOF

FAILURES=0
fail() {
    echo "FAIL: $*"
    FAILURES=$((FAILURES + 1))
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# valid_model FILE [REF]: absent, or passes `oblivio inspect` (and equals REF when given).
valid_model() {
    [ -e "$1" ] || return 0
    "$BIN" inspect "$1" > /dev/null 2>&1 || { fail "$1 is not a valid safetensors file"; return; }
    if [ -n "${2:-}" ] && ! cmp -s "$1" "$2"; then fail "$1 exists but differs from $2"; fi
}
# reset_out: an empty output directory.
reset_out() { rm -rf out && mkdir out; }
# Temporary files of atomic writes cut short by a kill (NAME.tmp.PID, never a final name):
# noted after each kill (temps.seen), and none may survive a completed rerun, which writes the
# same final names again (nn/io/atomic_file.h: a write removes dead writers' temporaries).
note_temps() { find out -name '*.tmp.*' >> temps.seen; }
no_temps_left() {
    local left
    left=$(find out -name '*.tmp.*')
    [ -z "$left" ] || fail "$1: temporary files left after a completed rerun: $left"
}

# ---- the kill loop --------------------------------------------------------------------------
# attempt T_MS LOG cmd...: runs the command and SIGKILLs it after a delay drawn from [1, T_MS)
# ms (a background killer; cancelled when the command ends first). Sets OUTCOME to killed |
# finished | failed, and ELAPSED_MS.
attempt() {
    local t_ms=$1 log=$2
    shift 2
    local d=$((1 + (RANDOM * 32768 + RANDOM) % (t_ms - 1))) t0 pid killer rc
    t0=$(now_ms)
    "$@" >> "$log" 2>&1 &
    pid=$!
    (sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))" && kill -KILL "$pid") \
        > /dev/null 2>&1 &
    killer=$!
    wait "$pid" 2> /dev/null  # (no "Killed" job notice)
    rc=$?
    kill "$killer" 2> /dev/null
    wait "$killer" 2> /dev/null
    ELAPSED_MS=$(($(now_ms) - t0))
    case $rc in
        137) OUTCOME=killed ;;
        0) OUTCOME=finished ;;
        *)
            OUTCOME=failed
            fail "exit status $rc from: $* (log $log):"
            tail -3 "$log" | sed 's/^/    /'
            ;;
    esac
}

# rounds NAME WANTED T_MS RESET CHECK_KILLED CHECK_DONE cmd...: rounds until WANTED kills.
# RESET empties the outputs; CHECK_KILLED runs after each kill, CHECK_DONE after completion.
# A fresh start that completes before its delay (the machine got faster than during the
# reference) lowers T_MS to its wall time, so the delays keep covering the run.
KILLS_TOTAL=0 COMPLETIONS=0
rounds() {
    local name=$1 wanted=$2 t_ms=$3 reset=$4 check_killed=$5 check_done=$6
    shift 6
    local kills=0 round=0 started
    started=$(now_ms)
    while [ "$kills" -lt "$wanted" ] && [ "$FAILURES" = 0 ]; do
        round=$((round + 1))
        if [ "$round" -gt $((4 * wanted)) ]; then
            fail "$name: only $kills kills in $((round - 1)) rounds"
            break
        fi
        $reset
        local in_round=0
        OUTCOME=killed
        while [ "$in_round" -lt "$MAX_KILLS_PER_ROUND" ]; do
            attempt "$t_ms" "$name.log" "$@"
            if [ "$OUTCOME" = finished ] && [ "$in_round" = 0 ] &&
                [ "$ELAPSED_MS" -lt "$t_ms" ]; then
                t_ms=$((ELAPSED_MS > 200 ? ELAPSED_MS : 200))
            fi
            [ "$OUTCOME" = killed ] || break
            in_round=$((in_round + 1))
            note_temps
            $check_killed
        done
        [ "$OUTCOME" = failed ] && break
        if [ "$OUTCOME" = killed ]; then  # rerun to completion
            "${TIMEOUT[@]}" "$@" >> "$name.log" 2>&1 || {
                fail "$name: the rerun after a kill failed:"
                tail -3 "$name.log" | sed 's/^/    /'
                break
            }
        fi
        kills=$((kills + in_round))
        COMPLETIONS=$((COMPLETIONS + 1))
        no_temps_left "$name"
        $check_done
    done
    KILLS_TOTAL=$((KILLS_TOTAL + kills))
    echo "  $name: $kills kills in $round rounds ($(($(now_ms) - started)) ms)"
}

# reference NAME cmd...: the uninterrupted run; sets T_MS to its wall time (at least 200 ms).
reference() {
    local name=$1 t0
    shift
    t0=$(now_ms)
    "${TIMEOUT[@]}" "$@" > "$name.ref.log" 2>&1 || {
        echo "FAIL: the uninterrupted $name run failed:"
        tail -5 "$name.ref.log" | sed 's/^/    /'
        exit 1
    }
    T_MS=$(($(now_ms) - t0))
    [ "$T_MS" -lt 200 ] && T_MS=200
}

# ---- train ----------------------------------------------------------------------------------
mkdir -p ref out
TRAIN=("$BIN" train --recipe exp/recipes/tiny.yaml --root data)
reference train "${TRAIN[@]}" --out ref/model.safetensors
T_TRAIN=$T_MS
RESUMES=0
train_killed() {
    valid_model out/model.safetensors ref/model.safetensors
    valid_model out/model.safetensors.ckpt
}
train_done() {
    RESUMES=$((RESUMES + $(grep -c "^resuming from" train.log)))
    : > train.log
    cmp -s out/model.safetensors ref/model.safetensors ||
        fail "train: the model after kills and reruns differs from the uninterrupted one"
    [ -e out/model.safetensors.ckpt ] && fail "train: checkpoint left after completion"
}
rounds train $KILLS_TRAIN "$T_TRAIN" reset_out train_killed train_done \
    "${TRAIN[@]}" --out out/model.safetensors
[ "$RESUMES" -gt 0 ] || fail "train: no rerun resumed from a checkpoint (all kills too early?)"

# ---- forget ---------------------------------------------------------------------------------
FORGET=("$BIN" forget --model ref/model.safetensors --arch fmnist_cnn --classes 3
    --method neg_grad_plus --samples-per-class 20000 --force)
reference forget "${FORGET[@]}" --out ref/forget.safetensors
T_FORGET=$T_MS
forget_killed() {
    valid_model out/f.safetensors ref/forget.safetensors
    if [ -e out/f.safetensors.report.json ]; then
        python3 check.py report out/f.safetensors.report.json ref/forget.safetensors.report.json ||
            fail "forget: partial or wrong report.json after a kill"
    fi
}
forget_done() {
    cmp -s out/f.safetensors ref/forget.safetensors ||
        fail "forget: the model after kills and reruns differs from the uninterrupted one"
    python3 check.py report out/f.safetensors.report.json ref/forget.safetensors.report.json ||
        fail "forget: report after kills and reruns differs"
}
rounds forget $KILLS_FORGET "$T_FORGET" reset_out forget_killed forget_done \
    "${FORGET[@]}" --out out/f.safetensors

# ---- run ------------------------------------------------------------------------------------
cp ref/model.safetensors models/tiny.safetensors
RUN=("$BIN" run exp/tiny.yaml --root data --models models)
reference run "${RUN[@]}" --out ref/runs
T_RUN=$T_MS
REF_ROWS=ref/runs/tiny/results.jsonl
[ "$(wc -l < "$REF_ROWS")" = 12 ] || { echo "FAIL: the reference run has not 12 rows"; exit 1; }
TORN=0
run_killed() {
    local cache
    for cache in out/runs/cache/models/* out/runs/cache/embeddings/*; do
        [ -e "$cache" ] || continue
        case $cache in
            *.tmp.*) ;;                               # an atomic write cut short: not final
            *.ckpt) valid_model "$cache" ;;           # a training checkpoint
            *) valid_model "$cache" "ref/runs/cache/${cache#out/runs/cache/}" ;;
        esac
    done
    [ -e out/runs/tiny/results.jsonl ] || return 0
    local r
    if r=$(python3 check.py partial out/runs/tiny/results.jsonl "$REF_ROWS"); then
        TORN=$((TORN + ${r#* }))
    else
        fail "run: results.jsonl after a kill"
    fi
}
run_done() {
    python3 check.py final out/runs/tiny/results.jsonl "$REF_ROWS" > /dev/null ||
        fail "run: results.jsonl after kills and reruns"
    local m
    for m in ref/runs/cache/models/*.safetensors; do
        cmp -s "$m" "out/runs/cache/models/${m##*/}" || fail "run: cached model ${m##*/} differs"
    done
}
rounds run $KILLS_RUN "$T_RUN" reset_out run_killed run_done "${RUN[@]}" --out out/runs

TEMPS=$(sort -u temps.seen 2> /dev/null | wc -l)
if [ "$KILLS_TOTAL" -lt 20 ] && [ "$FAILURES" = 0 ]; then fail "only $KILLS_TOTAL kills"; fi
if [ "$FAILURES" = 0 ]; then
    echo "kill-safety: $KILLS_TOTAL kills, $COMPLETIONS reruns to completion, $RESUMES train" \
        "resumes, $TORN torn result lines, $TEMPS temporary files left by kills (all removed" \
        "by the reruns); reference times train ${T_TRAIN} ms, forget ${T_FORGET} ms, run" \
        "${T_RUN} ms; ok"
    exit 0
fi
echo "kill-safety: $KILLS_TOTAL kills, $FAILURES failed checks (seed $SEED)"
exit 1
