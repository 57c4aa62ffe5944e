#!/usr/bin/env python3
"""Rewrite every PRelu of an ONNX model as s*x + (1-s)*Relu(x), same function, faster graph.

Usage: split_prelu.py IN.onnx OUT.onnx

Why: ONNX Runtime 1.31's CPU PRelu is a generic broadcasting kernel that also
keeps the convolutions out of the blocked (NCHWc) layout, so on SFace it takes
half of the time of a forward pass plus ~17 % in layout reorders. Written as
Mul/Mul/Add/Relu with per-channel constants, the graph optimiser fuses the
scaling and the sum into the convolutions and keeps the blocked layout: a pass
is 1.6-1.9x faster on this machine while the output is the same function
(embeddings agree to cosine >= 0.9999999; only float rounding differs).

Each PRelu(x, slope) with a constant per-channel slope becomes
  Add(Mul(x, slope), Mul(Relu(x), 1 - slope))
with node and tensor names derived from the PRelu's output name, in the
PRelu's place; slope initialisers no longer read are dropped. Deterministic:
the same input and tool versions give byte-identical output. Needs `onnx` and
`numpy` (pinned in scripts/requirements-onnx.txt).
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
        added.append(numpy_helper.from_array(slope, f"{p}/slope"))
        added.append(numpy_helper.from_array((np.float32(1) - slope).astype(np.float32), f"{p}/one_minus_slope"))
        nodes += [
            helper.make_node("Mul", [x, f"{p}/slope"], [f"{p}/linear"], name=f"{p}/mul_linear"),
            helper.make_node("Relu", [x], [f"{p}/relu"], name=f"{p}/relu"),
            helper.make_node("Mul", [f"{p}/relu", f"{p}/one_minus_slope"], [f"{p}/positive"], name=f"{p}/mul_positive"),
            helper.make_node("Add", [f"{p}/linear", f"{p}/positive"], [y], name=f"{p}/add"),
        ]
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
