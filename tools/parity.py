#!/usr/bin/python3
"""Full-size parity of oblivio's models with torchvision (`make parity`).

    /usr/bin/python3 tools/parity.py [--bin build/tests/obl_tests] [--archs resnet18,vit_b_16]
                                     [--classes 1000,10] [--batch 2] [--keep DIR]

For each architecture (torchvision 0.14's resnet18, resnet50, vit_b_16 at 224x224, swin_t) and
class count, builds the torchvision model with seeded random weights, runs a seeded input in eval
mode on the CPU, and writes weights + "parity.input" + "parity.logits" to a safetensors file in a
temporary directory; then runs the C++ side (the ParitySlow gtest of tests/models/test_parity.cpp,
which reads $OBL_PARITY_DIR) on that file and prints the max abs logit difference. One file at a
time, deleted after use (vit_b_16 is ~350 MB), unless --keep is given. Exit status 1 when a model
disagrees (the C++ test fails) or a run fails.

Weights: torchvision's own initialisation, except that BatchNorm running statistics are
calibrated on random inputs (cumulative average over a few train-mode batches), so eval-mode BN
is non-trivial and activations stay in a realistic range, and ViT's zero-initialised head gets
N(0, 0.02) weights so that its logits are not all zero. Uses Debian's python3-torch (never part of
the framework); the generated files are never committed.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_checkpoint import write_safetensors  # noqa: E402

SEED = 1234
ARCHS = ("resnet18", "resnet50", "vit_b_16", "swin_t")


def build(arch, num_classes, gen):
    torch.manual_seed(SEED)
    m = getattr(torchvision.models, arch)(num_classes=num_classes)
    with torch.no_grad():
        if arch == "vit_b_16":
            m.heads.head.weight.copy_(0.02 * torch.randn(m.heads.head.weight.shape, generator=gen))
            m.heads.head.bias.copy_(0.02 * torch.randn(m.heads.head.bias.shape, generator=gen))
        bns = [mod for mod in m.modules() if isinstance(mod, nn.BatchNorm2d)]
        if bns:
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum = None  # cumulative average
                bn.weight.copy_(0.5 + torch.rand(bn.weight.shape, generator=gen))
                bn.bias.copy_(0.1 * torch.randn(bn.bias.shape, generator=gen))
            m.train()
            for _ in range(3):
                m(torch.randn(4, 3, 224, 224, generator=gen))
            for bn in bns:
                bn.momentum = 0.1
    return m.eval()


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(here, "build", "tests", "obl_tests"))
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--classes", default="1000,10")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--keep", help="write the files here and keep them")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"error: {args.bin} is not an executable; build the tests first (make build)")
    torch.set_num_threads(os.cpu_count() or 1)
    workdir = args.keep or tempfile.mkdtemp(prefix="obl_parity_")
    os.makedirs(workdir, exist_ok=True)
    rows, failed = [], False
    for arch in args.archs.split(","):
        for k in (int(c) for c in args.classes.split(",")):
            gen = torch.Generator().manual_seed(SEED)
            t0 = time.time()
            m = build(arch, k, gen)
            x = torch.randn(args.batch, 3, 224, 224, generator=gen)
            with torch.no_grad():
                logits = m(x)
            tensors = {n: t.detach().contiguous() for n, t in m.state_dict().items()}
            tensors["parity.input"] = x
            tensors["parity.logits"] = logits
            meta = {"arch": arch, "num_classes": str(k), "seed": str(SEED),
                    "torch_version": torch.__version__,
                    "torchvision_version": torchvision.__version__,
                    "generator": "oblivio tools/parity.py"}
            sub = os.path.join(workdir, f"{arch}_{k}")
            os.makedirs(sub, exist_ok=True)
            path = os.path.join(sub, f"{arch}_{k}.safetensors")
            write_safetensors(path, tensors, meta)
            t1 = time.time()
            proc = subprocess.run([args.bin, "--gtest_filter=ParitySlow.*"], capture_output=True,
                                  text=True, env=dict(os.environ, OBL_PARITY_DIR=sub))
            t2 = time.time()
            line = next((l for l in proc.stdout.splitlines() if l.startswith("PARITY ")), None)
            if proc.returncode != 0 or line is None:
                failed = True
                print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
            fields = dict(re.findall(r"(\w+)=(\S+)", line or ""))
            rows.append((arch, k, fields.get("max_abs_diff", "-"), fields.get("max_abs_logit", "-"),
                         fields.get("argmax_equal", "-"), "ok" if proc.returncode == 0 else "FAIL",
                         f"{t1 - t0:.0f}s", f"{t2 - t1:.0f}s"))
            print(f"{arch:9s} K={k:<5d} max|dlogit| {rows[-1][2]:>10s}  max|logit| {rows[-1][3]:>10s}"
                  f"  argmax equal {rows[-1][4]}  {rows[-1][5]}  (torch {rows[-1][6]}, oblivio "
                  f"{rows[-1][7]})", flush=True)
            if not args.keep:
                os.remove(path)
                os.rmdir(sub)
    if not args.keep:
        os.rmdir(workdir)
    print("\n| arch | classes | max abs logit diff | max abs logit | argmax equal | result |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
