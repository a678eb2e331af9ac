#!/usr/bin/env python3
"""Where the bytes of an ONNX file go: initializers by element type, node protos, local functions, metadata.

Usage: python3 scripts/onnx-bytes.py MODEL.onnx [...]   (needs the onnx package: Debian python3-onnx)
"""
import sys
from collections import Counter

import onnx

for path in sys.argv[1:]:
    m = onnx.load(path)
    by_type = Counter()
    count = Counter()
    for t in m.graph.initializer:
        name = onnx.TensorProto.DataType.Name(t.data_type)
        by_type[name] += t.ByteSize()
        count[name] += 1
    print(f"{path}: {m.ByteSize():,} bytes")
    for name, b in by_type.most_common():
        print(f"  initializers {name:<8} {b:>10,} bytes in {count[name]} tensors")
    print(f"  nodes                 {sum(n.ByteSize() for n in m.graph.node):>10,} bytes in {len(m.graph.node)} nodes")
    if m.functions:
        print(f"  local functions       {sum(f.ByteSize() for f in m.functions):>10,} bytes in {len(m.functions)} functions")
    print(f"  metadata              {sum(p.ByteSize() for p in m.metadata_props):>10,} bytes")
