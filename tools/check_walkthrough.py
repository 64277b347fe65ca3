#!/usr/bin/env python3
"""Runs docs/walkthrough.md and checks that what it quotes is still true (ctest: DocWalkthrough).

Usage: tools/check_walkthrough.py OBLIVIO_BINARY [--doc docs/walkthrough.md] [--keep DIR]

The walkthrough marks its fenced blocks by their info string:

  ```sh walkthrough NAME   a command block: run with bash (set -euo pipefail) from the repository
                           root, in document order, after three substitutions:
                             build/oblivio      -> OBLIVIO_BINARY (the binary under test)
                             runs/walkthrough   -> a fresh temporary directory (--keep DIR: DIR)
                             python3            -> a Python with torch and numpy (OBL_PYTHON, else
                                                   /usr/bin/python3, else this interpreter)
                           and ../shared -> $OBL_SHARED_DIR when that is set.
                           Environment: OMP_NUM_THREADS=1 (the doc's figures were made with it).
  ```text expect NAME      output the doc quotes: every non-blank line must occur in ONE line of
                           the output of command block NAME, which must come earlier in the doc
                           (without NAME: the nearest command block above). Runs of whitespace
                           count as one space; "..." in a quoted line skips any text on that line.
  ```text quote FILE       a quotation of the comments of FILE (repository-relative): the block,
                           whitespace-collapsed, must occur in FILE's text with comment markers
                           (//, #, *) removed and whitespace collapsed ("..." skips any text).

Every `path/file.ext:name` citation in the prose must name an existing file that contains `name`.

Exit status: 0 all checks passed; 1 a check failed (each failure is printed with the block's line
in the doc); 2 usage error; 77 skipped (../shared, the CIFAR-10 data or python3-torch absent), with
the reason on stdout.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FENCE = re.compile(r"^```(.*)$")
CITATION = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:h|cpp|cu|py|sh|md|yaml)):([A-Za-z_][\w:~]*)`")


def collapse(text):
    return " ".join(text.split())


def matches(pattern, text):
    """True when the '...'-separated fragments of `pattern` occur in `text` in order."""
    pos = 0
    for part in (collapse(p) for p in pattern.split("...")):
        if not part:
            continue
        found = text.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def parse_blocks(doc_text):
    """[(kind, arg, first_line_number, text)] for the marked fenced blocks, in order."""
    blocks, lines, i = [], doc_text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        info, start, body = m.group(1).split(), i + 1, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        text = "\n".join(body)
        name = info[2] if len(info) > 2 else None
        if info[:2] == ["sh", "walkthrough"]:
            blocks.append(("run", name, start, text))
        elif info[:2] == ["text", "expect"]:
            blocks.append(("expect", name, start, text))
        elif info[:2] == ["text", "quote"] and len(info) == 3:
            blocks.append(("quote", info[2], start, text))
    return blocks


def comment_text(path):
    """The file's text without comment markers, whitespace-collapsed."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    return collapse(re.sub(r"(//+|^\s*#+|^\s*\*+|/\*+|\*+/)", " ", raw, flags=re.M))


def find_python():
    """A Python with torch and numpy, or None."""
    candidates = [os.environ.get("OBL_PYTHON"), "/usr/bin/python3", sys.executable]
    for exe in filter(None, candidates):
        if not os.path.exists(exe):
            continue
        ok = subprocess.run([exe, "-c", "import torch, numpy"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode == 0
        if ok:
            return exe
    return None


def substitute(text, binary, workdir, python, shared):
    text = re.sub(r"(?<![\w/.-])build/oblivio\b", binary, text)
    text = re.sub(r"(?<![\w/.-])runs/walkthrough\b", workdir, text)
    text = re.sub(r"(?<![\w/.-])python3\b", python, text)
    if shared:
        text = re.sub(r"(?<![\w/.-])\.\./shared\b", shared, text)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", help="the oblivio binary to run the walkthrough with")
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "walkthrough.md"))
    ap.add_argument("--keep", help="run in this directory (created) and keep it")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        print(f"error: {binary} is not an executable file")
        return 2
    with open(args.doc, encoding="utf-8") as f:
        doc_text = f.read()
    blocks = parse_blocks(doc_text)
    failures = []

    # Static checks first (no data needed): citations and quotations.
    for cited, name in sorted(set(CITATION.findall(doc_text))):
        path = os.path.join(ROOT, cited)
        if not os.path.isfile(path):
            failures.append(f"citation `{cited}:{name}`: no file {cited}")
            continue
        with open(path, encoding="utf-8") as f:
            if name.split("::")[-1] not in f.read():
                failures.append(f"citation `{cited}:{name}`: {cited} has no '{name}'")
    for kind, arg, line, text in blocks:
        if kind == "quote":
            path = os.path.join(ROOT, arg)
            if not os.path.isfile(path):
                failures.append(f"doc line {line}: quoted file {arg} does not exist")
            elif not matches(collapse(text), comment_text(path)):
                failures.append(f"doc line {line}: the quotation is no longer in {arg}:\n{text}")
    runs = [b for b in blocks if b[0] == "run"]
    seen = set()
    for kind, name, line, _ in blocks:
        if kind == "run" and name:
            if name in seen:
                failures.append(f"doc line {line}: a second command block named {name}")
            seen.add(name)
        elif kind == "expect" and name and name not in seen:
            failures.append(f"doc line {line}: no command block {name} before this block")
    if not runs:
        failures.append(f"{args.doc}: no ```sh walkthrough block")

    # What the commands need.
    shared = os.environ.get("OBL_SHARED_DIR")
    shared_dir = shared or os.path.join(ROOT, "..", "shared")
    for need in ("models/cifar10-resnet-akamaster", "data/cifar-10-batches-bin"):
        if not os.path.isdir(os.path.join(shared_dir, need)):
            for msg in failures:
                print("FAIL " + msg)
            print(f"skipped: {os.path.join(shared_dir, need)} not found (set OBL_SHARED_DIR)")
            return 1 if failures else 77
    python = find_python()
    if python is None:
        for msg in failures:
            print("FAIL " + msg)
        print("skipped: no Python with torch and numpy (apt-get install python3-torch, or set "
              "OBL_PYTHON); the walkthrough converts the checkpoint with it")
        return 1 if failures else 77

    workdir = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="walkthrough.")
    os.makedirs(workdir, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    output, outputs, ran = None, {}, 0
    try:
        for kind, name, line, text in blocks:
            if kind == "run":
                script = "set -euo pipefail\n" + substitute(text, binary, workdir, python, shared)
                t0 = time.time()
                proc = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                output = proc.stdout
                if name:
                    outputs[name] = output
                ran += 1
                print(f"doc line {line}: ran in {time.time() - t0:.1f} s, exit {proc.returncode}")
                if proc.returncode != 0:
                    failures.append(f"doc line {line}: the commands failed (exit "
                                    f"{proc.returncode}); output:\n{output}")
                    break
            elif kind == "expect":
                source = outputs.get(name) if name else output
                if source is None:
                    if not name:  # a named one is reported by the static checks
                        failures.append(f"doc line {line}: no command block before this one")
                    continue
                out_lines = [collapse(l) for l in source.splitlines()]
                for want in filter(None, (collapse(l) for l in text.splitlines())):
                    if not any(matches(want, got) for got in out_lines):
                        failures.append(f"doc line {line}: not in the output of block "
                                        f"{name or '(nearest)'}: '{want}'")
        if failures and output is not None:
            print("---- output of the last command block run ----\n" + output.rstrip())
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    for msg in failures:
        print("FAIL " + msg)
    expects = sum(1 for b in blocks if b[0] == "expect")
    quotes = sum(1 for b in blocks if b[0] == "quote")
    cites = len(set(CITATION.findall(doc_text)))
    status = "FAILED" if failures else "passed"
    print(f"walkthrough {status}: {ran}/{len(runs)} command blocks run, {expects} output blocks, "
          f"{quotes} quotations, {cites} citations checked; {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
