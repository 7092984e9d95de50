#!/usr/bin/env python3
"""Compare two builds of a Google Benchmark binary on a noisy machine.

Runs binary A and binary B alternately (A, B, A, B, ...) for --rounds
rounds with the same --benchmark_filter, so that slow phases of the machine
hit both alike, and prints per entry the median time of each binary, the
ratio B / A (< 1: B is faster) and every round's times. With --control
NAME (a substring of the implementation part of entry names, for entries
whose code is the same in both builds, e.g. onednn_direct), it also prints
per entry B's median over rounds of (entry time / control time of the same
layer, batch and threads in the same run) divided by A's: the change once
the machine's drift between runs is taken out. This is how bench/RESULTS.md's "old/new alternating" figures
are measured, e.g.

    scripts/compare_bench.py /tmp/old/bench_conv_int8 build/release/bench/bench_conv_int8 \\
        --filter 'conv_int8/(onednn_direct|sfc6_7_3_q8_nhwc)/resnet18_k3_c128_28/b[18]/t1/' \\
        --rounds 4 --control onednn_direct

Extra arguments after `--` go to both binaries (e.g. -- --benchmark_min_time=0.3).
Environment variables (DNNL_MAX_CPU_ISA, ...) pass through. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

# conv_<dtype>/<impl>/<layer>/b<batch>/t<threads>/...: the key of the control
# entry an entry is compared with is everything after the implementation.
CASE_RE = re.compile(r"^(?P<prefix>[^/]+)/(?P<impl>[^/]+)/(?P<case>.*)$")


def run_once(binary: str, bench_filter: str, extra: list[str]) -> dict[str, float]:
    """Real time (ms) of every entry of one run of `binary`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [binary, f"--benchmark_filter={bench_filter}", f"--benchmark_out={out}",
               "--benchmark_out_format=json", *extra]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        data = json.loads(out.read_text())
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    times: dict[str, list[float]] = defaultdict(list)
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        times[b["run_name"]].append(b["real_time"] * scale[b.get("time_unit", "ns")])
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Arguments after -- go to both binaries.")
    parser.add_argument("a", help="binary A (e.g. the old build)")
    parser.add_argument("b", help="binary B (e.g. the new build)")
    parser.add_argument("--filter", required=True, help="--benchmark_filter for both")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--control", help="substring of the entries run unchanged in both")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    runs: dict[str, dict[str, list[float]]] = {"a": defaultdict(list), "b": defaultdict(list)}
    for r in range(args.rounds):
        for side, binary in (("a", args.a), ("b", args.b)):
            for name, t in run_once(binary, args.filter, extra).items():
                runs[side][name].append(t)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    names = sorted(set(runs["a"]) & set(runs["b"]))
    if not names:
        print("no entry ran in both binaries", file=sys.stderr)
        return 1
    ratio = {n: statistics.median(runs["b"][n]) / statistics.median(runs["a"][n]) for n in names}
    # Per binary, the median over rounds of entry time / control time in the
    # same run; then B's over A's.
    control: dict[str, float] = {}
    if args.control:
        control_of = {}
        for n in names:
            m = CASE_RE.match(n)
            if m and args.control in m.group("impl"):
                control_of[m.group("case")] = n
        for n in names:
            m = CASE_RE.match(n)
            c = control_of.get(m.group("case")) if m else None
            if c is None:
                continue
            relative = {side: statistics.median(t / u for t, u in zip(runs[side][n], runs[side][c]))
                        for side in ("a", "b")}
            control[n] = relative["b"] / relative["a"]

    header = "| entry | A median (ms) | B median (ms) | B / A |"
    if control:
        header += " B / A over control |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for n in names:
        row = (f"| {n} | {statistics.median(runs['a'][n]):.4g} | "
               f"{statistics.median(runs['b'][n]):.4g} | {ratio[n]:.3f} |")
        if control:
            row += f" {control[n]:.3f} |" if n in control else " |"
        print(row)
    print()
    for n in names:
        a = ", ".join(f"{t:.4g}" for t in runs["a"][n])
        b = ", ".join(f"{t:.4g}" for t in runs["b"][n])
        print(f"{n}: A [{a}]  B [{b}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
