#!/usr/bin/env python3
"""Cut an embedder ONNX model into spatial segments for incremental occlusion inference.

Usage: split_incremental.py IN.onnx OUTDIR [--cuts T1,T2,...] [--prefix sface-inc]

Writes OUTDIR/PREFIX-1.onnx ... PREFIX-K.onnx, one per segment (model input -> T1,
T1 -> T2, ...), each with symbolic spatial dimensions (N, C, H, W) so it runs on a
crop of its input, and OUTDIR/PREFIX-back.onnx (TK -> the input of the last
Gemm/MatMul, the flattened features, fixed shape), which the existing head follows.
The segments one after the other, then the back, are the model's trunk.

Each segment may hold only element-wise operators, BatchNormalization and square
Conv with stride 1 or 2 and "same" padding (k-1)/2 on every side. Its geometry is
stored in the file's metadata (custom keys, integers as text): `stride` (total
stride), `pad` (offset of the receptive field: output o reads input rows
o*stride - pad ... o*stride - pad + rf - 1) and `rf` (receptive field side), as
the Rust engine (src/explain/incremental.rs) needs them to place crops, and `macs`,
the multiply-adds per output position. The back stores `macs` (per face) and
`head_macs` (the rest of the model after it), for the benchmark's count of work saved.

Why these cuts (the default): SFace is a plain chain of MobileNet blocks; cutting at
every change of resolution and after the first two 14x14 blocks gave the fewest
multiply-adds per occlusion of the cut sets measured (see `facexplain
bench-explain`); deeper 14x14 cuts save little because the receptive field
covers the 14x14 map after a few layers.

Deterministic (onnx.utils.Extractor keeps graph order): the same input and tool
versions give byte-identical output. Needs `onnx` (pinned in
scripts/requirements-onnx.txt).
"""
import argparse
import os
import sys
from math import prod

import onnx
from onnx import helper, shape_inference, utils

DEFAULT_CUTS = "conv_2_relu,conv_4_relu,conv_6_relu,conv_8_relu,conv_9_relu"
ELEMENTWISE = {"Sub", "Mul", "Add", "Relu", "BatchNormalization", "Reshape"}


def last_gemm_input(model):
    gemms = [n for n in model.graph.node if n.op_type in ("Gemm", "MatMul")]
    if not gemms:
        raise ValueError("no Gemm or MatMul to stop before")
    return gemms[-1].input[0]


def conv_macs(part, n):
    """Multiply-adds of Conv node `n` per output position."""
    w = next(v for v in part.graph.value_info if v.name == n.input[1])
    return prod(d.dim_value for d in w.type.tensor_type.shape.dim)


def geometry(part):
    """(stride, pad, rf, macs) of a chain segment, macs per output position of the
    segment; raises ValueError on anything else."""
    stride, pad, rf = 1, 0, 1
    layers = []
    part = shape_inference.infer_shapes(part)
    for n in part.graph.node:
        if n.op_type == "Conv":
            a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
            k = a.get("kernel_shape", [1, 1])
            s = a.get("strides", [1, 1])
            p = a.get("pads", [0, 0, 0, 0])
            d = a.get("dilations", [1, 1])
            if k[0] != k[1] or s[0] != s[1] or len(set(p)) != 1 or d != [1, 1]:
                raise ValueError(f"{n.name}: only square, undilated convolutions with equal pads")
            if p[0] != (k[0] - 1) // 2 or s[0] not in (1, 2) or k[0] % 2 != 1:
                raise ValueError(f"{n.name}: kernel {k}, stride {s}, pads {p} is not 'same' padding")
            pad += p[0] * stride
            rf += (k[0] - 1) * stride
            stride *= s[0]
            layers.append((conv_macs(part, n), stride))
        elif n.op_type not in ELEMENTWISE:
            raise ValueError(f"{n.name}: operator {n.op_type} is not supported in a spatial segment")
    # a layer whose output is `st` times finer than the segment's has (stride/st)^2
    # positions per output position of the segment
    macs = sum(m * (stride // st) ** 2 for m, st in layers)
    return stride, pad, rf, macs


def whole_macs(model, start, end):
    """Multiply-adds per face of the nodes between tensors `start` and `end` (exclusive of
    start's producers), from the inferred output shapes."""
    part = shape_inference.infer_shapes(utils.Extractor(model).extract_model([start], [end]))
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(part.graph.value_info) + list(part.graph.output)}
    total = 0
    for n in part.graph.node:
        if n.op_type == "Conv":
            o = shapes[n.output[0]]
            total += conv_macs(part, n) * o[2] * o[3]
        elif n.op_type in ("Gemm", "MatMul"):
            w = shapes.get(n.input[1]) or next(
                list(i.dims) for i in part.graph.initializer if i.name == n.input[1])
            total += w[0] * w[1]
    return total


def set_dims(value_info, dims):
    shape = value_info.type.tensor_type.shape
    for d, v in zip(shape.dim, dims):
        d.Clear()
        if isinstance(v, str):
            d.dim_param = v
        else:
            d.dim_value = v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("outdir")
    ap.add_argument("--cuts", default=DEFAULT_CUTS)
    ap.add_argument("--prefix", default="sface-inc")
    a = ap.parse_args()
    model = shape_inference.infer_shapes(onnx.load(a.src))
    cuts = [c for c in a.cuts.split(",") if c]
    try:
        features = last_gemm_input(model)
    except ValueError as e:
        sys.exit(f"split_incremental: {a.src}: {e}")
    shapes = {v.name: v for v in list(model.graph.value_info) + list(model.graph.input)}
    missing = [c for c in cuts if c not in shapes]
    if missing:
        sys.exit(f"split_incremental: {a.src}: no tensor named {missing}")
    ex = utils.Extractor(model)
    starts = [model.graph.input[0].name] + cuts
    os.makedirs(a.outdir, exist_ok=True)
    for i, (src, dst) in enumerate(zip(starts, cuts), 1):
        part = ex.extract_model([src], [dst])
        try:
            stride, pad, rf, macs = geometry(part)
        except ValueError as e:
            sys.exit(f"split_incremental: {a.src}: segment {src} -> {dst}: {e}")
        del part.graph.value_info[:]
        channels = [shapes[t].type.tensor_type.shape.dim[1].dim_value for t in (src, dst)]
        set_dims(part.graph.input[0], ["N", channels[0], "H", "W"])
        set_dims(part.graph.output[0], ["N", channels[1], "Ho", "Wo"])
        helper.set_model_props(part, {"stride": str(stride), "pad": str(pad), "rf": str(rf), "macs": str(macs)})
        onnx.checker.check_model(part, full_check=True)
        path = os.path.join(a.outdir, f"{a.prefix}-{i}.onnx")
        onnx.save(part, path)
        print(f"split_incremental: {path}: {src} -> {dst} (stride {stride}, pad {pad}, rf {rf}, "
              f"{macs} multiply-adds per output position)", file=sys.stderr)
    back = ex.extract_model([cuts[-1]], [features])
    helper.set_model_props(back, {
        "macs": str(whole_macs(model, cuts[-1], features)),
        "head_macs": str(whole_macs(model, features, model.graph.output[0].name)),
    })
    onnx.checker.check_model(back, full_check=True)
    path = os.path.join(a.outdir, f"{a.prefix}-back.onnx")
    onnx.save(back, path)
    print(f"split_incremental: {path}: {cuts[-1]} -> {features} ({dict((p.key, p.value) for p in back.metadata_props)})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
