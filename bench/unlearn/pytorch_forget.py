#!/usr/bin/python3
"""PyTorch yardstick for one `oblivio forget` request (bench/unlearn/forget_vs_pytorch.sh).

    /usr/bin/python3 bench/unlearn/pytorch_forget.py MODEL.safetensors [--classes 3]
        [--samples-per-class 5000] [--seed 0] [--threads 2] [--out OUT.pt]

The same steps as unlearn/forget.cpp with `--method neg_grad_plus --cut pre_logits` on a CIFAR
ResNet-20, with the same sizes and rules but PyTorch's own random numbers (so the draws, the
shuffles and possibly the number of epochs differ from ours):
  1. load     read the safetensors file written by tools/convert_checkpoint.py (json header +
              raw little-endian bytes; no pickle), build the ResNet-20, load_state_dict(strict);
              split at pre_logits: body = everything before `linear`, head = `linear` (64 -> 10).
  2. sample   unlearn/synthetic.cpp's plain phase: candidates z ~ N(0, I_64) in blocks of
              clamp(2^22 / D, 64, 16384) = 16384, labelled by argmax(head(z)); a candidate is kept
              iff its class is still short of its quota (5,000 each), in candidate order; at most
              max(4096, 20 x total quota) candidates; then the targeted phase for classes still
              short (10 normalised gradient steps toward the class on proposals in rounds of 1024,
              the step doubling when fewer than half land, at most 6 times; cap max(8 x 1024,
              20 x quota) proposals per class). The held-out set of the data-free monitor
              (unlearn/selection.cpp): the same sampler with 1,000 per class and another seed;
              the "confident" forget draws are the top 10% (rounded up) by the original head's
              softmax confidence; the original head is measured once.
  3. train    neg_grad_plus (unlearn/neg_grad_plus.cpp, defaults of unlearn/configs.h): SGD lr
              0.05, momentum 0.9, no weight decay, batch 256 of each set, at most 8 epochs; an
              epoch is one pass over the shuffled forget set, forget batch i paired with retain
              batch i (retain batches wrap around); loss = beta * CE(retain) - (1 - beta) *
              CE(forget), beta 0.9, one forward over the concatenated batch.
  4. select   after every epoch, on the held-out set (batches of 2048, eval, no grad): synF,
              synFconf, margin on the confident forget draws, synR; forgotten = margin <= -6 and
              synF <= 0.01, admissible = synR >= 0.85; stop at the first forgotten and admissible
              epoch ("forgotten") or at the first inadmissible one ("retain_floor"), otherwise
              run the budget ("max_epochs"); the selected epoch is the best snapshot by the same
              order as SelectionMonitor::better.
  5. save     the selected head back into the model, torch.save(state_dict) to a temp file and
              rename (atomic, like ours).
Prints one line per epoch, the wall-time split (load, sampling, training, selection, save, total)
and a final `RESULT {json}` line for the driver script. The time of `import torch` is reported
separately (import_s): it is part of the process's end-to-end time, not of the steps.
Uses Debian's python3-torch; a benchmark tool, never part of the framework.
"""
import time

_T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

_T_IMPORTED = time.perf_counter()

# ---- settings: the defaults of unlearn/synthetic.h, selection.h, configs.h --------------------
LR, MOMENTUM, WEIGHT_DECAY, BATCH, EPOCHS, BETA = 0.05, 0.9, 0.0, 256, 8, 0.9
HELDOUT_PER_CLASS, CONFIDENT_SHARE, MARGIN_THRESHOLD, TAU_F, TAU_R, MONITOR_BATCH = (
    1000, 0.1, -6.0, 0.01, 0.85, 2048)
TARGETED_STEPS, TARGETED_STEP, TARGETED_DOUBLINGS, TARGETED_BATCH = 10, 0.5, 6, 1024


# ---- the model (akamaster/pytorch_resnet_cifar10's resnet.py, as bench/models/pytorch_forward.py)
class CifarBasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or in_planes != planes) else 0

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.pad:  # option A: subsample, zero-pad channels by planes // 4 on each side
            shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    def __init__(self, depth, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for b in range(n):
                blocks.append(CifarBasicBlock(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, num_classes)

    def body(self, x):  # everything before the pre_logits cut (not run by a source-free request)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return F.avg_pool2d(out, out.size(3)).flatten(1)

    def forward(self, x):
        return self.linear(self.body(x))


# ---- safetensors, read by hand (no pickle) ------------------------------------------------------
_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        sys.exit(f"error: {path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base, out = 8 + n, {}
    for name, e in header.items():
        if e["dtype"] not in _DTYPES:
            sys.exit(f"error: {path}: tensor {name} has unsupported dtype {e['dtype']}")
        b, end = e["data_offsets"]
        arr = np.frombuffer(data, dtype=_DTYPES[e["dtype"]], count=(end - b) //
                            np.dtype(_DTYPES[e["dtype"]]).itemsize, offset=base + b)
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out, meta


# ---- 2. the sampler (unlearn/synthetic.cpp) ----------------------------------------------------
@torch.no_grad()
def sample_plain(head, d, quota, block, max_draws, filled, zs, ys):
    """Plain phase; appends kept rows to zs/ys, updates filled; returns candidates examined."""
    k = quota.numel()
    draws = 0
    while draws < max_draws and bool((filled < quota).any()):
        n = min(block, max_draws - draws)
        z = torch.randn(n, d)
        label = head(z).argmax(1)
        onehot = F.one_hot(label, k)
        rank = onehot.cumsum(0).gather(1, label[:, None]).squeeze(1) - 1  # rank within class
        need = quota - filled
        accept = rank < need[label]
        filled += torch.minimum(onehot.sum(0), need)
        stop = n
        if bool((filled >= quota).all()):  # ends in this block: count up to the last kept row
            stop = int(accept.nonzero().max()) + 1
        zs.append(z[accept])
        ys.append(label[accept])
        draws += stop
    return draws


def steer(frozen, z, c, steps, step_len):
    target = torch.full((z.shape[0],), c, dtype=torch.long)
    for _ in range(steps):
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(F.cross_entropy(frozen(z), target), z)
        with torch.no_grad():
            z = z - step_len * g / (g.norm(dim=1, keepdim=True) + 1e-30)
    return z.detach()


def sample_targeted(frozen, d, c, need, max_draws, zs, ys):
    drawn = accepted = doublings = 0
    alpha = TARGETED_STEP
    while accepted < need and drawn < max_draws:
        n = min(TARGETED_BATCH, max_draws - drawn)
        z = steer(frozen, torch.randn(n, d), c, TARGETED_STEPS, alpha * 1.0)  # sigma = 1
        with torch.no_grad():
            hit = frozen(z).argmax(1) == c
        rows = hit.nonzero().squeeze(1)[:need - accepted]
        zs.append(z[rows])
        ys.append(torch.full((rows.numel(),), c, dtype=torch.long))
        accepted += rows.numel()
        drawn += n
        if 2 * int(hit.sum()) < n and doublings < TARGETED_DOUBLINGS:
            alpha *= 2
            doublings += 1
    return drawn, accepted


def sample_embeddings(head, d, k, per_class):
    head.eval()
    quota = torch.full((k,), per_class, dtype=torch.long)
    total = int(quota.sum())
    block = min(max((1 << 22) // d, 64), 16384)
    max_draws = max(4096, 20 * total)
    filled = torch.zeros(k, dtype=torch.long)
    zs, ys = [], []
    draws = sample_plain(head, d, quota, block, max_draws, filled, zs, ys)
    targeted = 0
    if bool((filled < quota).any()):
        frozen = frozen_copy(head)
        for c in range(k):
            if filled[c] < quota[c]:
                t, a = sample_targeted(frozen, d, c, int(quota[c] - filled[c]),
                                       max(8 * TARGETED_BATCH, 20 * int(quota[c])), zs, ys)
                targeted += t
                filled[c] += a
    if bool((filled < quota).any()):
        sys.exit(f"error: cannot fill the quota of classes {(filled < quota).nonzero().tolist()}")
    return torch.cat(zs), torch.cat(ys), draws, targeted


def frozen_copy(head):  # the targeted phase steers on a copy: the head never sees a backward
    frozen = nn.Linear(head.in_features, head.out_features)
    frozen.load_state_dict(head.state_dict())
    frozen.requires_grad_(False)
    return frozen.eval()


# ---- 4. the data-free monitor (unlearn/selection.cpp) ------------------------------------------
class Monitor:
    def __init__(self, head, d, k, forget):
        self.z, self.label, _, _ = sample_embeddings(head, d, k, HELDOUT_PER_CLASS)
        self.k = k
        self.is_forget = torch.zeros(k, dtype=torch.bool)
        self.is_forget[forget] = True
        logits = self.logits(head)
        fmask = self.is_forget[self.label]
        conf = logits.softmax(1).max(1).values
        idx = fmask.nonzero().squeeze(1)
        order = torch.sort(conf[idx], descending=True, stable=True).indices
        top = max(1, math.ceil(CONFIDENT_SHARE * idx.numel()))
        self.confident = torch.zeros(self.label.numel(), dtype=torch.bool)
        self.confident[idx[order[:top]]] = True
        self.original = self.measure(head)
        self.history, self.best, self.best_stats, self.stopped, self.stop_reason = (
            [], None, None, False, "")

    @torch.no_grad()
    def logits(self, head):
        head.eval()
        return torch.cat([head(self.z[i:i + MONITOR_BATCH])
                          for i in range(0, self.z.shape[0], MONITOR_BATCH)])

    def measure(self, head):
        logits = self.logits(head)
        pred = logits.argmax(1)
        fmask = self.is_forget[self.label]
        still = self.is_forget[pred]
        cmask = self.confident
        best_f = logits[:, self.is_forget].max(1).values
        best_r = logits[:, ~self.is_forget].max(1).values
        nf, nc, nr = int(fmask.sum()), int(cmask.sum()), int((~fmask).sum())
        s = {
            "synF": float(still[fmask].sum()) / nf if nf else 0.0,
            "synFconf": float(still[cmask].sum()) / nc if nc else 0.0,
            "margin": float((best_f[cmask].double() - best_r[cmask].double()).sum()) / nc
            if nc else 0.0,
            "synR": float((pred[~fmask] == self.label[~fmask]).sum()) / nr if nr else 1.0,
        }
        s["forgotten"] = s["margin"] <= MARGIN_THRESHOLD and s["synF"] <= TAU_F
        s["admissible"] = s["synR"] >= TAU_R
        return s

    @staticmethod
    def better(a, b):
        a_ok, b_ok = a["forgotten"] and a["admissible"], b["forgotten"] and b["admissible"]
        if a_ok != b_ok:
            return a_ok
        if a["admissible"] != b["admissible"]:
            return a["admissible"]
        if a["admissible"]:
            return a["margin"] < b["margin"]
        return a["synR"] > b["synR"]

    def on_epoch(self, epoch, head):
        s = self.measure(head)
        s["epoch"] = epoch
        self.history.append(s)
        if self.best is None or self.better(s, self.best_stats):
            self.best = {k: v.clone() for k, v in head.state_dict().items()}
            self.best_stats = s
        if s["forgotten"] and s["admissible"]:
            self.stop_reason, self.stopped = "forgotten", True
        elif not s["admissible"]:
            self.stop_reason, self.stopped = "retain_floor", True
        return self.stopped


# ---- 3. neg_grad_plus (unlearn/neg_grad_plus.cpp) -----------------------------------------------
def neg_grad_plus(head, zf, yf, zr, yr, monitor, clock):
    opt = torch.optim.SGD(head.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    epochs = []
    for epoch in range(EPOCHS):
        t0 = time.perf_counter()
        forget, retain = torch.randperm(zf.shape[0]), torch.randperm(zr.shape[0])
        nf, nr = math.ceil(zf.shape[0] / BATCH), math.ceil(zr.shape[0] / BATCH)
        loss_sum = torch.zeros(())
        for i in range(nf):
            fi = forget[i * BATCH:(i + 1) * BATCH]
            j = i % nr
            ri = retain[j * BATCH:(j + 1) * BATCH]
            logits = head(torch.cat([zf[fi], zr[ri]]))
            nfi = fi.numel()
            loss = (BETA * F.cross_entropy(logits[nfi:], yr[ri])
                    - (1 - BETA) * F.cross_entropy(logits[:nfi], yf[fi]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
        clock["training"] += time.perf_counter() - t0
        t1 = time.perf_counter()
        stop = monitor.on_epoch(epoch, head)
        clock["selection"] += time.perf_counter() - t1
        s = monitor.history[-1]
        epochs.append({"epoch": epoch, "loss": float(loss_sum) / nf})
        print(f"epoch {epoch}  loss {float(loss_sum) / nf:.4f}  synF {s['synF']:.3f}  "
              f"synFconf {s['synFconf']:.3f}  margin {s['margin']:+.2f}  synR {s['synR']:.3f}"
              f"{'  -> stop' if stop else ''}", flush=True)
        if stop:
            break
    if not monitor.stopped:
        monitor.stop_reason = "max_epochs"
    return epochs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="safetensors file from tools/convert_checkpoint.py")
    ap.add_argument("--classes", default="3", help="forget classes, e.g. 3 or 3,5")
    ap.add_argument("--samples-per-class", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="where to write the state dict (default: a temp file, removed)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    forget = [int(c) for c in args.classes.split(",")]
    clock = {"load": 0.0, "sampling": 0.0, "training": 0.0, "selection": 0.0, "save": 0.0}
    t_main = time.perf_counter()

    # 1. load + split at pre_logits
    tensors, meta = read_safetensors(args.model)
    if meta.get("arch") != "cifar_resnet20":
        sys.exit(f"error: {args.model}: arch {meta.get('arch')!r}, this script runs "
                 f"cifar_resnet20 only")
    model = CifarResNet(20, int(meta.get("num_classes", 10)))
    model.load_state_dict(tensors, strict=True)
    model.eval()
    head = model.linear
    d, k = head.in_features, head.out_features
    if any(c < 0 or c >= k for c in forget) or len(set(forget)) != len(forget) or \
            len(forget) >= k:
        sys.exit(f"error: bad --classes {args.classes} for {k} classes")
    clock["load"] = time.perf_counter() - t_main

    # 2. synthetic training set + held-out monitor set
    t = time.perf_counter()
    z, y, draws, targeted = sample_embeddings(head, d, k, args.samples_per_class)
    fmask = torch.zeros(k, dtype=torch.bool)
    fmask[forget] = True
    in_f = fmask[y]
    zf, yf, zr, yr = z[in_f], y[in_f], z[~in_f], y[~in_f]
    monitor = Monitor(head, d, k, forget)
    clock["sampling"] = time.perf_counter() - t

    # 3 + 4. method with the monitor
    epochs = neg_grad_plus(head, zf, yf, zr, yr, monitor, clock)
    sel = monitor.best_stats

    # 5. reassemble + save (atomic)
    t = time.perf_counter()
    head.load_state_dict(monitor.best)
    out = args.out
    tmpdir = None
    if out is None:
        tmpdir = tempfile.mkdtemp(prefix="pytorch_forget_")
        out = os.path.join(tmpdir, "forgotten.pt")
    tmp = f"{out}.tmp.{os.getpid()}"
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, out)
    clock["save"] = time.perf_counter() - t
    total = time.perf_counter() - t_main
    if tmpdir:
        os.remove(out)
        os.rmdir(tmpdir)

    print(f"stop: {monitor.stop_reason}; selected epoch {sel['epoch']} of {len(epochs)}: "
          f"synF {sel['synF']:.3f}  margin {sel['margin']:+.2f}  synR {sel['synR']:.3f}")
    print(f"draws: {draws} plain + {targeted} targeted for {z.shape[0]} kept "
          f"({draws / max(clock['sampling'], 1e-12):.3g} candidates/s over the sampling step, "
          f"held-out set included)")
    print(f"time: import {_T_IMPORTED - _T_START:.3f} s, load {clock['load']:.3f} s, sampling "
          f"{clock['sampling']:.3f} s, training {clock['training']:.3f} s, selection "
          f"{clock['selection']:.3f} s, save {clock['save']:.3f} s, total {total:.3f} s "
          f"(threads {torch.get_num_threads()}, torch {torch.__version__})")
    result = {"import_s": _T_IMPORTED - _T_START, "total_s": total, "epochs_run": len(epochs),
              "selected_epoch": sel["epoch"], "stop_reason": monitor.stop_reason,
              "draws": draws, "targeted_draws": targeted,
              **{k + "_s": v for k, v in clock.items()}}
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
