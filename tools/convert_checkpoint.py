#!/usr/bin/python3
"""Convert a PyTorch checkpoint into safetensors for oblivio.

    tools/convert_checkpoint.py IN.th OUT.safetensors --arch cifar_resnet20 [--num-classes 10]
    tools/convert_checkpoint.py --check IN.th OUT.safetensors

!!! TRUSTED FILES ONLY !!!  PyTorch checkpoints are pickles: loading one can run arbitrary code.
This script unpickles its input (torch.load) and must only be given files you trust. oblivio's
C++ side never unpickles anything; it reads only the safetensors file this script writes.

Accepted inputs: a plain state_dict; a dict holding it under "state_dict" (or "model"); keys with
DataParallel's "module." prefix (stripped); tensors saved on CUDA (loaded on the CPU). Output
keeps PyTorch's parameter names and adds metadata: arch, num_classes, source file name and
sha256, torch (and torchvision) version. The safetensors file is written by this script itself
(no extra package), atomically. --check re-reads both files and verifies every tensor is equal
bit for bit; it exits non-zero on any difference.

Uses Debian's python3-torch (apt-get install python3-torch); tools only, never the framework.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import torch

WARNING = ("WARNING: this converter unpickles its input with torch.load. Only convert checkpoints "
           "you trust: a malicious pickle can run arbitrary code.")

DTYPES = {  # torch dtype -> (safetensors name, reinterpret-as dtype for raw bytes)
    torch.float32: ("F32", torch.float32),
    torch.float64: ("F64", torch.float64),
    torch.float16: ("F16", torch.float16),
    torch.bfloat16: ("BF16", torch.int16),
    torch.int64: ("I64", torch.int64),
    torch.int32: ("I32", torch.int32),
    torch.uint8: ("U8", torch.uint8),
    torch.bool: ("U8", torch.uint8),
}

HEAD_KEYS = ("fc.weight", "linear.weight", "heads.head.weight", "head.weight", "classifier.weight")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu")  # unpickles: trusted files only
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        sys.exit(f"error: {path}: expected a state_dict (a dict of tensors), got {type(obj).__name__}")
    out = {}
    for name, value in obj.items():
        if not torch.is_tensor(value):
            continue  # e.g. best_prec1 stored next to the weights
        name = name[len("module."):] if name.startswith("module.") else name
        if name in out:
            sys.exit(f"error: {path}: duplicate tensor name {name!r} after stripping 'module.'")
        out[name] = value.detach().cpu().contiguous()
    if not out:
        sys.exit(f"error: {path}: no tensors found")
    return out


def tensor_bytes(t):
    if t.dtype not in DTYPES:
        sys.exit(f"error: unsupported tensor dtype {t.dtype}")
    name, raw = DTYPES[t.dtype]
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return name, t.view(raw).numpy().tobytes() if t.numel() else b""


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        dtype, data = tensor_bytes(tensors[name])
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_safetensors(path):
    """Reads our own output back (no pickle involved)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], tuple(e["shape"]), data[base + b:base + end])
    return out, meta


def check(src, dst):
    original = load_state_dict(src)
    converted, meta = read_safetensors(dst)
    problems = []
    for name in sorted(set(original) | set(converted)):
        if name not in converted:
            problems.append(f"missing in {dst}: {name}")
        elif name not in original:
            problems.append(f"unexpected in {dst}: {name}")
        else:
            dtype, data = tensor_bytes(original[name])
            c_dtype, c_shape, c_data = converted[name]
            if (dtype, tuple(original[name].shape), data) != (c_dtype, c_shape, c_data):
                problems.append(f"differs: {name}")
    for p in problems:
        print(p)
    print(f"checked {len(original)} tensors: {'bit-identical' if not problems else 'MISMATCH'}; "
          f"metadata {meta}")
    return 0 if not problems else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="PyTorch checkpoint (.th/.pt/.pth) - trusted files only")
    ap.add_argument("output", help="safetensors file to write (or to check)")
    ap.add_argument("--arch", help="architecture name stored in the metadata, e.g. cifar_resnet20")
    ap.add_argument("--num-classes", type=int, help="default: rows of the final linear layer")
    ap.add_argument("--check", action="store_true", help="verify OUTPUT against INPUT bit for bit")
    args = ap.parse_args()
    print(WARNING, file=sys.stderr)
    if not os.path.isfile(args.input):
        sys.exit(f"error: {args.input}: no such file")
    if args.check:
        sys.exit(check(args.input, args.output))
    if not args.arch:
        sys.exit("error: --arch is required when converting (e.g. --arch cifar_resnet20)")
    if os.path.abspath(args.input) == os.path.abspath(args.output):
        sys.exit("error: output would overwrite the input")
    tensors = load_state_dict(args.input)
    num_classes = args.num_classes
    if num_classes is None:
        head = next((k for k in HEAD_KEYS if k in tensors), None)
        if head is None:
            sys.exit("error: cannot infer num_classes (no known head weight); pass --num-classes")
        num_classes = int(tensors[head].shape[0])
    meta = {"arch": args.arch, "num_classes": str(num_classes),
            "source": os.path.basename(args.input), "source_sha256": sha256_of(args.input),
            "torch_version": torch.__version__, "converter": "oblivio tools/convert_checkpoint.py"}
    try:
        import torchvision
        meta["torchvision_version"] = torchvision.__version__
    except ImportError:
        pass
    write_safetensors(args.output, tensors, meta)
    print(f"input  sha256 {meta['source_sha256']}  {args.input}")
    print(f"output sha256 {sha256_of(args.output)}  {args.output}")
    print(f"{len(tensors)} tensors, arch {args.arch}, num_classes {num_classes}")


if __name__ == "__main__":
    main()
