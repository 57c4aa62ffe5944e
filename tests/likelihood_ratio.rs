//! The likelihood-ratio mathematics against NFI's `lir` 1.3.1: Cllr,
//! Cllr_min, Cllr_cal, ELUB bounds, the PAV transform, the isotonic and the
//! logistic calibrators and the ECE agree to 1e-6 on two fixed score sets
//! (tests/fixtures/lir_reference.json, written by scripts/lir_reference.py in
//! the pinned virtualenv that scripts/setup.sh creates). The fixture is also
//! regenerated here from `lir` and must be the same file.

use facexplain::calibration::fit::{cllr, elub, logreg::Logistic, pav};
use serde_json::Value;
use std::path::{Path, PathBuf};

const TOL: f64 = 1e-6;

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn fixture() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root("tests/fixtures/lir_reference.json")).unwrap(),
    )
    .unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| match x.as_str() {
            Some("inf") => f64::INFINITY,
            Some("-inf") => f64::NEG_INFINITY,
            _ => x.as_f64().unwrap(),
        })
        .collect()
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL || (got == want),
        "{what}: facexplain {got}, lir {want}"
    );
}

fn close_all(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), *g, *w);
    }
}

/// The log10 LRs each set's script assigns to a score.
fn llr(set: &str, s: f64) -> f64 {
    match set {
        "gaussians" => (1.5 * s - 1.125) / std::f64::consts::LN_10,
        "orl_like" => 9.0 * (s - 0.33),
        _ => unreachable!(),
    }
}

#[test]
fn metrics_bounds_and_calibrators_agree_with_lir() {
    let f = fixture();
    assert_eq!(f["lir"], "1.3.1");
    for set in ["gaussians", "orl_like"] {
        let r = &f[set];
        let (hp, hd) = (floats(&r["hp"]), floats(&r["hd"]));
        let lp: Vec<f64> = hp.iter().map(|&s| llr(set, s)).collect();
        let ld: Vec<f64> = hd.iter().map(|&s| llr(set, s)).collect();
        let c = cllr::costs(&lp, &ld);
        let want = |k: &str| floats(&Value::Array(vec![r[k].clone()]))[0];
        close(&format!("{set} cllr"), c.cllr, want("cllr"));
        close(&format!("{set} cllr_min"), c.cllr_min, want("cllr_min"));
        close(&format!("{set} cllr_cal"), c.cllr_cal, want("cllr_cal"));
        let (lo, hi) = elub::elub(&lp, &ld);
        let want = floats(&r["elub"]);
        close(&format!("{set} ELUB lower"), lo, want[0]);
        close(&format!("{set} ELUB upper"), hi, want[1]);
        let (php, phd) = pav::pav_log10_lrs(&lp, &ld);
        close_all(&format!("{set} PAV Hp"), &php, &floats(&r["pav_llr_hp"]));
        close_all(&format!("{set} PAV Hd"), &phd, &floats(&r["pav_llr_hd"]));
        let probes = floats(&r["probes"]);
        let iso = pav::Isotonic::fit(&hp, &hd, 1).knots();
        let got: Vec<f64> = probes.iter().map(|&s| iso.log10_lr(s)).collect();
        close_all(
            &format!("{set} isotonic calibrator"),
            &got,
            &floats(&r["isotonic_misleading_llr"]),
        );
        let lg = Logistic::fit(&hp, &hd).unwrap();
        let got: Vec<f64> = probes.iter().map(|&s| lg.log10_lr(s)).collect();
        close_all(
            &format!("{set} logistic calibrator"),
            &got,
            &floats(&r["logistic_llr"]),
        );
        let ece = cllr::ece(&lp, &ld, &floats(&r["prior_log10_odds"]));
        close_all(&format!("{set} ECE"), &ece, &floats(&r["ece"]));
    }
}

#[test]
fn the_fixture_is_what_lir_computes() {
    let cache = std::env::var_os("FACEXPLAIN_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("facexplain")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/facexplain")))
        .unwrap();
    let py = cache.join("venv-lir/bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/setup.sh (it creates the lir virtualenv)",
        py.display()
    );
    let out = std::env::temp_dir().join(format!("lir_reference-{}.json", std::process::id()));
    let st = std::process::Command::new(&py)
        .arg(root("scripts/lir_reference.py"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let fresh: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_eq!(
        fresh,
        fixture(),
        "scripts/lir_reference.py no longer reproduces the fixture"
    );
}

#[test]
fn the_sample_pair_gets_a_finite_bounded_lr_and_a_confidence_short_of_certain() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("analysis.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .args(["compare"])
        .arg(root("data/face_recognition/obama.jpg"))
        .arg(root("data/face_recognition/obama2.jpg"))
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let e = &a["evidence"];
    let (lr, l10) = (e["lr"].as_f64().unwrap(), e["log10_lr"].as_f64().unwrap());
    let (lo, hi) = (
        e["log10_lower_bound"].as_f64().unwrap(),
        e["log10_upper_bound"].as_f64().unwrap(),
    );
    assert!(lr.is_finite() && lr > 1.0, "{e}");
    assert!((lr.log10() - l10).abs() < 1e-9);
    assert!(
        lo <= l10 && l10 <= hi && hi <= 78_001f64.log10() + 0.01,
        "{e}"
    );
    assert_eq!(
        e["clipped"].as_bool().unwrap(),
        e["log10_lr_unbounded"].as_f64().unwrap() > hi
    );
    assert_eq!(e["hp"], "the two images show the same person");
    assert_eq!(e["favours"], "Hp");
    let band = e["verbal_band"].as_str().unwrap();
    let want = match l10 {
        x if x >= 6.0 => "extremely strong support",
        x if x >= 4.0 => "very strong support",
        x if x >= 3.0 => "strong support",
        x if x >= 2.0 => "moderately strong support",
        x if x >= 1.0 => "moderate support",
        x if x >= 2f64.log10() => "weak support",
        _ => "do not support one proposition over the other",
    };
    assert_eq!(band, want, "{e}");
    assert_eq!(e["data"][0]["name"], "orl");
    let conf = a["confidence"]["decision_confidence"].as_f64().unwrap();
    assert!(conf < 1.0 && conf > 0.5, "{conf}");
    assert_eq!(conf, e["posterior_hp"].as_f64().unwrap());
    // The terminal says it too, never as 100.0 %.
    assert!(
        stdout.contains("likelihood ratio for Hp (the two images show the same person)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("verbal equivalent (ENFSI 2015): {band} for Hp")),
        "{stdout}"
    );
    assert!(!stdout.contains("100.0 %"), "{stdout}");
    assert!(
        stdout.contains("FMR") && stdout.contains("on orl"),
        "threshold provenance: {stdout}"
    );
}
