//! Fitness for comparison on real models and real images: the sample
//! photos are fit; a squirrel YuNet takes for a face, eyes 12 px apart,
//! a heavy blur and a q10 JPEG are caught; roll, crop and format behave as
//! measured; the app shows the verdicts and `eval` splits its error rates
//! by them.

use facexplain::pipeline::Pipeline;
use facexplain::pipeline::align::{Similarity, warp};
use facexplain::quality::{Assessor, Thresholds};
use facexplain::record::{FaceQuality, Verdict};
use image::RgbImage;
use std::path::Path;
use std::sync::OnceLock;

mod common;
use common::{data, facexplain};

fn models() -> &'static (Pipeline, Assessor) {
    static M: OnceLock<(Pipeline, Assessor)> = OnceLock::new();
    M.get_or_init(|| {
        let p = Pipeline::load().expect("models present (run scripts/setup.sh)");
        let a = Assessor::load(&p.store, Thresholds::builtin()).expect("FaceMesh loads");
        (p, a)
    })
}

/// The quality of the largest face of a file.
fn quality_of(path: &Path) -> FaceQuality {
    let (p, a) = models();
    let f = p.analyze_file(path, None).expect("a face");
    a.assess(&f).expect("assessed")
}

/// The quality of the largest face of an in-memory image (written as PNG).
fn quality_of_image(img: &RgbImage) -> FaceQuality {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.png");
    img.save(&path).unwrap();
    quality_of(&path)
}

fn raw(q: &FaceQuality, name: &str) -> f64 {
    q.measure(name)
        .unwrap_or_else(|| panic!("{name} measured"))
        .raw
}

fn obama() -> RgbImage {
    image::open(data("face_recognition/obama.jpg"))
        .unwrap()
        .to_rgb8()
}

#[test]
fn sample_photos_are_fit() {
    for f in [
        "face_recognition/obama.jpg",
        "face_recognition/obama2.jpg",
        "face_recognition/obama3.jpg",
        "face_recognition/biden.jpg",
        "astronaut.png",
        "grace_hopper.jpg",
    ] {
        let q = quality_of(&data(f));
        assert_eq!(q.verdict, Verdict::Fit, "{f}: {:?}", q.reasons);
        assert!(q.reasons.is_empty());
        assert!(raw(&q, "FacePresence") > 0.9, "{f}");
    }
}

#[test]
fn a_squirrel_the_detector_takes_for_a_face_is_unfit_as_not_human() {
    let q = quality_of(&data("opencv/squirrel_cls.jpg"));
    assert_eq!(q.verdict, Verdict::Unfit);
    assert!(
        q.reasons[0].starts_with("not a human face"),
        "the reason that decides it comes first: {:?}",
        q.reasons
    );
    assert_eq!(
        q.measure("FacePresence").map(|m| m.verdict),
        Some(Verdict::Unfit)
    );
}

#[test]
fn eyes_twelve_pixels_apart_are_unfit_for_that_reason() {
    let img = obama();
    let ied = raw(&quality_of_image(&img), "InterEyeDistance");
    let k = 12.0 / ied;
    let small = image::imageops::resize(
        &img,
        (img.width() as f64 * k).round() as u32,
        (img.height() as f64 * k).round() as u32,
        image::imageops::FilterType::Triangle,
    );
    let q = quality_of_image(&small);
    let d = raw(&q, "InterEyeDistance");
    assert!((d - 12.0).abs() < 1.5, "eyes {d} px apart");
    assert_eq!(q.verdict, Verdict::Unfit);
    assert!(
        q.reasons[0].starts_with(&format!("eyes {d:.0} px apart: below the 32 px minimum")),
        "{:?}",
        q.reasons
    );
}

#[test]
fn a_heavily_blurred_copy_scores_lower_sharpness() {
    let img = obama();
    let sharp = quality_of_image(&img);
    let blurred = quality_of_image(&image::imageops::blur(&img, 6.0));
    let (s0, s1) = (raw(&sharp, "Sharpness"), raw(&blurred, "Sharpness"));
    assert!(s1 < s0 / 4.0, "sharpness {s0} → {s1}");
    let score = |q: &FaceQuality| q.measure("Sharpness").map(|m| m.score);
    assert!(score(&blurred) < score(&sharp));
    assert_ne!(blurred.verdict, Verdict::Fit, "{:?}", blurred.measures);
}

/// `img` turned by `deg` degrees about its centre (clockwise on screen for
/// positive angles), on a canvas large enough to hold it.
fn rotated(img: &RgbImage, deg: f64) -> RgbImage {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin());
    let side = (w * w + h * h).sqrt().ceil();
    // image → canvas: rotate about the image centre, then centre on the canvas.
    let (cx, cy) = (w / 2.0, h / 2.0);
    let t = Similarity {
        m: [
            [c, -s, side / 2.0 - (c * cx - s * cy)],
            [s, c, side / 2.0 - (s * cx + c * cy)],
        ],
    };
    warp(img, &t, side as u32, side as u32)
}

#[test]
fn a_copy_rotated_thirty_degrees_reports_that_roll() {
    let img = obama();
    let r0 = raw(&quality_of_image(&img), "HeadPoseRoll");
    for deg in [30.0, -30.0] {
        let q = quality_of_image(&rotated(&img, deg));
        let roll = raw(&q, "HeadPoseRoll");
        assert!(
            (roll - r0 - deg).abs() < 3.0,
            "turned {deg}°: roll {roll} (upright {r0})"
        );
        assert_eq!(q.verdict, Verdict::Limited, "{:?}", q.reasons);
        assert!(q.reasons.iter().any(|r| r.starts_with("head rolled")));
    }
}

#[test]
fn a_face_cut_by_the_border_reports_the_crop() {
    let img = obama();
    let q = quality_of_image(&img);
    assert_eq!(raw(&q, "FaceCrop"), 0.0);
    // Cut the image through the middle of the face's left half.
    let lm = models()
        .0
        .detect_file(&data("face_recognition/obama.jpg"))
        .unwrap()
        .faces[0]
        .landmarks5;
    let x0 = ((lm[0][0] as f64 + lm[2][0] as f64) / 2.0) as u32;
    let cut = image::imageops::crop_imm(&img, x0, 0, img.width() - x0, img.height()).to_image();
    let q = quality_of_image(&cut);
    let f = raw(&q, "FaceCrop");
    assert!(f > 0.2 && f < 0.6, "cut fraction {f}");
    assert!(
        q.reasons
            .iter()
            .any(|r| r.starts_with("face cut by the image border (left)")),
        "{:?}",
        q.reasons
    );
    // face_recognition's own partial face is cut on the left too.
    let q = quality_of(&data("face_recognition/obama_partial_face.jpg"));
    assert!(raw(&q, "FaceCrop") > 0.02, "{:?}", q.measures);
}

#[test]
fn measures_are_reproducible_and_agree_between_png_and_jpeg_q95() {
    let path = data("face_recognition/obama.jpg");
    assert_eq!(
        quality_of(&path),
        quality_of(&path),
        "identical to the last digit"
    );
    let img = obama();
    let dir = tempfile::tempdir().unwrap();
    let (png, jpg) = (dir.path().join("f.png"), dir.path().join("f.jpg"));
    img.save(&png).unwrap();
    let mut out = std::fs::File::create(&jpg).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(&img)
        .unwrap();
    let (a, b) = (quality_of(&png), quality_of(&jpg));
    assert_eq!(a.verdict, b.verdict);
    // Stated tolerances: 0.5 px, 1°, 10 % of the sharpness, 0.01 of a
    // fraction, 0.05 bits, 0.01 of a probability, 0.05 of the block-edge ratio.
    for (name, tol) in [
        ("InterEyeDistance", 0.5),
        ("HeadPoseYaw", 1.0),
        ("HeadPosePitch", 1.0),
        ("HeadPoseRoll", 1.0),
        ("Sharpness", 0.1 * raw(&a, "Sharpness")),
        ("UnderExposurePrevention", 0.01),
        ("OverExposurePrevention", 0.01),
        ("DynamicRange", 0.05),
        ("FaceCrop", 0.01),
        ("FaceDetectionConfidence", 0.01),
        ("FacePresence", 0.01),
        ("CompressionArtifacts", 0.05),
    ] {
        let (x, y) = (raw(&a, name), raw(&b, name));
        assert!((x - y).abs() <= tol, "{name}: PNG {x} vs JPEG {y}");
    }
}

#[test]
fn compare_says_unfit_first_and_require_fit_refuses_with_reasons() {
    let squirrel = data("opencv/squirrel_cls.jpg");
    let obama = data("face_recognition/obama.jpg");
    let (s, o) = (squirrel.to_str().unwrap(), obama.to_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("a.json");
    let (code, out, err) = facexplain(&["compare", s, o, "--json", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let warn = out.find("UNFIT for comparison").expect(&out);
    assert!(warn < out.find("similarity").expect(&out), "{out}");
    assert!(out.contains("not a human face"), "{out}");
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(a["images"][0]["quality"]["verdict"], "unfit");
    assert_eq!(a["images"][1]["quality"]["verdict"], "fit");
    let (code, out, err) = facexplain(&["compare", "--require-fit", s, o]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("not a human face") && !out.contains("similarity"),
        "{err}"
    );
    let (code, _, err) = facexplain(&["compare", "--require-fit", o, o]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn quality_command_prints_every_face_as_json() {
    let (code, out, err) = facexplain(&[
        "quality",
        "--json",
        data("face_recognition/obama.jpg").to_str().unwrap(),
        data("opencv/squirrel_cls.jpg").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["images"][0]["faces"][0]["quality"]["verdict"], "fit");
    assert_eq!(v["images"][1]["faces"][0]["quality"]["verdict"], "unfit");
    let measures = v["images"][0]["faces"][0]["quality"]["measures"]
        .as_array()
        .unwrap();
    assert_eq!(measures.len(), facexplain::quality::verdict::MEASURES.len());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("t.json");
    std::fs::write(&bad, "{").unwrap();
    let (code, _, err) = facexplain(&[
        "quality",
        "--quality-thresholds",
        bad.to_str().unwrap(),
        data("face_recognition/obama.jpg").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("t.json"), "{err}");
}

/// The window, driven headlessly: each slot shows its quality badge, and
/// the verdict header warns of an unfit face before the score.
#[test]
fn the_app_badges_each_image_and_warns_of_an_unfit_face_before_the_score() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use facexplain::app::{AppOptions, FacexplainApp};
    use std::time::{Duration, Instant};

    fn wait_for_pair(h: &mut Harness<'_, FacexplainApp>, b: &str) {
        let start = Instant::now();
        while !h
            .state()
            .analysis()
            .is_some_and(|a| a.images[1].path.ends_with(b))
        {
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "waiting for {b}"
            );
            std::thread::sleep(Duration::from_millis(20));
            h.step();
        }
        h.run_steps(4);
    }

    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    app.open_files(
        vec![
            data("face_recognition/obama.jpg"),
            data("opencv/squirrel_cls.jpg"),
        ],
        None,
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app);
    wait_for_pair(&mut h, "squirrel_cls.jpg");
    let an = h.state().analysis().unwrap();
    assert_eq!(
        an.images[1].quality.as_ref().map(|q| q.verdict),
        Some(Verdict::Unfit),
        "the analysis record carries the quality"
    );
    assert_eq!(
        an.images[0].quality.as_ref().map(|q| q.verdict),
        Some(Verdict::Fit)
    );
    let warning = h
        .get_by_label_contains("Image B (reference) is unfit for comparison: not a human face")
        .rect();
    let decision = h.get_by_label_contains("Decision:").rect();
    assert!(
        warning.bottom() <= decision.top(),
        "the warning {warning:?} comes before the score {decision:?}"
    );
    h.get_by_label_contains("must not be relied on");
    h.get_by_label("Quality: FIT");
    h.get_by_label("Quality: UNFIT");

    // The sample pair: both fit, no warning.
    h.state_mut().open_sample_pair();
    wait_for_pair(&mut h, "obama2.jpg");
    assert!(h.query_by_label_contains("for comparison").is_none());
    assert_eq!(h.query_all_by_label("Quality: FIT").count(), 2);
}

/// `eval` splits EER, FNMR@FMR and Cllr by the pairs' quality verdict: on
/// six ORL identities the groups add up to every pair, the pooled group is
/// limited plus unfit, and a second run gives the same numbers.
#[test]
fn eval_splits_error_rates_by_quality_and_the_counts_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("orl6");
    for id in 1..=6 {
        let (from, to) = (data(&format!("orl/s{id}")), ds.join(format!("s{id}")));
        std::fs::create_dir_all(&to).unwrap();
        for n in 1..=10 {
            std::fs::copy(from.join(format!("{n}.pgm")), to.join(format!("{n}.pgm"))).unwrap();
        }
    }
    let run = |out: &str| {
        let dir = tmp.path().join(out);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_facexplain"))
            .args(["eval", "--dataset", ds.to_str().unwrap(), "--out-dir"])
            .arg(&dir)
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        (text, j)
    };
    let (text, a) = run("a");
    let q = &a["quality"];
    let groups = q["groups"].as_array().unwrap();
    let n = |g: &serde_json::Value, k: &str| g[k].as_u64().unwrap();
    let group = |name: &str| groups.iter().find(|g| g["group"] == name);
    let parts: Vec<&serde_json::Value> = groups
        .iter()
        .filter(|g| g["group"] != "limited or unfit")
        .collect();
    for class in ["genuine", "impostor"] {
        let sum: u64 = parts.iter().map(|g| n(g, class)).sum();
        assert_eq!(sum, n(&a["pairs"], class), "{class}: {groups:?}");
        let pooled = n(group("limited or unfit").unwrap(), class);
        assert_eq!(
            pooled,
            n(group("limited").unwrap(), class) + n(group("unfit").unwrap(), class)
        );
    }
    let images: u64 = ["fit", "limited", "unfit"]
        .iter()
        .map(|v| q["images"][v].as_u64().unwrap())
        .sum::<u64>()
        + q["not_assessed"].as_array().unwrap().len() as u64;
    assert_eq!(images, n(&a["dataset"], "images_used"));
    // Every group with both classes has its EER and FNMR@FMR, and the Cllr of the built-in calibration.
    for g in groups
        .iter()
        .filter(|g| n(g, "genuine") > 0 && n(g, "impostor") > 0)
    {
        let eer = g["eer"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&eer), "{g}");
        assert_eq!(g["fnmr_at_fmr"].as_array().unwrap().len(), 3, "{g}");
        assert!(g["cllr"].as_f64().unwrap() >= 0.0, "{g}");
    }
    assert!(
        text.contains("image quality (thresholds.json sha256:"),
        "{text}"
    );
    assert!(text.contains("  limited or unfit: "), "{text}");
    // Reproducible: the same verdicts, counts and figures to the last digit.
    let (_, b) = run("b");
    assert_eq!(a["quality"]["groups"], b["quality"]["groups"]);
    assert_eq!(a["quality"]["images"], b["quality"]["images"]);
}

/// `img` encoded as JPEG at `quality` and decoded again.
fn jpeg_round_trip(img: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(img)
        .unwrap();
    image::load_from_memory(&bytes).unwrap().to_rgb8()
}

#[test]
fn a_q10_jpeg_shows_more_compression_artefacts_than_q95() {
    let img = obama();
    let q95 = quality_of_image(&jpeg_round_trip(&img, 95));
    let q10 = quality_of_image(&jpeg_round_trip(&img, 10));
    let (b95, b10) = (
        raw(&q95, "CompressionArtifacts"),
        raw(&q10, "CompressionArtifacts"),
    );
    eprintln!("CompressionArtifacts: q95 {b95:.3}, q10 {b10:.3}");
    assert!(b95 < 1.15, "q95 is nearly free of blocks: {b95}");
    assert!(b10 > b95 + 0.3, "q10 {b10} vs q95 {b95}");
    let score = |q: &FaceQuality| q.measure("CompressionArtifacts").unwrap().score;
    assert!(score(&q10) < score(&q95));
    assert!(
        q10.reasons
            .iter()
            .any(|r| r.starts_with("compression artefacts")),
        "{:?}",
        q10.reasons
    );
    assert!(!q95.reasons.iter().any(|r| r.starts_with("compression")));
    // The blocks are found off the origin too: the q10 image cropped by 3 px
    // and kept as PNG (the grid no longer starts at 0).
    let d = jpeg_round_trip(&img, 10);
    let shifted = image::imageops::crop_imm(&d, 3, 5, d.width() - 3, d.height() - 5).to_image();
    let bs = raw(&quality_of_image(&shifted), "CompressionArtifacts");
    assert!((bs - b10).abs() < 0.1 * b10, "shifted {bs} vs {b10}");
}

/// `bench` reports the quality assessment per face and its share of a
/// compare (figures, not checked against a time).
#[test]
fn bench_prints_the_quality_time_and_its_share_of_a_compare() {
    let (code, out, err) = facexplain(&[
        "bench",
        "--reps",
        "1",
        data("face_recognition/obama.jpg").to_str().unwrap(),
        data("face_recognition/biden.jpg").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "quality, all measures",
        "measures + verdict alone",
        "compare pair + quality",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    let share = out
        .lines()
        .find(|l| l.starts_with("compare pair + quality"))
        .and_then(|l| l.split("2 × quality per face = ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse::<f64>().ok())
        .expect("a share in per cent");
    assert!((0.0..=100.0).contains(&share), "{out}");
}
