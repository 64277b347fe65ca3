#!/usr/bin/env python3
"""Regenerate the kernel-study tables of docs/kernels.md from Google Benchmark JSON.

Input: the JSON that obl_bench writes with --benchmark_out=FILE --benchmark_out_format=json (or
--benchmark_format=json on stdout) for the BM_study/ benchmarks of bench/kernels/bench_study.cpp:
    BM_study/<op>/<version>/<shape>/threads:<T>
with per-iteration work counters `flop`, `bytes`, `items`, and the two ceilings
    BM_study/peak/fma/...      register-only FMA loop, one thread
    BM_study/peak/write/...    memset of the philox study's output buffer, one thread
    BM_study/peak/normals/...  the production normal fill into a 256 KB (L2) buffer, one thread

Output: the text between the marker comments of the doc is replaced,
    <!-- kernel-table:machine -->  ...  <!-- /kernel-table:machine -->   how peak was computed
    <!-- kernel-table:<op> -->     ...  <!-- /kernel-table:<op> -->      one table per shape
Columns: version, idea (from the version list in kernels/study/<op>/<op>_study.h), threads,
median time, rate, % of peak, speed-up over the table's first row.

Time: the median over repetitions. Rows with one thread use the benchmark thread's CPU time
(cpu_time: on a shared machine, waiting for a core is not the kernel's time); rows with more
threads use the wall clock (real_time), as the benchmark itself does.

Peak (per thread, times the row's thread count):
  FLOP  --peak measured (default): the FMA loop's rate from the same JSON.
        --peak nominal: GHz x FMA units x SIMD lanes x 2, with GHz from the JSON's mhz_per_cpu
        (read from /proc/cpuinfo by Google Benchmark) or --ghz, lanes from the build's cpu_isa
        (avx512: 16, avx2: 8), FMA units from --fma-units (default 2).
  GB/s  (philox_normal) the memset rate from the same JSON: the generator is compute-bound, so
        this column only says how far it is from being limited by writing its output.
  draws (synth_sample) the draw limit of bench/README.md:
        T / (D / normals_per_s_1t + 2 D K / flops_per_s_1t), with normals_per_s_1t from
        BM_study/peak/normals (the production fill into one L2-resident sampler tile).

Usage:
  python3 tools/kernel_table.py study.json                 # rewrite docs/kernels.md
  python3 tools/kernel_table.py study.json --print         # print the tables, write nothing
  python3 tools/kernel_table.py study.json --check         # exit 1 if the doc is out of date
"""

import argparse
import json
import os
import re
import socket
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What each op's table reports: the rate column and the ceiling it is compared with.
OPS = {
    "gemm": {"rate": "GFLOP/s", "peak": "flop", "shape": "M x N x K"},
    "philox_normal": {"rate": "GB/s", "peak": "write", "shape": "normals"},
    "synth_sample": {"rate": "Mdraws/s", "peak": "draws", "shape": "D, K, candidates B"},
    "head_step": {"rate": "GFLOP/s", "peak": "flop", "shape": "N x D x K"},
}
LANES = {"avx512": 16, "avx2": 8}
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def fail(msg):
    print("error: " + msg, file=sys.stderr)
    sys.exit(2)


def load(paths):
    """Benchmarks and context of one or more JSON files (the first file's context wins)."""
    context, rows = None, []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"cannot read benchmark JSON {path}: {e}")
        if not isinstance(data, dict) or "benchmarks" not in data:
            fail(f"{path}: not Google Benchmark JSON (no 'benchmarks' list)")
        context = context or data.get("context", {})
        rows.extend(data["benchmarks"])
    return context, rows


NAME = re.compile(r"^BM_study/([^/]+)/([^/]+)/([^/]+)/threads:(\d+)")


def measurements(rows):
    """{(op, version, shape, threads): {seconds, flop, bytes, items, error}} from median times."""
    runs = {}
    for r in rows:
        m = NAME.match(r.get("run_name", r.get("name", "")))
        if not m:
            continue
        key = (m.group(1), m.group(2), m.group(3), int(m.group(4)))
        entry = runs.setdefault(key, {"iter": [], "median": None, "error": None, "row": r})
        if r.get("error_occurred"):
            entry["error"] = r.get("error_message", "error")
        elif r.get("run_type") == "aggregate":
            if r.get("aggregate_name") == "median":
                entry["median"] = r
        else:
            entry["iter"].append(r)
    out = {}
    for key, e in runs.items():
        threads = key[3]
        field = "cpu_time" if threads == 1 else "real_time"
        if e["error"]:
            out[key] = {"error": e["error"]}
            continue
        if e["iter"]:  # our own median (and best) over the repetitions
            times = [r[field] * UNIT_SECONDS[r.get("time_unit", "ns")] for r in e["iter"]]
            seconds, best = statistics.median(times), min(times)
            src = e["iter"][0]
        elif e["median"]:
            src = e["median"]
            seconds = best = src[field] * UNIT_SECONDS[src.get("time_unit", "ns")]
        else:
            continue
        out[key] = {"seconds": seconds, "best": best, "flop": src.get("flop", 0.0),
                    "bytes": src.get("bytes", 0.0), "items": src.get("items", 0.0),
                    "reps": len(e["iter"]) or None}
    return out


def ideas(op):
    """{version: one-line idea} from the version list atop kernels/study/<op>/<op>_study.h."""
    path = os.path.join(ROOT, "kernels", "study", op, op + "_study.h")
    result, current = {}, None
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return result
    for line in lines:
        m = re.match(r"^//   (v\d+_\w+)\s+(.*)$", line)
        if m:
            current = m.group(1)
            result[current] = m.group(2).strip()
            continue
        m = re.match(r"^//\s{6,}(\S.*)$", line)
        if current and m:
            result[current] += " " + m.group(1).strip()
        else:
            current = None
    return result


def fmt_time(s):
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_num(x):
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


class Peaks:
    """Per-thread ceilings from the JSON (and the nominal FLOP formula). A ceiling is the best
    rate seen, so these use the fastest repetition, not the median."""

    def __init__(self, context, meas, args):
        self.notes = []
        fma = next((v for k, v in meas.items() if k[0] == "peak" and k[1] == "fma"
                    and "seconds" in v), None)
        write = next((v for k, v in meas.items() if k[0] == "peak" and k[1] == "write"
                      and "seconds" in v), None)
        self.fma_measured = fma["flop"] / fma["best"] if fma else None
        self.write = write["bytes"] / write["best"] if write else None
        isa = context.get("cpu_isa", "unknown")
        ghz = args.ghz or (context.get("mhz_per_cpu", 0) / 1000.0)
        lanes = LANES.get(isa)
        self.fma_nominal = ghz * 1e9 * args.fma_units * lanes * 2 if (ghz and lanes) else None
        self.nominal_text = (
            f"{ghz:.3f} GHz x {args.fma_units} FMA units x {lanes} lanes ({isa}) x 2 flop = "
            f"{self.fma_nominal / 1e9:.1f} GFLOP/s per core" if self.fma_nominal else
            "unknown (no clock or ISA in the JSON)")
        self.flop = self.fma_measured if args.peak == "measured" else self.fma_nominal
        if self.flop is None:
            self.flop = self.fma_nominal or self.fma_measured
        # Normals per second of the production generator on one thread, into an L2-sized buffer
        # as the fused sampler uses it (the draw limit).
        gen = next((v for k, v in meas.items() if k[0] == "peak" and k[1] == "normals"
                    and "seconds" in v), None)
        self.normals = gen["items"] / gen["best"] if gen else None

    def draw_limit(self, shape):
        m = re.match(r"D(\d+)_K(\d+)_B(\d+)", shape)
        if not (m and self.normals and self.flop):
            return None
        d, k = int(m.group(1)), int(m.group(2))
        return 1.0 / (d / self.normals + 2.0 * d * k / self.flop)


def op_tables(op, meas, peaks):
    spec = OPS[op]
    idea = ideas(op)
    shapes = sorted({k[2] for k in meas if k[0] == op}, key=lambda s: [int(x) if x.isdigit()
                                                                       else x for x in
                                                                       re.split(r"(\d+)", s)])
    out = []
    for shape in shapes:
        keys = sorted((k for k in meas if k[0] == op and k[2] == shape),
                      key=lambda k: (int(re.match(r"v(\d+)", k[1]).group(1)) if
                                     re.match(r"v(\d+)", k[1]) else 99, k[3]))
        if len(shapes) > 1:
            out.append(f"**{shape}** ({spec['shape']})\n")
        out.append(f"| version | idea | threads | median time | {spec['rate']} | % of peak "
                   "| speed-up |")
        out.append("| --- | --- | --- | --- | --- | --- | --- |")
        # Speed-up over the table's first row (v1, or the first version timed at this shape).
        base = next((meas[k]["seconds"] for k in keys if "seconds" in meas[k]), None)
        for k in keys:
            v = meas[k]
            name, threads = k[1], k[3]
            text = idea.get(name, "")
            if "error" in v:
                out.append(f"| {name} | {text} | {threads} | skipped: {v['error']} | | | |")
                continue
            s = v["seconds"]
            if spec["peak"] == "flop":
                rate = v["flop"] / s / 1e9
                peak = peaks.flop * threads / 1e9 if peaks.flop else None
            elif spec["peak"] == "write":
                rate = v["bytes"] / s / 1e9
                peak = peaks.write * threads / 1e9 if peaks.write else None
            else:
                rate = v["items"] / s / 1e6
                limit = peaks.draw_limit(shape)
                peak = limit * threads / 1e6 if limit else None
            pct = f"{100.0 * rate / peak:.1f}%" if peak else "n/a"
            speedup = f"{base / s:.1f}x" if base else ""
            out.append(f"| {name} | {text} | {threads} | {fmt_time(s)} | {fmt_num(rate)} | "
                       f"{pct} | {speedup} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def cpu_model(context):
    """The CPU model from /proc/cpuinfo when the JSON was written on this host."""
    if context.get("host_name") != socket.gethostname():
        return "unknown (JSON from another host)"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine_block(context, peaks, args):
    cpus = context.get("num_cpus", 0)
    load = context.get("load_avg") or []
    lines = [
        f"- Run: {context.get('date', '?')}, host `{context.get('host_name', '?')}`, "
        f"{cpu_model(context)}, {cpus} CPUs at {context.get('mhz_per_cpu', '?')} MHz "
        f"(/proc/cpuinfo), kernels chosen for `{context.get('cpu_isa', '?')}` "
        f"(`oblivio info`), default OpenMP threads {context.get('omp_threads', '?')}.",
    ]
    if load:
        loaded = cpus and load[0] > 0.5 * cpus
        lines.append(
            f"- Load average at the start: {', '.join(f'{x:.2f}' for x in load)}" +
            (f". **Measured on a shared, loaded {cpus}-core machine**: one-thread rows use the "
             "thread's CPU time, which leaves out waiting for a core but not the other "
             "processes' use of the caches and memory; two-thread rows (wall clock) mostly "
             "measure the load." if loaded else "."))
    fm = f"{peaks.fma_measured / 1e9:.1f} GFLOP/s" if peaks.fma_measured else "not measured"
    lines.append(f"- FLOP peak per core, measured (FMA loop `BM_study/peak/fma`, best "
                 f"repetition): {fm}.")
    lines.append(f"- FLOP peak per core, nominal: {peaks.nominal_text}.")
    used = "measured" if peaks.flop == peaks.fma_measured else "nominal"
    lines.append(f"- The % of peak column uses the **{used}** FLOP peak x threads "
                 f"(`--peak {args.peak}`).")
    if peaks.write:
        lines.append(f"- Write ceiling per core (memset of 4 MB, `BM_study/peak/write`, best "
                     f"repetition): {peaks.write / 1e9:.1f} GB/s.")
    if peaks.normals:
        lines.append(f"- Normals per second per core (production fill into a 256 KB buffer, "
                     f"`BM_study/peak/normals`, best repetition): {peaks.normals / 1e6:.0f} M/s; "
                     "with the FLOP peak it gives "
                     "the sampler's draw limit. Rows of other ops use the median, so a row can "
                     "exceed 100% by the noise between two measurements.")
    return "\n".join(lines) + "\n"


def replace_block(doc, name, body):
    begin, end = f"<!-- kernel-table:{name} -->", f"<!-- /kernel-table:{name} -->"
    i, j = doc.find(begin), doc.find(end)
    if i < 0 or j < i:
        print(f"warning: no '{begin}' ... '{end}' markers in the doc; block skipped",
              file=sys.stderr)
        return doc
    return doc[:i + len(begin)] + "\n" + body + doc[j:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("json", nargs="+", help="Google Benchmark JSON file(s) with BM_study/ rows")
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "kernels.md"),
                   help="markdown file with the marker comments (default: docs/kernels.md)")
    p.add_argument("--peak", choices=["measured", "nominal"], default="measured",
                   help="FLOP peak for the %% column (default: measured FMA loop)")
    p.add_argument("--ghz", type=float, default=0.0,
                   help="clock for the nominal peak (default: the JSON's mhz_per_cpu)")
    p.add_argument("--fma-units", type=int, default=2,
                   help="FMA instructions per cycle of the full SIMD width (default 2)")
    p.add_argument("--print", action="store_true", help="print the blocks, write nothing")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if the doc differs from the regenerated one")
    args = p.parse_args()
    if args.fma_units < 1:
        fail(f"--fma-units must be >= 1, got {args.fma_units}")

    context, rows = load(args.json)
    meas = measurements(rows)
    if not any(k[0] in OPS for k in meas):
        fail("no BM_study/<op>/... rows in " + ", ".join(args.json) +
             " (run obl_bench with --benchmark_filter='BM_study/')")
    peaks = Peaks(context, meas, args)
    blocks = {"machine": machine_block(context, peaks, args)}
    for op in OPS:
        if any(k[0] == op for k in meas):
            blocks[op] = op_tables(op, meas, peaks)

    if args.print:
        for name, body in blocks.items():
            print(f"## {name}\n\n{body}")
        return 0
    try:
        with open(args.doc, encoding="utf-8") as f:
            doc = f.read()
    except OSError as e:
        fail(f"cannot read {args.doc}: {e}")
    new = doc
    for name, body in blocks.items():
        new = replace_block(new, name, body)
    if args.check:
        if new != doc:
            print(f"{args.doc} is out of date", file=sys.stderr)
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(args.doc)), suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, args.doc)
    print(f"updated {args.doc}: {', '.join(blocks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
