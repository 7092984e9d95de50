#!/usr/bin/env python3
"""Summarize a Google Benchmark JSON file of SFC convolution benchmarks.

Reads the output of, e.g.,

    bench_conv_f32 --benchmark_repetitions=5 --benchmark_out=conv_f32.json \\
                   --benchmark_out_format=json

whose benchmark names follow

    conv_<dtype>/<impl>/<layer>/b<batch>/t<threads>[/<google benchmark suffix>...]

(dtype f32 today; s8, u8 or any other tag works the same). For every
(dtype, layer, batch, threads) it takes the median real time of each
implementation: the "median" aggregate when the run had repetitions,
otherwise the median of the iteration rows. It then

  * prints a markdown table to stdout: time (ms), GFLOP/s (when the benchmark
    reported that counter) and the speed-up of each implementation over each
    baseline (default: onednn_direct and im2col_eigen); speed-up = baseline
    time / implementation time, so > 1 is faster than the baseline;
  * with --png PATH, draws a bar chart of the speed-up over the first baseline:
    one bar group per layer and batch, one panel per dtype and thread count.

The chart needs matplotlib (Debian: python3-matplotlib); the table needs only
the standard library.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

NAME_RE = re.compile(
    r"^conv_(?P<dtype>[A-Za-z0-9]+)/(?P<impl>[^/]+)/(?P<layer>[^/]+)"
    r"/b(?P<batch>\d+)/t(?P<threads>\d+)(?:/.*)?$"
)

TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True, order=True)
class Key:
    """One measured configuration, without the implementation."""

    dtype: str
    layer: str
    batch: int
    threads: int


@dataclass
class Result:
    impl: str
    time_ms: float | None = None  # None: skipped or failed
    gflops: float | None = None
    error: str | None = None
    label: str | None = None


@dataclass
class Collected:
    """Rows of one benchmark (one run_name) before reduction."""

    key: Key
    impl: str
    median_row: dict | None = None
    iteration_rows: list[dict] = field(default_factory=list)
    error: str | None = None


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Markdown table and speed-up chart from SFC convolution benchmark JSON.")
    p.add_argument("json", type=Path, help="Google Benchmark JSON output (--benchmark_out=...)")
    p.add_argument("--png", type=Path, help="write the speed-up bar chart to this PNG file")
    p.add_argument(
        "--baseline", action="append", dest="baselines", metavar="IMPL",
        help="implementation to compare against (repeatable; the first one is charted); "
        "default: onednn_direct, im2col_eigen")
    p.add_argument(
        "--chart-exclude", action="append", metavar="IMPL",
        help="implementation left out of the chart (repeatable); default: naive")
    p.add_argument("--threads", type=int, action="append",
                   help="only these thread counts (repeatable); default: all")
    p.add_argument("--title", default=None, help="chart title")
    args = p.parse_args(argv)
    if not args.baselines:
        args.baselines = ["onednn_direct", "im2col_eigen"]
    if args.chart_exclude is None:
        args.chart_exclude = ["naive"]
    return args


def benchmark_run_name(row: dict) -> str:
    """The benchmark's name without the aggregate suffix (_mean, _median...)."""
    if "run_name" in row:
        return row["run_name"]
    name = row.get("name", "")
    aggregate = row.get("aggregate_name")
    if aggregate and name.endswith("_" + aggregate):
        name = name[: -len(aggregate) - 1]
    return name


def collect(rows: list[dict]) -> tuple[dict[str, Collected], list[str]]:
    """Groups the JSON rows by benchmark. Returns them and the names, in order."""
    by_name: dict[str, Collected] = {}
    order: list[str] = []
    for row in rows:
        run_name = benchmark_run_name(row)
        m = NAME_RE.match(run_name)
        if not m:
            continue  # not a convolution benchmark of this naming scheme
        if run_name not in by_name:
            key = Key(m["dtype"], m["layer"], int(m["batch"]), int(m["threads"]))
            by_name[run_name] = Collected(key=key, impl=m["impl"])
            order.append(run_name)
        c = by_name[run_name]
        if row.get("error_occurred"):
            c.error = row.get("error_message") or "skipped"
            continue
        if row.get("run_type") == "aggregate":
            # Aggregates of the time itself (aggregate_unit "time"); skip the
            # percentage rows (coefficient of variation) and others.
            if row.get("aggregate_name") == "median" and row.get("aggregate_unit", "time") == "time":
                c.median_row = row
        else:
            c.iteration_rows.append(row)
    return by_name, order


def row_time_ms(row: dict) -> float:
    return float(row["real_time"]) * TO_MS[row.get("time_unit", "ns")]


def reduce(c: Collected) -> Result:
    """Median time (and GFLOP/s) of one benchmark."""
    if c.median_row is not None:
        gflops = c.median_row.get("GFLOP/s")
        return Result(c.impl, row_time_ms(c.median_row), gflops, None, c.median_row.get("label"))
    if c.iteration_rows:
        times = [row_time_ms(r) for r in c.iteration_rows]
        rates = [r["GFLOP/s"] for r in c.iteration_rows if "GFLOP/s" in r]
        label = c.iteration_rows[0].get("label")
        return Result(c.impl, statistics.median(times),
                      statistics.median(rates) if rates else None, None, label)
    return Result(c.impl, None, None, c.error or "no measurement", None)


def summarize(rows: list[dict], threads: list[int] | None) -> dict[Key, list[Result]]:
    """Results per configuration, both in order of first appearance."""
    by_name, order = collect(rows)
    table: dict[Key, list[Result]] = {}
    for name in order:
        c = by_name[name]
        if threads and c.key.threads not in threads:
            continue
        table.setdefault(c.key, []).append(reduce(c))
    return table


def speedup(baseline: Result | None, r: Result) -> float | None:
    if baseline is None or baseline.time_ms is None or r.time_ms is None or r.time_ms <= 0:
        return None
    return baseline.time_ms / r.time_ms


def fmt(x: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if x is None else f"{x:.{digits}f}{suffix}"


def fmt_time(ms: float) -> str:
    if ms >= 100:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.3f}"
    return f"{ms:.4f}"


def markdown(table: dict[Key, list[Result]], baselines: list[str]) -> str:
    lines: list[str] = []
    dtypes = list(dict.fromkeys(k.dtype for k in table))
    for dtype in dtypes:
        lines.append(f"### conv_{dtype}: median time per convolution")
        lines.append("")
        header = ["layer", "batch", "threads", "impl", "time (ms)", "GFLOP/s"]
        header += [f"vs {b}" for b in baselines]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] * 4 + ["---:"] * (len(header) - 4)) + "|")
        for key, results in table.items():
            if key.dtype != dtype:
                continue
            by_impl = {r.impl: r for r in results}
            first = True
            for r in results:
                group = [key.layer, f"{key.batch}", f"{key.threads}"] if first else ["", "", ""]
                first = False
                if r.time_ms is None:
                    reason = (r.error or "").replace("|", "/")
                    if len(reason) > 90:
                        reason = reason[:87] + "..."
                    cells = group + [r.impl, f"skipped: {reason}", "-"] + ["-"] * len(baselines)
                else:
                    cells = group + [r.impl, fmt_time(r.time_ms), fmt(r.gflops, 1)]
                    cells += [fmt(speedup(by_impl.get(b), r), 2, "x") for b in baselines]
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def chart(table: dict[Key, list[Result]], baseline: str, exclude: list[str], path: Path,
          title: str | None) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit(f"plot_bench.py: the chart needs matplotlib, which {sys.executable} cannot "
                 "import (Debian: apt-get install python3-matplotlib, then run the script "
                 "with /usr/bin/python3); the table above needs nothing else")

    panels = sorted({(k.dtype, k.threads) for k in table})
    impls = list(dict.fromkeys(
        r.impl for rs in table.values() for r in rs if r.impl not in exclude and r.impl != baseline))
    cmap = plt.get_cmap("tab20" if len(impls) > 10 else "tab10")
    color = {impl: cmap(i % cmap.N) for i, impl in enumerate(impls)}

    # One bar group per (layer, batch); only the implementations measured in a
    # group get a bar, so a 5x5 layer with three entries has no empty slots.
    bar_width = 0.8
    max_group = 1
    panel_groups = []
    for dtype, threads in panels:
        groups = []
        for key, results in table.items():
            if key.dtype != dtype or key.threads != threads:
                continue
            by_impl = {r.impl: r for r in results}
            bars = [(r.impl, speedup(by_impl.get(baseline), r)) for r in results
                    if r.impl in color]
            bars = [(impl, s) for impl, s in bars if s is not None]
            groups.append((f"{key.layer} b{key.batch}", bars))
            max_group = max(max_group, len(bars))
        panel_groups.append(groups)

    n_groups = max((len(g) for g in panel_groups), default=1)
    fig_w = max(8.0, 0.9 * n_groups * max(1.0, max_group / 6))
    fig, axes = plt.subplots(len(panels), 1, figsize=(fig_w, 4.2 * len(panels)), squeeze=False)
    for ax, (dtype, threads), groups in zip(axes[:, 0], panels, panel_groups):
        width = bar_width / max_group  # same bar width everywhere, groups centred
        for gi, (_, bars) in enumerate(groups):
            for bi, (impl, s) in enumerate(bars):
                x = gi + (bi - (len(bars) - 1) / 2) * width
                ax.bar(x, s, width=width, color=color[impl])
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([label for label, _ in groups], fontsize=7, rotation=30, ha="right")
        ax.set_ylabel(f"speed-up over {baseline}")
        ax.set_title(f"conv_{dtype}, {threads} thread{'s' if threads != 1 else ''}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=color[i]) for i in impls]
    fig.legend(handles, impls, loc="upper center", ncol=min(len(impls), 6), fontsize=8,
               bbox_to_anchor=(0.5, 1.0))
    if title:
        fig.suptitle(title, y=1.04)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    data = json.loads(args.json.read_text())
    rows = data.get("benchmarks", [])
    table = summarize(rows, args.threads)
    if not table:
        print(f"plot_bench.py: no conv_<dtype>/<impl>/<layer>/b<N>/t<N> benchmarks in {args.json}",
              file=sys.stderr)
        return 1
    context = data.get("context", {})
    notes = [f"{k}: {context[k]}" for k in ("onednn_version", "onednn_isa", "DNNL_MAX_CPU_ISA",
                                             "num_cpus", "date") if k in context]
    if notes:
        print("<!-- " + "; ".join(str(n) for n in notes) + " -->\n")
    print(markdown(table, args.baselines))
    if args.png:
        chart(table, args.baselines[0], args.chart_exclude, args.png, args.title)
        print(f"chart: {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
