#!/usr/bin/env python3
"""Tabulate (and chart) the accuracy of the fmnist_res3x3 variants by bits.

Reads the output of

    02_fmnist --images 10000 --variants all > fmnist.log

keeping only its JSON lines (one object per variant: variant, bits, top1,
images, correct, mults_per_image, bops_per_image, ...), and

  * with --markdown, prints the accuracy-vs-bits table: one row per method
    (direct; each 3x3 algorithm with max-abs, fine-tuned power-of-two or
    fine-tuned free scales), one column
    per width (float, 8, 6, 4 bits), each cell top-1 in percent and its
    change from direct-f32 in percentage points; then the cost of each
    method per image (multiplications, BOPs at 8 bits);
  * with --png PATH, draws top-1 against transform-domain bits, one line per
    method, with the float accuracy as a horizontal line.

Usage:
    scripts/plot_fmnist_accuracy.py fmnist.log [--markdown] [--png PATH]

The chart needs matplotlib (Debian: python3-matplotlib); the table needs only
the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

METHODS = ["sfc6_7_3", "sfc6_6_3", "sfc4_4_3", "wino2_3", "wino4_3"]
LABELS = {
    "direct": "direct",
    "sfc6_7_3": "SFC-6(7x7,3x3)",
    "sfc6_6_3": "SFC-6(6x6,3x3)",
    "sfc4_4_3": "SFC-4(4x4,3x3)",
    "wino2_3": "Winograd F(2x2,3x3)",
    "wino4_3": "Winograd F(4x4,3x3)",
}
BITS = [8, 6, 4]


def read_rows(path: str) -> dict[str, dict]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    rows = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            row = json.loads(line)
            rows[row["variant"]] = row
    if not rows:
        sys.exit(f"{path}: no JSON lines (is it the output of 02_fmnist?)")
    return rows


def cell(rows: dict[str, dict], name: str, base: float | None) -> str:
    row = rows.get(name)
    if row is None:
        return "-"
    top1 = 100.0 * row["top1"]
    if base is None or name == "direct-f32":
        return f"{top1:.2f}"
    return f"{top1:.2f} ({top1 - base:+.2f})"


# Variant suffix and what the scales are.
SCHEMES = (
    ("", "frequency-wise, max-abs"),
    ("-ft", "frequency-wise, power-of-two, fine-tuned"),
    ("-ftf", "frequency-wise, free, fine-tuned"),
)


def markdown(rows: dict[str, dict]) -> str:
    base_row = rows.get("direct-f32")
    base = 100.0 * base_row["top1"] if base_row else None
    images = {row["images"] for row in rows.values()}
    out = []
    out.append(
        f"Top-1 in percent on {', '.join(str(i) for i in sorted(images))} test images; "
        "in parentheses the change from direct-f32 in percentage points.\n"
    )
    out.append("| method | scales | float | 8 bits | 6 bits | 4 bits |")
    out.append("|---|---|---|---|---|---|")
    out.append(f"| direct | per tensor / per channel | {cell(rows, 'direct-f32', base)} | "
               f"{cell(rows, 'direct-i8', base)} | - | - |")
    for m in METHODS:
        for suffix, scales in SCHEMES:
            float_cell = cell(rows, f"{m}-f32", base) if not suffix else ""
            cells = [cell(rows, f"{m}-i{b}{suffix}", base) for b in BITS]
            if all(c == "-" for c in cells) and (suffix or float_cell == "-"):
                continue
            out.append(f"| {LABELS[m]} | {scales} | {float_cell} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Cost of the convolutions per image (examples/model/cost.hpp; weights transformed offline):\n")
    out.append("| method | multiplications | vs direct | BOPs at 8 bits | vs direct |")
    out.append("|---|---|---|---|---|")
    direct = rows.get("direct-i8")
    for name, label in [("direct-i8", "direct")] + [(f"{m}-i8", LABELS[m]) for m in METHODS]:
        row = rows.get(name)
        if row is None or "mults_per_image" not in row:
            continue
        mults, bops = row["mults_per_image"], row["bops_per_image"]
        ratio_m = f"{direct['mults_per_image'] / mults:.2f}x" if direct else "-"
        ratio_b = f"{direct['bops_per_image'] / bops:.2f}x" if direct else "-"
        out.append(f"| {label} | {mults / 1e6:.2f} M | {ratio_m} | {bops / 1e9:.2f} G | {ratio_b} |")
    return "\n".join(out) + "\n"


def plot(rows: dict[str, dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SCHEMES), figsize=(15, 4.2), sharey=True)
    base = rows.get("direct-f32")
    for ax, (suffix, title) in zip(axes, SCHEMES):
        for m in METHODS:
            name = lambda b: f"{m}-i{b}{suffix}"
            pts = [(b, 100.0 * rows[name(b)]["top1"]) for b in BITS if name(b) in rows]
            if pts:
                style = "-o" if m.startswith("sfc") else "--s"
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=LABELS[m])
        if base:
            ax.axhline(100.0 * base["top1"], color="black", linewidth=0.8, label="float")
        if "direct-i8" in rows:
            ax.plot([8], [100.0 * rows["direct-i8"]["top1"]], "k*", markersize=10, label="direct int8")
        ax.set_xticks(BITS)
        ax.invert_xaxis()
        ax.set_xlabel("transform-domain bits")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("top-1 (%)")
    axes[-1].legend(loc="lower left", fontsize=8)
    images = next(iter(rows.values()))["images"]
    fig.suptitle(f"fmnist_res3x3 on {images} Fashion-MNIST test images")
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="output of 02_fmnist, or - for stdin")
    parser.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    parser.add_argument("--png", type=Path, help="write the chart here")
    args = parser.parse_args()
    rows = read_rows(args.log)
    if args.markdown:
        sys.stdout.write(markdown(rows))
    if args.png:
        plot(rows, args.png)


if __name__ == "__main__":
    main()
