#!/usr/bin/env python3
"""Fold constant DequantizeLinear nodes of an ONNX model back to fp32 initialisers.

Usage: fold_int8bq.py IN.onnx OUT.onnx [--dynamic-batch SYMBOL]

The OpenCV-zoo "int8bq" models store their weights block-quantised
(DequantizeLinear with `axis` and `block_size`), which ONNX Runtime 1.31 refuses.
Every DequantizeLinear whose inputs are all constant initialisers is evaluated
here in numpy and replaced by an fp32 initialiser, then:
  - graph inputs that are initialisers are removed (they become true constants),
  - graph inputs that no node reads are removed (SFace ships leftover ones),
  - initialisers that no node reads are dropped,
  - value_info of folded tensors is dropped,
  - optionally dim 0 of the data input, the outputs and every value_info that
    depends on the data is renamed to a symbolic batch dimension,
and the result is checked with onnx.checker. Needs the `onnx` and `numpy`
packages (pinned in scripts/requirements-onnx.txt). Deterministic: the same input
and tool versions give byte-identical output.
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def dequantize(x, scale, zero_point, axis, block_size):
    """numpy version of ONNX DequantizeLinear (opset 10..21): (x - zp) * scale."""
    x = x.astype(np.float32)
    zp = np.zeros_like(scale, dtype=np.float32) if zero_point is None else zero_point.astype(np.float32)
    if block_size == 0 and scale.size == 1:
        # per-tensor (a scalar, or a one-element 1-D tensor, which broadcasts the same)
        s = scale.reshape(())
        z = zp.reshape(())
    elif block_size == 0:
        # per-axis: 1-D scale of length x.shape[axis]
        axis = axis % x.ndim
        if scale.ndim != 1 or scale.shape[0] != x.shape[axis]:
            raise ValueError(f"per-axis scale shape {scale.shape} does not fit x {x.shape} axis {axis}")
        shape = [1] * x.ndim
        shape[axis] = scale.shape[0]
        s = scale.reshape(shape)
        z = zp.reshape(shape)
    else:
        # blocked: scale has x's shape except along axis, where it is ceil(D / block_size)
        axis = axis % x.ndim
        d = x.shape[axis]
        nblocks = -(-d // block_size)
        want = list(x.shape)
        want[axis] = nblocks
        if list(scale.shape) != want or list(zp.shape) != want:
            raise ValueError(f"blocked scale {scale.shape} / zp {zp.shape} do not fit x {x.shape} "
                             f"axis {axis} block_size {block_size}")
        s = np.repeat(scale, block_size, axis=axis)
        z = np.repeat(zp, block_size, axis=axis)
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(0, d)
        s = s[tuple(idx)]
        z = z[tuple(idx)]
    y = (x - z) * s
    return y.astype(scale.dtype)


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def fold(model):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes = []
    folded = 0
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.domain in ("", "ai.onnx") and all(
            (i == "" or i in inits) for i in n.input
        ):
            x = numpy_helper.to_array(inits[n.input[0]])
            scale = numpy_helper.to_array(inits[n.input[1]])
            zp = numpy_helper.to_array(inits[n.input[2]]) if len(n.input) > 2 and n.input[2] else None
            if scale.dtype != np.float32:
                raise ValueError(f"{n.name}: scale dtype {scale.dtype}, expected float32")
            y = dequantize(x, scale, zp, attr(n, "axis", 1), attr(n, "block_size", 0))
            t = numpy_helper.from_array(y, n.output[0])
            g.initializer.append(t)
            inits[n.output[0]] = t
            folded += 1
        else:
            new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)

    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    # graph inputs: drop those that are initialisers and those nothing reads
    keep_inputs = [i for i in g.input if i.name not in inits and i.name in used]
    dropped_inputs = [i.name for i in g.input if i.name not in inits and i.name not in used]
    del g.input[:]
    g.input.extend(keep_inputs)
    # initialisers nothing reads
    keep_inits = [t for t in g.initializer if t.name in used]
    dropped_inits = len(g.initializer) - len(keep_inits)
    del g.initializer[:]
    g.initializer.extend(keep_inits)
    # value_info of constants
    const = {t.name for t in g.initializer}
    keep_vi = [v for v in g.value_info if v.name not in const and v.name in used | {o for n in g.node for o in n.output}]
    del g.value_info[:]
    g.value_info.extend(keep_vi)
    return folded, dropped_inputs, dropped_inits


def make_batch_dynamic(model, symbol):
    g = model.graph
    const = {t.name for t in g.initializer}
    live = {i.name for i in g.input if i.name not in const}
    # forward reachability from the data inputs (nodes are topologically sorted)
    for n in g.node:
        if any(i in live for i in n.input):
            live.update(o for o in n.output if o)
    count = 0
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.name not in live:
            continue
        dims = vi.type.tensor_type.shape.dim
        if len(dims) == 0:
            continue
        if dims[0].HasField("dim_value") and dims[0].dim_value != 1:
            raise ValueError(f"{vi.name}: dim 0 is {dims[0].dim_value}, expected 1")
        dims[0].Clear()
        dims[0].dim_param = symbol
        count += 1
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--dynamic-batch", metavar="SYMBOL", default=None)
    a = ap.parse_args()

    model = onnx.load(a.src)
    folded, dropped_inputs, dropped_inits = fold(model)
    if folded == 0:
        sys.exit(f"fold_int8bq: no constant DequantizeLinear in {a.src}")
    left = [n.name for n in model.graph.node if n.op_type == "DequantizeLinear"]
    if left:
        sys.exit(f"fold_int8bq: non-constant DequantizeLinear left: {left}")
    renamed = make_batch_dynamic(model, a.dynamic_batch) if a.dynamic_batch else 0
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, a.dst)
    print(f"fold_int8bq: {a.src} -> {a.dst}: folded {folded} DequantizeLinear, "
          f"dropped {len(dropped_inputs)} unused inputs, {dropped_inits} unused initialisers"
          + (f", batch dim '{a.dynamic_batch}' on {renamed} tensors" if a.dynamic_batch else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
