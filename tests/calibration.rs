//! Calibration end to end on real models and the ORL faces: `calibrate` is
//! reproducible to the byte, `eval` measures and plots, `compare` reports the
//! calibrated confidence, and bad calibration input exits with 2.

use serde_json::Value;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Run the binary with its embedding cache in `cache`.
fn facexplain(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("run facexplain");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sface_sha256() -> String {
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(root("models/manifest.json")).unwrap())
            .unwrap();
    let e = m["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "sface")
        .unwrap();
    e["sha256"].as_str().unwrap().to_string()
}

/// Embedding ORL takes most of the time, so one test embeds it once (empty
/// cache), calibrates again from the cache, and evaluates from the cache.
#[test]
fn orl_calibrate_twice_is_byte_identical_and_eval_measures_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let orl = root("data/orl");
    let (a, b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    // First run embeds every image (empty cache), the second reads the cache.
    let (code, out, err) = facexplain(&cache, &["calibrate", "--dataset", s(&orl), "--out", s(&a)]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("0 embeddings from the cache"), "{out}");
    let (code, out, err) = facexplain(&cache, &["calibrate", "--dataset", s(&orl), "--out", s(&b)]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("400 embeddings from the cache"), "{out}");
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ba, bb, "two calibrations of the same data differ");

    let j: Value = serde_json::from_slice(&ba).unwrap();
    assert_eq!(j["schema"], "facexplain.calibration/2");
    assert_eq!(
        j["likelihood_ratio"]["data"][0]["genuine_pairs"],
        j["pairs"]["genuine"]
    );
    assert_eq!(j["model"]["sha256"], sface_sha256());
    assert_eq!(j["dataset"]["name"], "orl");
    assert_eq!(j["dataset"]["identities"], 40);
    assert_eq!(j["dataset"]["images"], 400);
    let used = j["dataset"]["images_used"].as_u64().unwrap();
    assert_eq!(
        used as usize + j["dataset"]["skipped"].as_array().unwrap().len(),
        400
    );
    // 40 identities × C(10,2) genuine pairs when every face is found.
    if used == 400 {
        assert_eq!(j["pairs"]["genuine"], 1800);
        assert_eq!(j["pairs"]["impostor"], 78000);
    }
    assert_eq!(j["pairs"]["selection"], "all");
    let t = &j["threshold"];
    let sim = t["similarity"].as_f64().unwrap();
    assert!(sim > 0.0 && sim < 1.0, "{t}");
    assert!((t["distance"].as_f64().unwrap() - (1.0 - sim)).abs() < 1e-12);
    assert!(
        t["eer"].as_f64().unwrap() < 0.1,
        "SFace on ORL should separate well: {t}"
    );
    assert!(
        (t["fmr"].as_f64().unwrap() - t["fnmr"].as_f64().unwrap()).abs() < 0.02,
        "{t}"
    );
    let p = &j["c_score"]["fit"]["params"];
    assert!(
        p["k"].as_f64().unwrap() < 0.0,
        "the ratio must fall with distance: {p}"
    );
    assert!(j["pic"]["genuine"]["values"].as_array().unwrap().len() == 1001);

    // The shipped default is this very calibration.
    let shipped = std::fs::read(root("assets/calibration/sface-orl.json")).unwrap();
    assert_eq!(
        shipped, ba,
        "assets/calibration/sface-orl.json is not what `calibrate` gives on ORL now"
    );

    eval_on_orl_reports_an_eer_and_writes_the_plots(&cache, tmp.path());
}

/// MobileFaceNet's shipped calibration is what `calibrate --model
/// mobilefacenet` gives on ORL now — with the copy whose denormal weights are
/// flushed, which the embedder runs, so every ORL embedding is unchanged by
/// the flush (issue 19).
#[test]
fn mobilefacenet_calibration_is_what_calibrate_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, orl) = (tmp.path().join("mfn.json"), root("data/orl"));
    let args = [
        "calibrate",
        "--model",
        "mobilefacenet",
        "--dataset",
        s(&orl),
        "--out",
        s(&out),
    ];
    let (code, stdout, err) = facexplain(&tmp.path().join("cache"), &args);
    assert_eq!(code, 0, "{stdout}\n{err}");
    let shipped = std::fs::read(root("assets/calibration/mobilefacenet-orl.json")).unwrap();
    assert!(
        shipped == std::fs::read(&out).unwrap(),
        "assets/calibration/mobilefacenet-orl.json is not what `calibrate --model mobilefacenet` gives on ORL now"
    );
}

fn eval_on_orl_reports_an_eer_and_writes_the_plots(cache: &Path, tmp: &Path) {
    let out_dir = tmp.join("eval");
    // Without the quality split, whose verdicts come with the embeddings
    // (calibrate's cache entries carry none: eval would embed again).
    let (code, out, err) = facexplain(
        cache,
        &[
            "eval",
            "--dataset",
            s(&root("data/orl")),
            "--out-dir",
            s(&out_dir),
            "--no-quality",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("EER "), "{out}");
    assert!(out.contains("400 embeddings from the cache"), "{out}");
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    let eer = j["eer"]["eer"].as_f64().unwrap();
    assert!(eer > 0.0 && eer < 0.1, "{}", j["eer"]);
    let auc = j["auc"].as_f64().unwrap();
    assert!(auc > 0.97 && auc <= 1.0, "{auc}");
    let f = j["fnmr_at_fmr"].as_array().unwrap();
    assert_eq!(f.len(), 3);
    // 78,000 impostor pairs: all three FMRs down to 0.01 % are measurable.
    for x in f {
        assert_eq!(x["measurable"], true, "{x}");
        assert!(x["fmr"].as_f64().unwrap() <= x["fmr_target"].as_f64().unwrap());
    }
    let fnmr: Vec<f64> = f.iter().map(|x| x["fnmr"].as_f64().unwrap()).collect();
    assert!(
        fnmr[0] <= fnmr[1] && fnmr[1] <= fnmr[2],
        "stricter FMR cannot lower FNMR: {fnmr:?}"
    );
    let cv = &j["cross_validation"];
    assert_eq!(cv["folds"], 5);
    for which in ["c_score", "pic"] {
        let e = cv[which]["ece_balanced"].as_f64().unwrap();
        assert!((0.0..0.25).contains(&e), "{which}: {e}");
        assert_eq!(
            cv[which]["reliability_balanced"]["bins"]
                .as_array()
                .unwrap()
                .len(),
            10
        );
    }
    assert_eq!(j["calibration"]["name"], "sface-orl (built-in)");
    for name in [
        "det.png",
        "scores.png",
        "reliability-c-score.png",
        "reliability-pic.png",
    ] {
        let p = out_dir.join(name);
        let img = image::open(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .to_rgb8();
        assert_eq!(img.dimensions(), (800, 600));
        let coloured = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(
            coloured > 5_000,
            "{name} is nearly blank ({coloured} pixels drawn)"
        );
    }
}

#[test]
fn compare_reports_the_calibrated_confidence() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("a.json");
    let (a, b, c) = (
        root("data/orl/s1/1.pgm"),
        root("data/orl/s1/2.pgm"),
        root("data/orl/s2/1.pgm"),
    );
    let (code, out, err) = facexplain(tmp.path(), &["compare", s(&a), s(&b), "--json", s(&json)]);
    assert_eq!(code, 0, "{out}\n{err}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["decision"], "match", "two photos of ORL s1: {out}");
    assert!(
        j["threshold_source"]
            .as_str()
            .unwrap()
            .contains("calibration sface-orl (built-in)")
    );
    let conf = &j["confidence"];
    let (pic, dc, cs) = (
        conf["pic_score"].as_f64().unwrap(),
        conf["decision_confidence"].as_f64().unwrap(),
        conf["c_score"].as_f64().unwrap(),
    );
    let post = j["evidence"]["posterior_hp"].as_f64().unwrap();
    assert_eq!(
        post, dc,
        "for a match the decision confidence is P(Hp) from the bounded LR"
    );
    assert!(dc < 1.0, "never certain: {conf}");
    assert!(cs > 0.5 && cs <= 1.0 && pic > 0.5, "{conf}");
    let shipped = std::fs::read(root("assets/calibration/sface-orl.json")).unwrap();
    let sha = format!("{:x}", sha2::Sha256::digest(&shipped));
    assert_eq!(conf["calibration"]["sha256"], sha);

    let (code, out, err) = facexplain(tmp.path(), &["compare", s(&a), s(&c), "--json", s(&json)]);
    assert_eq!(code, 0, "{out}\n{err}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["decision"], "non-match", "ORL s1 vs s2: {out}");
    let conf = &j["confidence"];
    let (pic, dc) = (
        conf["pic_score"].as_f64().unwrap(),
        conf["decision_confidence"].as_f64().unwrap(),
    );
    let post = j["evidence"]["posterior_hp"].as_f64().unwrap();
    assert!(
        (dc - (1.0 - post)).abs() < 1e-12 && dc < 1.0 && pic < 0.5,
        "for a non-match the decision confidence is 1 − P(Hp) from the bounded LR: {conf}"
    );
    assert!(dc > 0.5, "{conf}");

    // --calibration with the same file's bytes gives the same numbers under its own name.
    let copy = tmp.path().join("mine.json");
    std::fs::write(&copy, &shipped).unwrap();
    let (code, out, err) = facexplain(
        tmp.path(),
        &[
            "compare",
            s(&a),
            s(&c),
            "--calibration",
            s(&copy),
            "--json",
            s(&json),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let k: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(k["confidence"]["calibration"]["name"], "mine");
    assert_eq!(k["confidence"]["pic_score"], j["confidence"]["pic_score"]);
    assert_eq!(k["threshold"], j["threshold"]);
}

#[test]
fn bad_calibration_input_exits_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (a, b) = (root("data/orl/s1/1.pgm"), root("data/orl/s1/2.pgm"));
    let shipped = std::fs::read_to_string(root("assets/calibration/sface-orl.json")).unwrap();

    let malformed = t.join("malformed.json");
    std::fs::write(&malformed, &shipped[..shipped.len() / 2]).unwrap();
    let (code, _, err) = facexplain(
        t,
        &["compare", s(&a), s(&b), "--calibration", s(&malformed)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("malformed.json") && err.contains("not valid JSON"),
        "{err}"
    );

    let foreign = t.join("foreign.json");
    let mut j: Value = serde_json::from_str(&shipped).unwrap();
    j["model"]["sha256"] = Value::from("0".repeat(64));
    std::fs::write(&foreign, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    let (code, _, err) = facexplain(t, &["compare", s(&a), s(&b), "--calibration", s(&foreign)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("0000000000000000") && err.contains(&sface_sha256()),
        "{err}"
    );

    let schema = t.join("schema.json");
    j["schema"] = Value::from("facexplain.calibration/99");
    std::fs::write(&schema, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    let (code, _, err) = facexplain(t, &["compare", s(&a), s(&b), "--calibration", s(&schema)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("schema.json") && err.contains("facexplain.calibration/99"),
        "{err}"
    );

    let empty = t.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = facexplain(
        t,
        &[
            "calibrate",
            "--dataset",
            s(&empty),
            "--out",
            s(&t.join("x.json")),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("empty") && err.contains("no images found"),
        "{err}"
    );

    let one = t.join("one");
    std::fs::create_dir_all(one.join("s1")).unwrap();
    for n in ["1.pgm", "2.pgm"] {
        std::fs::copy(root("data/orl/s1").join(n), one.join("s1").join(n)).unwrap();
    }
    let (code, _, err) = facexplain(
        t,
        &["eval", "--dataset", s(&one), "--out-dir", s(&t.join("ev"))],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("only one identity (s1)"), "{err}");

    let (code, _, err) = facexplain(
        t,
        &["calibrate", "--dataset", s(&root("data/orl/s1/1.pgm"))],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a folder"), "{err}");
}

#[test]
fn faceless_and_broken_images_are_listed_and_skipped_and_pairs_lists_work() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let ds = t.join("small");
    for id in ["s1", "s2", "s3"] {
        std::fs::create_dir_all(ds.join(id)).unwrap();
        for n in ["1.pgm", "2.pgm", "3.pgm"] {
            std::fs::copy(root("data/orl").join(id).join(n), ds.join(id).join(n)).unwrap();
        }
    }
    // A flat grey image has no face; a text file named .jpg is not an image.
    image::GrayImage::from_pixel(92, 112, image::Luma([128]))
        .save(ds.join("s2/blank.png"))
        .unwrap();
    std::fs::write(ds.join("s3/broken.jpg"), b"not a jpeg").unwrap();
    std::fs::write(ds.join("s3/notes.txt"), b"ignored: not an image extension").unwrap();
    let out = t.join("small.json");
    let (code, stdout, err) = facexplain(t, &["calibrate", "--dataset", s(&ds), "--out", s(&out)]);
    assert_eq!(code, 0, "{stdout}\n{err}");
    assert!(
        stdout.contains("skipped s2/blank.png: no face was found"),
        "{stdout}"
    );
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(j["dataset"]["images"], 11);
    assert_eq!(j["dataset"]["images_used"], 9);
    let skipped: Vec<&str> = j["dataset"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["s2/blank.png", "s3/broken.jpg"]);
    // 3 identities × C(3,2) genuine; C(9,2) − 9 = 27 impostor pairs.
    assert_eq!(j["pairs"]["genuine"], 9);
    assert_eq!(j["pairs"]["impostor"], 27);

    // 27 impostor pairs cannot show an FMR of 0.1 %; the threshold rule says so.
    let (code, _, err) = facexplain(
        t,
        &[
            "calibrate",
            "--dataset",
            s(&ds),
            "--fmr",
            "0.001",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("27 impostor pairs") && err.contains("at least 1000"),
        "{err}"
    );
    let (code, _, err) = facexplain(
        t,
        &[
            "calibrate",
            "--dataset",
            s(&ds),
            "--fmr",
            "0.1",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(j["threshold"]["rule"], "fmr<=0.1");
    assert!(j["threshold"]["fmr"].as_f64().unwrap() <= 0.1);

    // The same images through an LFW-style pairs list (ORL numbering; header line skipped).
    let pairs = t.join("pairs.txt");
    std::fs::write(
        &pairs,
        "1\t6\ns1\t1\t2\ns1\t2\t3\ns2\t1\t3\ns1\t1\ts2\t1\ns2\t2\ts3\t3\ns3\t1\ts1\t3\n",
    )
    .unwrap();
    let out2 = t.join("listed.json");
    let (code, stdout, err) = facexplain(
        t,
        &[
            "calibrate",
            "--dataset",
            s(&ds),
            "--pairs",
            s(&pairs),
            "--out",
            s(&out2),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{err}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&out2).unwrap()).unwrap();
    assert_eq!(j["pairs"]["selection"], "pairs list");
    assert_eq!(
        (
            j["pairs"]["genuine"].as_u64(),
            j["pairs"]["impostor"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(j["dataset"]["pairs_file"]["name"], "pairs.txt");

    // A list naming a missing image is refused with the line number.
    std::fs::write(&pairs, "s1 1 2\ns1 1 99\n").unwrap();
    let (code, _, err) = facexplain(t, &["calibrate", "--dataset", s(&ds), "--pairs", s(&pairs)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 2") && err.contains("no image 99 of identity \"s1\""),
        "{err}"
    );
}
