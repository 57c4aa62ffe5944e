#!/usr/bin/env python3
"""Reference values from NFI's `lir` (1.3.1) for facexplain's likelihood-ratio tests.

Usage: lir_reference.py OUT.json   (run with $FACEXPLAIN_CACHE/venv-lir/bin/python)

Two fixed score sets, drawn from a seeded generator, rounded to 6 decimals and written into the JSON so
that the Rust side reads exactly the same numbers:
  gaussians  Hp ~ N(1.5, 1), Hd ~ N(0, 1), 300 / 600 scores; its log10 LRs are the
             exact ones of the two densities, (1.5 s − 1.125) / ln 10.
  orl_like   cosine-similarity-like scores shaped as SFace on ORL (genuine around
             0.62, impostor around 0.08, 1:40 class sizes, 120 / 4800 scores); its
             log10 LRs are a deliberately miscalibrated linear map of the score, 9 (s − 0.33).
For each set: Cllr, Cllr_min, Cllr_cal and ELUB bounds of the log10 LRs, the PAV
transform of the log10 LRs (lir's IsotonicCalibrator), the isotonic calibrator
with one misleading score per class fitted on the scores and read at probe
scores, the ECE at a few prior log-odds, and lir's logistic calibrator (with its
L2 penalty made negligible) at the probe scores. The tests compare to 1e-6.
"""
import json
import sys

import numpy as np
from lir.algorithms.bayeserror import elub
from lir.algorithms.isotonic_regression import IsotonicCalibrator
from lir.algorithms.logistic_regression import LogitCalibrator
from lir.data.models import LLRData
from lir.metrics import cllr, cllr_cal, cllr_min
from lir.plotting.expected_calibration_error import calculate_ece

PRIOR_LOG10_ODDS = [-2.0, -1.0, 0.0, 1.0, 2.0]


def gaussians(rng):
    hp = np.round(rng.normal(1.5, 1.0, 300), 6)
    hd = np.round(rng.normal(0.0, 1.0, 600), 6)
    # log10 of N(s; 1.5, 1) / N(s; 0, 1) = (1.5 s − 1.125) / ln 10
    llr = lambda s: (1.5 * s - 1.125) / np.log(10)
    probes = np.linspace(-3.0, 4.5, 16)
    return hp, hd, llr, probes


def orl_like(rng):
    hp = np.round(np.clip(rng.normal(0.62, 0.13, 120), -1, 1), 6)
    hd = np.round(np.clip(rng.normal(0.08, 0.09, 4800), -1, 1), 6)
    llr = lambda s: 9.0 * (s - 0.33)
    probes = np.linspace(-0.2, 0.95, 24)
    return hp, hd, llr, probes


def finite_or_text(v):
    """JSON has no infinity: ±∞ are written as the strings "inf" and "-inf"."""
    if isinstance(v, list):
        return [finite_or_text(x) for x in v]
    v = float(v)
    return v if np.isfinite(v) else ("inf" if v > 0 else "-inf")


def reference(hp, hd, llr, probes):
    scores = np.concatenate([hp, hd])
    labels = np.concatenate([np.ones(len(hp)), np.zeros(len(hd))])
    llrs = llr(scores)
    data = LLRData(features=llrs.copy(), labels=labels)
    pav = IsotonicCalibrator().fit_transform(llrs.copy(), labels)
    iso = IsotonicCalibrator(add_misleading=1).fit(scores.copy(), labels)
    logit = LogitCalibrator(C=1e12, tol=1e-14, max_iter=100000).fit(scores.copy(), labels)
    lo, hi = elub(llrs.copy(), labels, add_misleading=1)
    ece = calculate_ece(10.0 ** llrs, labels, 1 / (1 + 10.0 ** -np.array(PRIOR_LOG10_ODDS)))
    out = {
        "hp": hp.tolist(),
        "hd": hd.tolist(),
        "cllr": cllr(data),
        "cllr_min": cllr_min(data),
        "cllr_cal": cllr_cal(data),
        "elub": [float(lo), float(hi)],
        "pav_llr_hp": pav[: len(hp)].tolist(),
        "pav_llr_hd": pav[len(hp):].tolist(),
        "probes": probes.tolist(),
        "isotonic_misleading_llr": iso.transform(probes.copy()).tolist(),
        "logistic_llr": logit.transform(probes.copy()).tolist(),
        "prior_log10_odds": PRIOR_LOG10_ODDS,
        "ece": ece.tolist(),
    }
    return {k: finite_or_text(v) for k, v in out.items()}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    import importlib.metadata

    rng = np.random.default_rng(20261202)
    out = {
        "generated_by": "scripts/lir_reference.py",
        "lir": importlib.metadata.version("lir"),
        "gaussians": reference(*gaussians(rng)),
        "orl_like": reference(*orl_like(rng)),
    }
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
