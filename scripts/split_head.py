#!/usr/bin/env python3
"""Cut an embedder ONNX model before its final Gemm into a trunk and a head.

Usage: split_head.py IN.onnx TRUNK.onnx HEAD.onnx

The trunk maps the model's input to the Gemm's input (the flattened
features); the head maps those features to the model's output (the Gemm and
whatever follows it). trunk then head is the same function as the whole
model, bit for bit. Why: SFace's last Gemm reads a 25088 x 128 weight matrix
(12.8 MB) on every call, ~5 % of a pass at the 2 faces per call that keep the
convolutions' activations in a core's cache. Cut in two, the trunk runs 2
faces per call and the head once over all of a lane's faces.

Deterministic (onnx.utils.Extractor keeps graph order): the same input and
tool versions give byte-identical output. Needs `onnx` (pinned in
scripts/requirements-onnx.txt).
"""
import argparse
import sys

import onnx
from onnx import utils


def cut_point(model):
    """The input tensor of the last Gemm, which must be the last Gemm/MatMul."""
    gemms = [n for n in model.graph.node if n.op_type in ("Gemm", "MatMul")]
    if not gemms:
        raise ValueError("no Gemm or MatMul to cut before")
    return gemms[-1].input[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("trunk")
    ap.add_argument("head")
    a = ap.parse_args()
    model = onnx.load(a.src)
    try:
        cut = cut_point(model)
    except ValueError as e:
        sys.exit(f"split_head: {a.src}: {e}")
    inputs = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    ex = utils.Extractor(model)
    for path, ins, outs in ((a.trunk, inputs, [cut]), (a.head, [cut], outputs)):
        part = ex.extract_model(ins, outs)
        onnx.checker.check_model(part, full_check=True)
        onnx.save(part, path)
    print(f"split_head: {a.src} -> {a.trunk} ({inputs} -> {cut}) + {a.head} ({cut} -> {outputs})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
