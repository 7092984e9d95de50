#!/usr/bin/env python3
"""Chart (and tabulate) the numerical-error measurements of example 03.

Reads the JSON lines of

    03_numerical_error --json > numerical_error.jsonl

(one object per algorithm: name, display_name, family, mults_per_output,
cin, cout, tiles, seed, and for each arithmetic "fp16", "fp16_fp32acc" and
"int8_transform" and each input distribution "normal" and "nonneg" the
normalized error "ratio" = RMS error / RMS error of direct convolution in the
same arithmetic) and

  * with --png PATH (default docs/numerical_error.png), draws one panel per
    arithmetic: a bar per algorithm and input distribution, log scale, with
    direct convolution at 1;
  * with --markdown, prints the table as markdown to stdout.

Usage:
    scripts/plot_numerical_error.py numerical_error.jsonl [--png PATH] [--markdown]
    03_numerical_error --json | scripts/plot_numerical_error.py -

The chart needs matplotlib (Debian: python3-matplotlib); the table needs only
the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ARITHMETICS = [
    ("fp16", "fp16 everywhere"),
    ("fp16_fp32acc", "fp16 storage, fp32 accumulation"),
    ("int8_transform", "int8 transform domain"),
]
DISTRIBUTIONS = [("normal", "N(0,1) inputs"), ("nonneg", "non-negative inputs")]


def read_rows(source: str) -> list[dict]:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"{source}:{number}: not a JSON line ({e})")
        for key in ("name", "display_name", "family", "mults_per_output"):
            if key not in row:
                sys.exit(f"{source}:{number}: missing key '{key}'")
        for arith, _ in ARITHMETICS:
            for dist, _ in DISTRIBUTIONS:
                if "ratio" not in row.get(arith, {}).get(dist, {}):
                    sys.exit(f"{source}:{number}: missing {arith}.{dist}.ratio")
        rows.append(row)
    if not rows:
        sys.exit(f"{source}: no results")
    return rows


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def markdown(rows: list[dict]) -> str:
    head = ["algorithm", "mults/output"]
    for _, label in ARITHMETICS:
        for dist, _ in DISTRIBUTIONS:
            head.append(f"{label}, {'normal' if dist == 'normal' else 'non-neg'}")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["display_name"], f"{r['mults_per_output']:.2f}"]
        for arith, _ in ARITHMETICS:
            for dist, _ in DISTRIBUTIONS:
                cells.append(fmt(r[arith][dist]["ratio"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = rows[0]
    names = [
        r["display_name"].replace("Winograd ", "Winograd\n")
        + f"\n{r['mults_per_output']:.2f} mults/out"
        for r in rows
    ]
    colors = {"sfc": ("#1f77b4", "#9ecae1"), "winograd": ("#d62728", "#fcae91")}
    fig, axes = plt.subplots(len(ARITHMETICS), 1, figsize=(11, 10), sharex=True)
    width = 0.38
    for ax, (arith, title) in zip(axes, ARITHMETICS):
        for k, (dist, label) in enumerate(DISTRIBUTIONS):
            xs = [i + (k - 0.5) * width for i in range(len(rows))]
            values = [r[arith][dist]["ratio"] for r in rows]
            bar_colors = [colors.get(r["family"], ("gray", "lightgray"))[k] for r in rows]
            bars = ax.bar(
                xs,
                [v if v is not None else float("nan") for v in values],
                width,
                color=bar_colors,
                edgecolor="black",
                linewidth=0.5,
                label=label,
            )
            for bar, v in zip(bars, values):
                if v is not None:
                    ax.annotate(
                        f"{v:.1f}" if v < 10 else f"{v:.0f}",
                        (bar.get_x() + bar.get_width() / 2, v),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                    )
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_yscale("log")
        ax.set_ylabel("error / direct's")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", which="both", alpha=0.3)
        low = min(r[arith][d]["ratio"] or 1 for r in rows for d, _ in DISTRIBUTIONS)
        high = max(r[arith][d]["ratio"] or 1 for r in rows for d, _ in DISTRIBUTIONS)
        ax.set_ylim(min(0.1, low / 1.5), high * 2.5)
    # Legend: dark = normal inputs, light = non-negative inputs; blue SFC, red Winograd.
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=colors[family][k], edgecolor="black", label=f"{name}, {label}")
        for family, name in (("sfc", "SFC"), ("winograd", "Winograd"))
        for k, (_, label) in enumerate(DISTRIBUTIONS)
    ]
    axes[0].legend(handles=handles, fontsize=8, ncol=2, loc="upper left")
    axes[-1].set_xticks(range(len(rows)))
    axes[-1].set_xticklabels(names, fontsize=8)
    fig.suptitle(
        "Normalized error: RMS error / RMS error of direct convolution in the same arithmetic\n"
        f"(Cin {first.get('cin')}, Cout {first.get('cout')}, seed {first.get('seed')}, "
        f"non-negative inputs {first.get('nonneg_inputs')}; dashed line: direct = 1)",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="JSON lines from 03_numerical_error --json ('-' for stdin)")
    parser.add_argument("--png", default="docs/numerical_error.png", help="chart path")
    parser.add_argument("--no-png", action="store_true", help="do not draw the chart")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    rows = read_rows(args.input)
    if args.markdown:
        print(markdown(rows))
    if not args.no_png:
        plot(rows, Path(args.png))


if __name__ == "__main__":
    main()
