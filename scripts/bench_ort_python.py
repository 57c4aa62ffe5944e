#!/usr/bin/env python3
"""Python ONNX Runtime throughput of a model, as a reference for the Rust pipeline's figures.

Usage (in $FACEXPLAIN_CACHE/venv-onnx):
  bench_ort_python.py [--model models/sface.onnx] [--batch 32] [--runs 10] [--warmup 3] [--json]

Random input uniform in 0-255 (float32, fixed seed), default SessionOptions (ONNX Runtime
picks its own thread count), CPU provider. Times `run` only; reports the median of
--runs runs after --warmup runs, as images per second (wall clock) and per CPU-second
of this process (less sensitive to other load on the machine). A dynamic batch dimension takes
--batch; a fixed one is used as is.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "sface.onnx"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()

    load = os.getloadavg()[0]  # other work on the machine skews the figure: report it
    sess = ort.InferenceSession(a.model, ort.SessionOptions(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [a.batch if i == 0 and not isinstance(d, int) else d for i, d in enumerate(inp.shape)]
    if any(not isinstance(d, int) for d in shape):
        raise SystemExit(f"input {inp.name} has symbolic dims beyond the batch: {inp.shape}")
    x = np.random.default_rng(0).uniform(0, 255, size=shape).astype(np.float32)
    feed = {inp.name: x}
    for _ in range(a.warmup):
        sess.run(None, feed)
    times, cpu = [], []
    for _ in range(a.runs):
        c0, t0 = time.process_time(), time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = statistics.median(times)
    med_cpu = statistics.median(cpu)
    result = {
        "model": os.path.basename(a.model), "batch": shape[0], "runs": a.runs, "warmup": a.warmup,
        "median_s": round(med, 5), "min_s": round(min(times), 5), "images_per_s": round(shape[0] / med, 1),
        "cpu_s_per_run": round(med_cpu, 5), "images_per_cpu_s": round(shape[0] / med_cpu, 1),
        "onnxruntime": ort.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
        "loadavg_1min_before": round(load, 2),
    }
    if a.json:
        print(json.dumps(result))
    else:
        print(f"{result['model']} batch {shape[0]}: median {med * 1000:.1f} ms per run "
              f"(min {min(times) * 1000:.1f} ms, {a.runs} runs after {a.warmup} warm-up) = "
              f"{result['images_per_s']} images/s ({result['images_per_cpu_s']} per CPU-second); onnxruntime {ort.__version__} (Python), {os.cpu_count()} CPUs, "
              f"load average {load:.2f} before")


if __name__ == "__main__":
    main()
