#!/usr/bin/env python3
"""How the rows and the columns (atoms) of an ACDC model's coefficient tensors differ in range.

For each coefficient tensor [rows, atoms] named in the model's acdc.roles metadata: the largest row
maximum over the median row maximum, and the largest column maximum over the smallest; prints the
median of each over the tensors. It says how much a per-atom int8 scale (quantize --coefficient-scales
atom) coarsens the rounding of most rows. Needs Debian's python3-onnx.

    python3 scripts/coefficient-ranges.py MODEL.onnx
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main(path):
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    if "acdc.roles" not in meta:
        sys.exit(path + ": no acdc.roles metadata (not an ACDC model written by acdc)")
    roles = json.loads(meta["acdc.roles"])
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    rows, cols = [], []
    for name, role in roles.items():
        if role != "coefficients" or name not in inits:
            continue
        a = np.abs(inits[name].astype(np.float64))
        rmax, cmax = a.max(axis=1), a.max(axis=0)
        rows.append(rmax.max() / np.median(rmax))
        cols.append(cmax.max() / cmax.min())
    if not rows:
        sys.exit(path + ": no float coefficient tensors")
    print("%s: %d coefficient tensors; largest/median row maximum: median %.2f; "
          "largest/smallest column maximum: median %.2f" % (path, len(rows), np.median(rows), np.median(cols)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
