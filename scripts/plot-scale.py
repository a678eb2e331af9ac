#!/usr/bin/env python3
"""Seconds of each compression stage against MACs x images, log-log, as a plain SVG (standard library only).

    python3 scripts/plot-scale.py docs/figures/scale.csv docs/figures/scale.svg

The CSV has a header and rows: model,images,macs,stage,seconds (macs: multiply-adds of one image); one point
per row at x = macs * images, one colour per stage, labelled with the model. The figures come from the
commands in docs/results.md ("At ImageNet size"); this script only draws them.
"""
import csv
import math
import sys

W, H, PAD = 560, 360, 56
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    rows = [r for r in csv.DictReader(open(src)) if float(r["seconds"]) > 0]
    xs = [math.log10(float(r["macs"]) * int(r["images"])) for r in rows]
    ys = [math.log10(float(r["seconds"])) for r in rows]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
    sx = lambda v: PAD + (v - x0) / max(1e-9, x1 - x0) * (W - 2 * PAD)
    sy = lambda v: H - PAD - (v - y0) / max(1e-9, y1 - y0) * (H - 2 * PAD)
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="black"/>',
           f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="black"/>']
    for e in range(x0, x1 + 1):
        out.append(f'<text x="{sx(e):.1f}" y="{H - PAD + 16}" text-anchor="middle">1e{e}</text>')
    for e in range(y0, y1 + 1):
        out.append(f'<text x="{PAD - 6}" y="{sy(e) + 4:.1f}" text-anchor="end">{10 ** e:g} s</text>')
    out.append(f'<text x="{W / 2}" y="{H - 14}" text-anchor="middle">multiply-adds of one image x calibration images</text>')
    for r, x, y in zip(rows, xs, ys):
        c = COLORS[stages.index(r["stage"]) % len(COLORS)]
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{c}"/>')
        out.append(f'<text x="{sx(x) + 6:.1f}" y="{sy(y) - 4:.1f}" fill="{c}">{r["model"]}</text>')
    for i, st in enumerate(stages):
        c = COLORS[i % len(COLORS)]
        ly = H - PAD - 12 - 16 * (len(stages) - i)  # legend in the lower right, where the costs are not
        out.append(f'<circle cx="{W - PAD - 140}" cy="{ly}" r="4" fill="{c}"/>')
        out.append(f'<text x="{W - PAD - 130}" y="{ly + 4}">{st}</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
