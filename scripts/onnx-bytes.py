#!/usr/bin/env python3
"""Where an ONNX file's bytes go: initializers by type, nodes, local functions, metadata (protobuf sizes).

    /usr/bin/python3 scripts/onnx-bytes.py MODEL.onnx [...]
"""
import collections
import sys

import onnx

for path in sys.argv[1:]:
    m = onnx.load(path)
    g = m.graph
    total = m.ByteSize()
    by_type = collections.Counter()
    count = collections.Counter()
    for t in g.initializer:
        scalar = len(t.dims) == 0 or (len(t.dims) == 1 and t.dims[0] == 1)
        key = onnx.TensorProto.DataType.Name(t.data_type) + (" scalar" if scalar else "")
        by_type[key] += t.ByteSize()
        count[key] += 1
    parts = {
        "nodes (%d)" % len(g.node): sum(n.ByteSize() for n in g.node),
        "local functions (%d)" % len(m.functions): sum(f.ByteSize() for f in m.functions),
        "metadata": sum(p.ByteSize() for p in m.metadata_props),
        "inputs, outputs, value_info": sum(v.ByteSize() for v in list(g.input) + list(g.output) + list(g.value_info)),
    }
    print("%s: %d bytes" % (path, total))
    for k, v in sorted(by_type.items(), key=lambda kv: -kv[1]):
        print("  initializers %-16s %4d tensors %9d bytes %5.1f %%" % (k, count[k], v, 100.0 * v / total))
    for k, v in parts.items():
        print("  %-42s %9d bytes %5.1f %%" % (k, v, 100.0 * v / total))
