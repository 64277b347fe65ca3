#!/usr/bin/env python3
"""Calibrate the data-free stopping rule (unlearn/selection.h) on a DECLARED VALIDATION SPLIT.

For every (class set, method) this runs

    oblivio forget ... --eval-dataset D --eval-split val --trace --eval-cache OUT/cache

which trains for the method's whole epoch budget and records, after every epoch, the synthetic
signals (held-out draws) next to real accuracy on the validation split (the last 500 training
images of each class; never test data). It then replays the stopping rule on those traces for
each candidate margin ratio and prints how many runs would meet the bar (validation A_f <= 1% and
A_r >= the original's A_r - 1 pt) and how many would stop "forgotten", plus the most negative
relative margin at which any run still had A_f > 1% (the ratio must be at least its opposite).

Standard library only. Example (the figures quoted in unlearn/selection.h):
    python3 tools/calibrate_selection.py --model r20.safetensors --arch cifar_resnet20 \\
        --root ../shared/data/cifar-10-batches-bin --out /tmp/calib20
    python3 tools/calibrate_selection.py ... --sets 3,5 0,8 1,9 2,6 4,7
"""
import argparse
import json
import os
import subprocess
import sys

METHODS = ["neg_grad_plus", "boundary_shrink", "scrub", "delete", "random_labels"]


def run_all(args):
    os.makedirs(args.out, exist_ok=True)
    sets = args.sets if args.sets else [str(c) for c in range(args.num_classes)]
    reports = []
    for method in args.methods:
        for classes in sets:
            stem = os.path.join(args.out, "%s-%s-%s" % (args.arch, method, classes.replace(",", "_")))
            report = stem + ".safetensors.report.json"
            if not os.path.exists(report):
                cmd = [args.oblivio, "forget", "--model", args.model, "--arch", args.arch,
                       "--classes", classes, "--method", method, "--cut", args.cut,
                       "--out", stem + ".safetensors", "--eval-dataset", args.dataset,
                       "--eval-root", args.root, "--eval-split", "val", "--trace",
                       "--eval-cache", os.path.join(args.out, "cache"), "--force"]
                with open(stem + ".log", "w") as log:
                    rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
                if rc != 0:
                    sys.exit("error: %s failed (see %s.log)" % (" ".join(cmd), stem))
            reports.append(json.load(open(report)))
    return reports


def replay(report, ratio, tau_f, tau_r):
    """The rule of unlearn/selection.h on one traced run: (stop reason, selected epoch entry)."""
    best = None
    reason = "max_epochs"
    for e in report["epochs"]:
        s, real = e["synthetic"], e["real"]
        if not s["finite"]:
            reason = "non_finite"
            break
        ok_f = s["relative_margin"] <= -ratio and s["forget_agreement"] <= tau_f
        ok_r = s["retain_agreement"] >= tau_r
        cand = (ok_f and ok_r, ok_r, e["epoch"] if ok_r else s["retain_agreement"], e)
        if best is None or cand[:3] > best[:3]:
            best = cand
        if ok_f and ok_r:
            reason = "forgotten"
            break
        if not ok_r:
            reason = "retain_floor"
            break
    return reason, (best[3] if best else None)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--oblivio", default="build/oblivio")
    p.add_argument("--model", required=True, help="converted safetensors checkpoint")
    p.add_argument("--arch", required=True)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--root", required=True, help="dataset root (its TRAIN split is used)")
    p.add_argument("--num-classes", type=int, default=10)
    p.add_argument("--cut", default="pre_logits")
    p.add_argument("--methods", nargs="+", default=METHODS)
    p.add_argument("--sets", nargs="*", help="class sets like 3 or 3,5 (default: each class alone)")
    p.add_argument("--ratios", default="0.8,0.9,1.0,1.1,1.2")
    p.add_argument("--tau-f", type=float, default=0.01)
    p.add_argument("--tau-r", type=float, default=0.85)
    p.add_argument("--out", required=True, help="directory for the runs (reused when rerun)")
    args = p.parse_args()
    reports = run_all(args)

    worst = None
    for r in reports:
        for e in r["epochs"]:
            rel = e["synthetic"]["relative_margin"]
            if e["real"]["forget"] > 0.01 and rel is not None and (worst is None or rel < worst[0]):
                worst = (rel, r["method"], r["classes"], e["epoch"], e["real"]["forget"])
    print("%d traced runs (%s, cut %s, validation split)" % (len(reports), args.arch, args.cut))
    if worst:
        print("most negative relative margin with validation A_f > 1%%: %+.3f (%s, classes %s, "
              "epoch %d, A_f %.1f%%)" % (worst[0], worst[1], worst[2], worst[3], 100 * worst[4]))
    for ratio in [float(x) for x in args.ratios.split(",")]:
        met = certified = 0
        for r in reports:
            reason, e = replay(r, ratio, args.tau_f, args.tau_r)
            before_r = r["eval"]["before"]["retain"]
            met += e is not None and e["real"]["forget"] <= 0.01 and \
                e["real"]["retain"] >= before_r - 0.01
            certified += reason == "forgotten"
        print("margin_ratio %.2f: bar met %d/%d, stopped forgotten %d/%d"
              % (ratio, met, len(reports), certified, len(reports)))


if __name__ == "__main__":
    main()
