//! Fitness for comparison on real models and real images: the sample
//! photos are fit; a squirrel YuNet takes for a face, eyes 12 px apart and
//! a heavy blur are caught; roll, crop and format behave as measured.

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
    // fraction, 0.05 bits, 0.01 of a probability.
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
