#!/usr/bin/env python3
"""Rewrite every PRelu of an ONNX model as a*x + b*Relu(c*x), same function, faster graph.

Usage: split_prelu.py IN.onnx OUT.onnx

Why: ONNX Runtime 1.31's CPU PRelu is a generic broadcasting kernel that also
keeps the convolutions out of the blocked (NCHWc) layout, so on SFace it takes
half of the time of a forward pass plus ~17 % in layout reorders. Written with
per-channel Mul, Relu and Add, the graph optimiser turns each Mul into a
per-channel scaling "convolution" of the blocked layout, fuses the Relu into
the scaling before it and the Add into the scaling after it, and keeps the
blocked layout throughout: a pass is 1.6-1.9x faster than with PRelu and the
output is the same function (embeddings agree to cosine >= 0.9999999; only
float rounding differs).

Each PRelu(x, s) with a constant per-channel slope s becomes
  Add(Mul(x, a), Relu(Mul(x, c)))                  c = 1 - s
with, per channel, a = s where s <= 1 (s*x + Relu((1-s)*x)), and a = 1 where
s > 1, whose Relu term is subtracted instead (x - Relu((1-s)*x)): a layer with
such channels gets one more Mul by b = +-1 before the Add. The Relu then
follows a Mul and fuses into it; the earlier form s*x + (1-s)*Relu(x) left a
Relu of its own (~6 % of a pass). Node and tensor names derive from the
PRelu's output name; slope initialisers no longer read are dropped.
Deterministic: the same input and tool versions give byte-identical output.
Needs `onnx` and `numpy` (pinned in scripts/requirements-onnx.txt).
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def split(model):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    nodes, added, count = [], [], 0
    for n in g.node:
        if n.op_type != "PRelu":
            nodes.append(n)
            continue
        x, slope_name = n.input
        if slope_name not in inits:
            raise ValueError(f"PRelu {n.name or n.output[0]}: slope {slope_name} is not a constant")
        slope = numpy_helper.to_array(inits[slope_name]).astype(np.float32)
        y = n.output[0]
        p = f"{y}/prelu_split"
        above = slope > 1
        a = np.where(above, np.float32(1), slope).astype(np.float32)
        c = (np.float32(1) - slope).astype(np.float32)
        added.append(numpy_helper.from_array(a, f"{p}/a"))
        added.append(numpy_helper.from_array(c, f"{p}/c"))
        nodes += [
            helper.make_node("Mul", [x, f"{p}/a"], [f"{p}/linear"], name=f"{p}/mul_a"),
            helper.make_node("Mul", [x, f"{p}/c"], [f"{p}/scaled"], name=f"{p}/mul_c"),
            helper.make_node("Relu", [f"{p}/scaled"], [f"{p}/relu"], name=f"{p}/relu"),
        ]
        relu = f"{p}/relu"
        if above.any():
            b = np.where(above, np.float32(-1), np.float32(1)).astype(np.float32)
            added.append(numpy_helper.from_array(b, f"{p}/b"))
            nodes.append(helper.make_node("Mul", [relu, f"{p}/b"], [f"{p}/signed"], name=f"{p}/mul_b"))
            relu = f"{p}/signed"
        nodes.append(helper.make_node("Add", [f"{p}/linear", relu], [y], name=f"{p}/add"))
        count += 1
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(added)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    dropped = len(g.initializer) - len(keep)
    del g.initializer[:]
    g.initializer.extend(keep)
    return count, dropped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    model = onnx.load(a.src)
    count, dropped = split(model)
    if count == 0:
        sys.exit(f"split_prelu: no PRelu in {a.src}")
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, a.dst)
    print(f"split_prelu: {a.src} -> {a.dst}: {count} PRelu rewritten, {dropped} slope initialisers dropped",
          file=sys.stderr)


if __name__ == "__main__":
    main()
