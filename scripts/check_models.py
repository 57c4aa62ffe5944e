#!/usr/bin/env python3
"""Check that ONNX Runtime 1.31.1 loads and runs the converted models on real images.

Usage (in $FACEXPLAIN_CACHE/venv-onnx): check_models.py [MODELS_DIR [DATA_DIR]]

  - every ONNX model of models/manifest.json loads, with the input/output names
    and shapes the manifest states;
  - YuNet finds faces (one on grace_hopper.jpg, several on insightface/t1.jpg);
  - SFace: a batch of 4 equals 4 single runs (max abs diff <= 1e-5) and its trunk
    and head one after the other; aligned crops
    (YuNet 5 points, OpenCV's 112x112 template) give genuine Obama pairs clearly
    above the Obama-Biden impostor pairs; plain 112x112 resizes of ORL crops give
    genuine > impostor on average;
  - MobileFaceNet with its denormal weights flushed to zero gives the original's
    embeddings on the same aligned faces (max abs diff 0);
  - FaceMesh gives 468 x 3 landmarks inside the crop with a positive face logit,
    its eye centres close to YuNet's.
Prints the figures; exits non-zero if a check fails. Library use: the helpers
(letterbox, decode_yunet, align, ...) are a plain-numpy reference for the Rust code.
"""
import itertools
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAILED = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        FAILED.append(what)


def session(path):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


# ---- YuNet ------------------------------------------------------------------------------
def letterbox(rgb, size=640):
    """BGR float32 NCHW 1x3xSxS, image scaled to fit and placed top-left; returns (x, scale)."""
    h, w = rgb.shape[:2]
    s = size / max(h, w)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    img = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR), dtype=np.float32)
    canvas = np.zeros((size, size, 3), np.float32)
    canvas[:nh, :nw] = img[:, :, ::-1]  # RGB -> BGR
    return canvas.transpose(2, 0, 1)[None], s


def decode_yunet(outs, size=640, score_thr=0.6, nms_thr=0.3):
    """[(score, box[x,y,w,h], kps[5,2])] in input pixels, as OpenCV's FaceDetectorYN."""
    dets = []
    for stride in (8, 16, 32):
        cols = size // stride
        cls = outs[f"cls_{stride}"][0, :, 0]
        obj = outs[f"obj_{stride}"][0, :, 0]
        bbox = outs[f"bbox_{stride}"][0]
        kps = outs[f"kps_{stride}"][0]
        score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
        for idx in np.nonzero(score > score_thr)[0]:
            r, c = divmod(idx, cols)
            cx, cy = (c + bbox[idx, 0]) * stride, (r + bbox[idx, 1]) * stride
            w, h = np.exp(bbox[idx, 2]) * stride, np.exp(bbox[idx, 3]) * stride
            pts = (kps[idx].reshape(5, 2) + [c, r]) * stride
            dets.append((float(score[idx]), np.array([cx - w / 2, cy - h / 2, w, h]), pts))
    dets.sort(key=lambda d: -d[0])
    keep = []
    for d in dets:
        if all(iou(d[1], k[1]) <= nms_thr for k in keep):
            keep.append(d)
    return keep


def iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def detect(yunet, rgb):
    x, s = letterbox(rgb)
    names = [o.name for o in yunet.get_outputs()]
    outs = dict(zip(names, yunet.run(None, {"input": x})))
    return [(sc, box / s, kps / s) for sc, box, kps in decode_yunet(outs)]


# ---- SFace ------------------------------------------------------------------------------
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


def similarity(src, dst):
    """Umeyama similarity transform (2x3) mapping src points onto dst points."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    r = u @ e @ vt
    scale = (sig * np.diag(e)).sum() / s.var(0).sum()
    t = mu_d - scale * r @ mu_s
    return np.hstack([scale * r, t[:, None]])


def align(rgb, kps, size=112):
    """112x112 RGB crop warped so the 5 points land on OpenCV's SFace template."""
    m = np.vstack([similarity(kps.astype(np.float64), TEMPLATE), [0, 0, 1]])
    inv = np.linalg.inv(m)[:2]  # PIL maps output pixels back to input pixels
    img = Image.fromarray(rgb).transform((size, size), Image.AFFINE, inv.flatten().tolist(), Image.BILINEAR)
    return np.asarray(img)


def to_nchw(rgb_list):
    return np.stack([np.asarray(r, np.float32).transpose(2, 0, 1) for r in rgb_list])


def embed(sface, crops):
    return sface.run(None, {"data": to_nchw(crops)})[0]


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---- FaceMesh ---------------------------------------------------------------------------
def mesh(facemesh, rgb, box):
    """468x3 landmarks in image pixels (z in crop units) and the face logit."""
    x, y, w, h = box
    side = 1.5 * max(w, h)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = cx - side / 2, cy - side / 2
    crop = Image.fromarray(rgb).transform((192, 192), Image.EXTENT, (x0, y0, x0 + side, y0 + side), Image.BILINEAR)
    inp = (np.asarray(crop, np.float32) / 255.0)[None]
    lm, logit = facemesh.run(None, {"input_1": inp})
    lm = lm.reshape(468, 3)
    pts = lm.copy()
    pts[:, :2] = lm[:, :2] * side / 192 + [x0, y0]
    return lm, pts, float(logit.reshape(-1)[0])


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models")
    data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "data")
    with open(os.path.join(models, "manifest.json")) as f:
        manifest = {e["id"]: e for e in json.load(f)["models"]}
    print(f"onnxruntime {ort.__version__} (Python), models in {models}")
    check(ort.__version__ == "1.31.1", "onnxruntime is 1.31.1")

    sess = {}
    for mid in ("yunet", "sface", "sface-trunk", "sface-head", "facemesh"):
        e = manifest[mid]
        s = sess[mid] = session(os.path.join(models, e["file"]))
        ins = [(i.name, [d if isinstance(d, int) else -1 for d in i.shape]) for i in s.get_inputs()]
        outs = [o.name for o in s.get_outputs()]
        check(ins == [(e["input"]["name"], e["input"]["shape"])] and outs == e["outputs"],
              f"{mid}: loads; input {ins[0][0]} {ins[0][1]}, outputs {outs} as in the manifest")
    yunet, sface, facemesh = sess["yunet"], sess["sface"], sess["facemesh"]

    # YuNet
    grace = load_rgb(os.path.join(data, "grace_hopper.jpg"))
    g = detect(yunet, grace)
    check(len(g) == 1 and g[0][0] > 0.8, f"yunet: grace_hopper.jpg: {len(g)} face(s), score {g[0][0]:.3f}" if g
          else "yunet: grace_hopper.jpg: no face")
    t1 = detect(yunet, load_rgb(os.path.join(data, "insightface", "t1.jpg")))
    check(len(t1) == 6, f"yunet: insightface/t1.jpg: {len(t1)} faces (6 expected)")

    # SFace: batch of 4 == 4 singles
    fr = os.path.join(data, "face_recognition")
    people = {}
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        rgb = load_rgb(os.path.join(fr, name))
        d = detect(yunet, rgb)
        check(len(d) >= 1, f"yunet: face_recognition/{name}: {len(d)} face(s)")
        if d:
            people[name] = align(rgb, d[0][2])
    crops = list(people.values())
    if len(crops) == 4:
        batch = embed(sface, crops)
        single = np.vstack([embed(sface, [c]) for c in crops])
        diff = float(np.abs(batch - single).max())
        check(batch.shape == (4, 128) and diff <= 1e-5, f"sface: batch of 4 = 4 single runs (max abs diff {diff:.2e})")
        feats = np.vstack([sess["sface-trunk"].run(None, {"data": to_nchw(crops[i:i + 2])})[0] for i in (0, 2)])
        cut = sess["sface-head"].run(None, {"flatten_254": feats})[0]
        diff = float(np.abs(cut - batch).max())
        check(diff <= 1e-6, f"sface-trunk 2 faces per call, then sface-head over 4 = sface (max abs diff {diff:.2e})")
        emb = dict(zip(people, single))
        gen = [cosine(emb[a], emb[b]) for a, b in itertools.combinations(["obama.jpg", "obama2.jpg", "obama3.jpg"], 2)]
        imp = [cosine(emb[a], emb["biden.jpg"]) for a in ["obama.jpg", "obama2.jpg", "obama3.jpg"]]
        thr = manifest["sface"]["default_threshold"]
        print(f"        aligned cosine: Obama-Obama {', '.join(f'{c:.3f}' for c in gen)}; "
              f"Obama-Biden {', '.join(f'{c:.3f}' for c in imp)}")
        check(min(gen) > thr > max(imp), f"sface: genuine pairs above, impostor pairs below the threshold {thr}")

        # MobileFaceNet with its denormal weights flushed (the file run in its place) = the original
        mfn = {mid: session(os.path.join(models, manifest[mid]["file"])) for mid in ("mobilefacenet", "mobilefacenet-ftz")}
        bgr = (to_nchw(crops)[:, ::-1] - 127.5) / 128.0
        out = {mid: np.vstack([s.run(None, {"input": np.ascontiguousarray(bgr[i:i + 1])})[0] for i in range(4)])
               for mid, s in mfn.items()}
        diff = float(np.abs(out["mobilefacenet"] - out["mobilefacenet-ftz"]).max())
        check(out["mobilefacenet"].shape == (4, 512) and diff == 0.0,
              f"mobilefacenet-ftz = mobilefacenet on 4 aligned faces (max abs diff {diff:.2e})")

    # SFace on plain ORL crops (grey, 92x112 resized to 112x112, no alignment): a weak sanity check
    orl = os.path.join(data, "orl")
    if os.path.isdir(orl):
        subj = range(1, 11)
        imgs = {(s, i): np.asarray(Image.open(os.path.join(orl, f"s{s}", f"{i}.pgm")).convert("RGB").resize((112, 112), Image.BILINEAR))
                for s in subj for i in (1, 2, 3)}
        keys = list(imgs)
        e = embed(sface, [imgs[k] for k in keys])
        e = e / np.linalg.norm(e, axis=1, keepdims=True)
        sim = e @ e.T
        same = [sim[a, b] for a, b in itertools.combinations(range(len(keys)), 2) if keys[a][0] == keys[b][0]]
        diff = [sim[a, b] for a, b in itertools.combinations(range(len(keys)), 2) if keys[a][0] != keys[b][0]]
        print(f"        ORL s1-s10 (3 images each, unaligned): genuine mean {np.mean(same):.3f} "
              f"(min {np.min(same):.3f}), impostor mean {np.mean(diff):.3f} (max {np.max(diff):.3f})")
        check(np.mean(same) > np.mean(diff) + 0.2, "sface: ORL genuine mean well above impostor mean")

    # FaceMesh on Grace Hopper
    if g:
        lm, pts, logit = mesh(facemesh, grace, g[0][1])
        inside = float(np.mean((lm[:, :2] >= 0) & (lm[:, :2] <= 192)))
        check(lm.shape == (468, 3) and inside > 0.99 and logit > 0,
              f"facemesh: 468x3 landmarks, {inside:.0%} inside the crop, face logit {logit:.2f}")
        kps = g[0][2]
        # MediaPipe eye corners: 33/133 (subject's right eye), 362/263 (left eye)
        eyes = np.array([(pts[33, :2] + pts[133, :2]) / 2, (pts[362, :2] + pts[263, :2]) / 2])
        err = float(np.linalg.norm(eyes - kps[:2], axis=1).max() / g[0][1][2])
        check(err < 0.1, f"facemesh: eye centres within {err:.1%} of the face width of YuNet's eye points")

    if FAILED:
        print(f"check_models: {len(FAILED)} check(s) failed")
        sys.exit(1)
    print("check_models: all checks passed")


if __name__ == "__main__":
    main()
