#!/usr/bin/env python3
"""X-Maps (Knoche et al. 2022) of two aligned faces in Python + ONNX Runtime, whole passes.

Usage (in $FACEXPLAIN_CACHE/venv-onnx):
  xmap_ort_python.py FACES.f32 [--model models/sface.onnx] [--batch 16] [--json]
                     [--maps OUT.f32]

An independent implementation of the X-Map algorithm the app runs, written
the plain way: every occlusion of both faces is a whole forward pass of SFace.
`facexplain bench-explain` runs it in the same run as its own X-Map and
prints the ratio. FACES.f32: the two aligned crops as raw little-endian
float32, shape [2, 3, 112, 112], RGB 0-255 (what the app feeds SFace).
Paper defaults: patch sizes 28, 14, 7 (largest first), stride 5, black fill,
methods I, II, III, 1/p^2 weights, Gaussian blur 5x5 sigma 5 (reflect-101), /max|S|.
Default SessionOptions (ONNX Runtime picks its threads), CPU provider.
Prints the wall time of the occlusion passes and of the whole job; --maps writes
the six maps ([3 methods, 2 faces, 112, 112] float32) for comparison.
"""
import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDE = 112


def embed(sess, name, x, batch):
    out = []
    for i in range(0, len(x), batch):
        out.append(sess.run(None, {name: x[i:i + batch]})[0])
    e = np.concatenate(out).astype(np.float32)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-30)


def blur(m, k=5, sigma=5.0):
    c = (k - 1) / 2
    g = np.exp(-((np.arange(k) - c) ** 2) / (2 * sigma * sigma))
    g /= g.sum()
    r = k // 2
    p = np.pad(m.astype(np.float64), r, mode="reflect")  # numpy "reflect" = reflect-101
    rows = sum(g[i] * p[:, i:i + m.shape[1]] for i in range(k))
    return sum(g[i] * rows[i:i + m.shape[0]] for i in range(k)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("faces")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "sface.onnx"))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--maps")
    a = ap.parse_args()
    faces = np.fromfile(a.faces, dtype="<f4").reshape(2, 3, SIDE, SIDE)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    t0 = time.perf_counter()
    orig = embed(sess, name, faces, a.batch)
    d_orig = 1.0 - float(orig[0] @ orig[1])
    acc = np.zeros((3, 2, SIDE, SIDE))
    sizes = [28, 14, 7]
    passes = 2
    t_occ = 0.0
    for p in sizes:
        r = list(range(0, SIDE - p, 5))
        pos = [(y, x) for y in r for x in r]
        batch = np.repeat(faces, len(pos), axis=0)
        for f in range(2):
            for i, (y, x) in enumerate(pos):
                batch[f * len(pos) + i, :, y:y + p, x:x + p] = 0.0
        t1 = time.perf_counter()
        e = embed(sess, name, batch, a.batch)
        t_occ += time.perf_counter() - t1
        passes += len(batch)
        f1, f2 = e[:len(pos)], e[len(pos):]
        dists = {
            0: (1 - f1 @ f2.mean(0), 1 - f2 @ f1.mean(0)),
            1: (1 - f1 @ orig[1], 1 - f2 @ orig[0]),
            2: ((1 - (f1 * f2).sum(1),) * 2),
        }
        for m, (da, db) in dists.items():
            for f, d in enumerate((da, db)):
                s = np.zeros((SIDE, SIDE))
                for (y, x), di in zip(pos, d):
                    s[y:y + p, x:x + p] += (float(di) - d_orig) / len(pos)
                acc[m, f] += s / (p * p * len(sizes))
    maps = np.zeros((3, 2, SIDE, SIDE), np.float32)
    for m in range(3):
        for f in range(2):
            b = blur(acc[m, f].astype(np.float32))
            mx = np.abs(b).max()
            maps[m, f] = b / mx if mx > 0 else b
    total = time.perf_counter() - t0
    if a.maps:
        maps.astype("<f4").tofile(a.maps)
    res = {"passes": passes, "total_s": round(total, 3), "occlusion_passes_s": round(t_occ, 3),
           "batch": a.batch, "onnxruntime": ort.__version__, "cpus": os.cpu_count()}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"Python X-Map: {passes} passes, {total:.2f} s ({t_occ:.2f} s in occlusion passes), "
              f"batch {a.batch}, onnxruntime {ort.__version__}")


if __name__ == "__main__":
    main()
