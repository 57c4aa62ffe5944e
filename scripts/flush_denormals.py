#!/usr/bin/env python3
"""Flush the denormal float32 weights of an ONNX model to zero.

Usage: flush_denormals.py IN.onnx OUT.onnx [--expect N]

Every float32 initializer (and Constant node tensor) value whose magnitude is
below the smallest normal float32 (1.17549435e-38) and not zero is set to
+0.0; nothing else in the file changes (tensors without denormals keep their
bytes, tensors with some keep their storage field and name). Why: on x86 a
multiply with a denormal operand takes a slow microcode path unless the
thread flushes denormals, which ONNX Runtime does not by default.
MobileFaceNet's fr_feature.onnx holds 8,938 denormal weights in 20 tensors;
they made each of its passes about 4x slower. Their products with
activations of ordinary size are far below a float32 ulp of any sum they
are added to, so the embeddings are expected to be unchanged (the tests
compare them on real images).

--expect N refuses a model holding other than N denormals (the set-up pins
the count, so a different source file is noticed here, not only by its hash).
Deterministic: the same input and onnx version give byte-identical output.
Needs `onnx` and `numpy` (pinned in scripts/requirements-onnx.txt).
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper

TINY = np.finfo(np.float32).tiny


def flush_tensor(t):
    """Flush tensor `t` in place; the number of values flushed."""
    if t.data_type != onnx.TensorProto.FLOAT:
        return 0
    a = numpy_helper.to_array(t)
    denormal = (a != 0) & (np.abs(a) < TINY)
    n = int(denormal.sum())
    if n == 0:
        return 0
    a = np.where(denormal, np.float32(0.0), a).astype(np.float32)
    if t.HasField("raw_data"):
        t.raw_data = a.astype("<f4").tobytes()
    else:
        del t.float_data[:]
        t.float_data.extend(a.ravel().tolist())
    return n


def tensors(graph):
    """Every tensor stored in `graph` and its subgraphs (initializers, Constant values)."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t
            elif attr.type == onnx.AttributeProto.GRAPH:
                yield from tensors(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from tensors(g)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--expect", type=int, help="the number of denormals the source must hold")
    a = ap.parse_args()
    model = onnx.load(a.src)
    counts = [flush_tensor(t) for t in tensors(model.graph)]
    total, touched = sum(counts), sum(1 for c in counts if c)
    if a.expect is not None and total != a.expect:
        sys.exit(f"flush_denormals: {a.src}: {total} denormal values, expected {a.expect}")
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, a.out)
    print(f"flush_denormals: {a.src} -> {a.out}: {total} denormal values in {touched} tensors set to 0",
          file=sys.stderr)


if __name__ == "__main__":
    main()
