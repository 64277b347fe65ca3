#!/usr/bin/env bash
# Acceptance sweep of `oblivio forget` (unlearning issue): every class 0..9 x {neg_grad_plus,
# boundary_shrink, scrub, delete, random_labels} at the default settings, cut pre_logits, on the
# shared CIFAR-10 ResNet-20 and ResNet-32, plus cut last_block for neg_grad_plus and
# random_labels; collects the <out>.report.json files into a Markdown table (stdout and
# $OUT_DIR/acceptance.md). The bar: real-test A_f <= 1% and A_r >= original A_r - 1 pt.
#
# usage: tools/acceptance_sweep.sh [OBLIVIO_BINARY] [OUT_DIR]
#   env: SHARED (default ../shared), CLASSES (default "0 1 2 3 4 5 6 7 8 9"),
#        MODELS (default "20 32"), LAST_BLOCK (1 = also run the last_block rows, default 1),
#        EXTRA (extra oblivio forget options, e.g. "--device cuda")
# Real-test embeddings are computed once per model and cut and cached in $OUT_DIR/cache
# (oblivio forget --eval-cache); the unlearning itself takes about a second at pre_logits.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/oblivio}"
out_dir="${2:-$(mktemp -d /tmp/oblivio_sweep.XXXXXX)}"
shared="${SHARED:-$here/../shared}"
classes="${CLASSES:-0 1 2 3 4 5 6 7 8 9}"
models="${MODELS:-20 32}"
last_block="${LAST_BLOCK:-1}"
extra="${EXTRA:-}"
data="$shared/data/cifar-10-batches-bin"
mkdir -p "$out_dir"

for depth in $models; do
    th=$(ls "$shared"/models/cifar10-resnet-akamaster/resnet"$depth"-*.th)
    model="$out_dir/r$depth.safetensors"
    [ -f "$model" ] || /usr/bin/python3 "$here/tools/convert_checkpoint.py" "$th" "$model" \
        --arch "cifar_resnet$depth" > /dev/null
    runs=()
    for m in neg_grad_plus boundary_shrink scrub delete random_labels; do runs+=("$m:pre_logits"); done
    if [ "$last_block" = 1 ]; then runs+=("neg_grad_plus:last_block" "random_labels:last_block"); fi
    for run in "${runs[@]}"; do
        method="${run%%:*}"
        cut="${run##*:}"
        for c in $classes; do
            out="$out_dir/r$depth-$method-$cut-c$c.safetensors"
            [ -f "$out.report.json" ] && continue
            # shellcheck disable=SC2086
            "$bin" forget --model "$model" --arch "cifar_resnet$depth" --classes "$c" \
                --method "$method" --cut "$cut" --out "$out" --eval-dataset cifar10 \
                --eval-root "$data" --eval-cache "$out_dir/cache" --force $extra > "$out.log" 2>&1 ||
                echo "run failed: $out (see $out.log)" >&2
        done
    done
done

/usr/bin/python3 - "$out_dir" <<'EOF' | tee "$out_dir/acceptance.md"
import glob, json, os, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.report.json"))):
    r = json.load(open(path))
    ev = r.get("eval")
    if not ev:
        continue
    b, a, s = ev["before"], ev["after"], r["synthetic_selected"]
    ok = a["forget"] <= 0.01 and a["retain"] >= b["retain"] - 0.01
    rows.append((r["arch"], r["method"], r["cut"], ",".join(map(str, r["classes"])),
                 r["stop_reason"], r["selected_epoch"], len(r["epochs"]), s["relative_margin"],
                 s["retain_agreement"], b["forget"], a["forget"], b["retain"], a["retain"],
                 "ok" if ok else "FAIL", "" if s["admissible"] else "below tau_r"))
print("| arch | method | cut | class | stop | epoch | epochs run | rel. margin | synR | A_f before "
      "| A_f after | A_r before | A_r after | bar | note |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %s | %s | %s | %s | %d | %d | %.2f | %.3f | %.1f%% | %.1f%% | %.2f%% | %.2f%% "
          "| %s | %s |" % (r[:7] + (r[7], r[8], 100 * r[9], 100 * r[10], 100 * r[11],
                                    100 * r[12]) + r[13:]))
n_ok = sum(1 for r in rows if r[13] == "ok")
print("\n%d/%d runs meet the bar (A_f <= 1%%, A_r >= original - 1 pt)." % (n_ok, len(rows)))
groups = {}
for r in rows:
    g = groups.setdefault((r[0], r[1], r[2]), [0, 0, 0, 9.0, -9.0])
    g[0] += 1
    g[1] += r[13] == "ok"
    g[2] += r[4] == "forgotten"
    d = 100 * (r[12] - r[11])
    g[3], g[4] = min(g[3], d), max(g[4], d)
print("\n| arch | method | cut | runs | bar met | stopped forgotten | A_r change (pt) |")
print("|---|---|---|---|---|---|---|")
for (arch, method, cut), g in sorted(groups.items()):
    print("| %s | %s | %s | %d | %d | %d | %+.2f .. %+.2f |" % (arch, method, cut, *g))
EOF
