#!/usr/bin/env python3
"""Writes a float32 ONNX model as onnxconverter-common's float16 pass does, for acdc's float16 tests.

Every float initializer and Constant becomes float16, value infos too; with --keep-io-types the graph's
inputs and outputs stay float32 behind Casts (keep_io_types=True), else they become float16; with
--shuffle the nodes are written out of topological order (that pass writes its Casts so).

    /usr/bin/python3 scripts/to-float16.py IN.onnx OUT.onnx [--keep-io-types] [--shuffle]
"""
import argparse
import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--keep-io-types", action="store_true")
    ap.add_argument("--shuffle", action="store_true")
    a = ap.parse_args()
    m = onnx.load(a.src)
    g = m.graph
    keep32 = set()  # Resize/Upsample scales and roi are float in ONNX whatever the data's type
    for n in g.node:
        if n.op_type == "Resize":
            keep32.update(n.input[1:3])
        if n.op_type == "Upsample" and len(n.input) > 1:
            keep32.add(n.input[1])
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT and t.name not in keep32:
            h = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)
            g.initializer[i].CopyFrom(h)
    for n in g.node:
        for at in n.attribute:
            if at.type == onnx.AttributeProto.TENSOR and at.t.data_type == TensorProto.FLOAT \
                    and n.output[0] not in keep32:
                at.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(at.t).astype(np.float16), at.t.name))
            if n.op_type == "Cast" and at.name == "to" and at.i == TensorProto.FLOAT:
                at.i = TensorProto.FLOAT16
    for v in g.value_info:
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
    inits = {t.name for t in g.initializer}
    if a.keep_io_types:
        for v in g.input:
            if v.name in inits or v.type.tensor_type.elem_type != TensorProto.FLOAT:
                continue
            cast = v.name + "_fp16"
            for n in g.node:
                for k, x in enumerate(n.input):
                    if x == v.name:
                        n.input[k] = cast
            g.node.insert(0, helper.make_node("Cast", [v.name], [cast], name="graph_input_cast_" + v.name,
                                              to=TensorProto.FLOAT16))
        for v in g.output:
            if v.type.tensor_type.elem_type != TensorProto.FLOAT:
                continue
            inner = v.name + "_fp16"
            for n in g.node:
                for k, x in enumerate(n.output):
                    if x == v.name:
                        n.output[k] = inner
                for k, x in enumerate(n.input):
                    if x == v.name:
                        n.input[k] = inner
            g.node.append(helper.make_node("Cast", [inner], [v.name], name="graph_output_cast_" + v.name,
                                           to=TensorProto.FLOAT))
    else:
        for v in list(g.input) + list(g.output):
            if v.name not in inits and v.type.tensor_type.elem_type == TensorProto.FLOAT:
                v.type.tensor_type.elem_type = TensorProto.FLOAT16
    if a.shuffle:
        nodes = list(g.node)
        random.Random(0).shuffle(nodes)
        del g.node[:]
        g.node.extend(nodes)
    onnx.save(m, a.dst)
    print(f"wrote {a.dst}")


if __name__ == "__main__":
    main()
