#!/usr/bin/env python3
"""Size-vs-top-1 chart of atom budgets against uniform atoms, as a plain SVG (standard library only).

    python3 scripts/plot-budget.py docs/figures/budget-curve.csv docs/figures/budget-curve.svg

The CSV has a header and rows: network,allocation,bytes,input_bytes,top1 (top-1 in %); one panel per
network, one line per allocation (points sorted by size). The figures come from the commands listed in
docs/results.md ("Atom budgets against uniform atoms"); this script only draws them.
"""
import csv
import sys

W, H, PAD = 420, 300, 48
COLORS = {"uniform": "#1f77b4", "budgeted": "#d62728"}


def panel(rows, net, x0):
    pts = {}
    for r in rows:
        if r["network"] == net:
            pts.setdefault(r["allocation"], []).append(
                (100.0 * int(r["bytes"]) / int(r["input_bytes"]), float(r["top1"])))
    xs = [p[0] for v in pts.values() for p in v]
    xmax = max(xs) * 1.1
    ymin, ymax = 0.0, 100.0
    def sx(x): return x0 + PAD + (W - 2 * PAD) * x / xmax
    def sy(y): return H - PAD - (H - 2 * PAD) * (y - ymin) / (ymax - ymin)
    out = ['<text x="%d" y="20" font-size="14" text-anchor="middle">%s</text>' % (x0 + W // 2, net)]
    out.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>' % (sx(0), sy(0), sx(xmax), sy(0)))
    out.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>' % (sx(0), sy(0), sx(0), sy(100)))
    for y in range(0, 101, 20):
        out.append('<text x="%g" y="%g" font-size="10" text-anchor="end">%d</text>' % (sx(0) - 4, sy(y) + 3, y))
        out.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#ddd"/>' % (sx(0), sy(y), sx(xmax), sy(y)))
    step = 5 if xmax <= 40 else 10
    for x in range(0, int(xmax) + 1, step):
        out.append('<text x="%g" y="%g" font-size="10" text-anchor="middle">%d</text>' % (sx(x), sy(0) + 14, x))
    out.append('<text x="%d" y="%d" font-size="11" text-anchor="middle">output size, %% of the input file</text>'
               % (x0 + W // 2, H - 12))
    out.append('<text x="%d" y="%d" font-size="11" transform="rotate(-90 %d %d)" text-anchor="middle">'
               'top-1 %%, test-jpeg (SVD fit, no fine-tune)</text>' % (x0 + 14, H // 2, x0 + 14, H // 2))
    for k, (name, v) in enumerate(sorted(pts.items())):
        v.sort()
        c = COLORS.get(name, "#333")
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (c, " ".join("%g,%g" % (sx(x), sy(y)) for x, y in v)))
        for x, y in v:
            out.append('<circle cx="%g" cy="%g" r="3" fill="%s"/>' % (sx(x), sy(y), c))
        out.append('<text x="%g" y="%d" font-size="11" fill="%s">%s</text>' % (sx(0) + 8, 40 + 14 * k, c, name))
    return out


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    nets = sorted({r["network"] for r in rows})
    body = []
    for i, n in enumerate(nets):
        body += panel(rows, n, i * W)
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">\n'
           '<rect width="100%%" height="100%%" fill="white"/>\n%s\n</svg>\n' % (W * len(nets), H, "\n".join(body)))
    open(sys.argv[2], "w").write(svg)


if __name__ == "__main__":
    main()
