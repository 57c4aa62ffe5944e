//! Face recognisers as data (issue 19), the shipped ones: SFace described
//! by its manifest entry, MobileFaceNet's measured conventions on real
//! images and its flushed copy, the input conversion on known tensors, both
//! models side by side on sample pairs, in the chat and the report, and
//! `bench-models`. The user's own models: `tests/user_models.rs`.

mod common;
use common::user_models::{facexplain, store};
use facexplain::pipeline::align::TEMPLATE;
use facexplain::pipeline::embed::cosine;
use facexplain::pipeline::recogniser::{Prep, Recogniser};
use facexplain::pipeline::{Embedder, Pipeline};
use ndarray::Array4;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    common::data(rel)
}

#[test]
fn sface_is_described_by_its_manifest_entry() {
    let r = Recogniser::in_store(&store(), "sface").unwrap();
    assert_eq!(
        r.spec.alignment, TEMPLATE,
        "the template the pipeline always used"
    );
    assert_eq!(r.spec.input_size, [112, 112]);
    assert!(r.prep().is_identity(), "SFace takes RGB raw 0-255 NCHW");
    assert_eq!(r.spec.split.as_ref().unwrap()[0], "sface-trunk");
    assert_eq!(r.default_threshold(), 0.363);
    let m = Recogniser::in_store(&store(), "mobilefacenet").unwrap();
    assert!(!m.prep().is_identity());
    assert_eq!(m.entry.embedding_size, Some(512));
    assert!(
        Recogniser::in_store(&store(), "yunet").is_err(),
        "a detector is no recogniser"
    );
}

#[test]
fn prep_swaps_normalises_and_transposes() {
    // 1 face, 3 channels, 1x2 pixels: channel c, column x holds 10c + x.
    let x = Array4::from_shape_fn((1, 3, 1, 2), |(_, c, _, w)| (10 * c + w) as f32);
    let p = Prep {
        bgr: true,
        mean: [1.0, 2.0, 3.0],
        std: [2.0, 4.0, 8.0],
        nhwc: false,
    };
    let y = p.apply(x.view());
    // Model channel 0 is the source's blue (20, 21): (20 - 1) / 2.
    assert_eq!(y[[0, 0, 0, 0]], 9.5);
    assert_eq!(y[[0, 0, 0, 1]], 10.0);
    assert_eq!(y[[0, 1, 0, 0]], 2.0);
    assert_eq!(y[[0, 2, 0, 1]], (1.0 - 3.0) / 8.0);
    let nhwc = Prep { nhwc: true, ..p }.apply(x.view());
    assert_eq!(nhwc.dim(), (1, 1, 2, 3));
    assert_eq!(nhwc[[0, 0, 1, 0]], 10.0);
}

/// Embeddings of the largest face of each file with `p`.
fn embed(p: &Pipeline, files: &[&str]) -> Vec<Vec<f32>> {
    files
        .iter()
        .map(|f| p.analyze_file(&data(f), None).unwrap().embedding)
        .collect()
}

#[test]
fn mobilefacenet_separates_genuine_from_impostor_pairs() {
    let p = Pipeline::load_model("mobilefacenet").unwrap();
    assert_eq!(p.embedder.name(), "mobilefacenet");
    let obama = embed(
        &p,
        &[
            "face_recognition/obama.jpg",
            "face_recognition/obama2.jpg",
            "face_recognition/obama3.jpg",
        ],
    );
    let others = embed(
        &p,
        &[
            "face_recognition/biden.jpg",
            "grace_hopper.jpg",
            "astronaut.png",
        ],
    );
    assert_eq!(obama[0].len(), 512);
    let mut genuine = Vec::new();
    for i in 0..3 {
        for j in i + 1..3 {
            genuine.push(cosine(&obama[i], &obama[j]));
        }
    }
    let impostor: Vec<f32> = obama
        .iter()
        .flat_map(|o| others.iter().map(move |x| cosine(o, x)))
        .collect();
    let gmin = genuine.iter().copied().fold(f32::INFINITY, f32::min);
    let imax = impostor.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert!(
        gmin > imax + 0.2,
        "genuine {genuine:?} must lie clearly above impostor {impostor:?}"
    );
    // Decisions at the calibrated threshold on the sample pairs.
    assert!(gmin >= p.default_threshold && imax < p.default_threshold);
}

#[test]
fn fixed_batch_model_embeds_a_batch_like_single_faces() {
    let p = Pipeline::load_model("mobilefacenet").unwrap();
    let f = ["face_recognition/obama.jpg", "face_recognition/biden.jpg"];
    let crops: Vec<_> = f
        .iter()
        .map(|f| p.analyze_file(&data(f), None).unwrap().aligned.crop)
        .collect();
    let refs: Vec<_> = crops.iter().collect();
    let both = p.embedder.embed_faces(&refs).unwrap();
    for (i, c) in crops.iter().enumerate() {
        assert_eq!(p.embedder.embed_faces(&[c]).unwrap().row(0), both.row(i));
    }
}

#[test]
fn embedder_for_recogniser_matches_the_default_sface() {
    let s = store();
    let r = Recogniser::in_store(&s, "sface").unwrap();
    let lanes = facexplain::pipeline::embed::Lanes::split(1, 1);
    let a = Embedder::for_recogniser(&r, lanes, 3).unwrap();
    let b = Embedder::load_with(&s, lanes).unwrap();
    let p = Pipeline::load().unwrap();
    let crop = p
        .analyze_file(&data("face_recognition/obama.jpg"), None)
        .unwrap()
        .aligned
        .crop;
    assert_eq!(
        a.embed_faces(&[&crop]).unwrap(),
        b.embed_faces(&[&crop]).unwrap()
    );
}

#[test]
fn both_shipped_models_on_sample_pairs_and_the_chat_on_agreement() {
    let tmp = tempfile::tempdir().unwrap();
    let (obama, obama2, biden) = (
        data("face_recognition/obama.jpg"),
        data("face_recognition/obama2.jpg"),
        data("face_recognition/biden.jpg"),
    );
    let run = |a: &Path, b: &Path, json: &Path| {
        let (a, b, j) = (
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            json.to_str().unwrap(),
        );
        let r = facexplain(
            tmp.path(),
            &["compare", a, b, "--models", "all", "--json", j],
        );
        assert_eq!(r.0, 0, "{}{}", r.1, r.2);
        facexplain::record::Analysis::read(json).unwrap()
    };
    let same = run(&obama, &obama2, &tmp.path().join("same.json"));
    let diff = run(&obama, &biden, &tmp.path().join("diff.json"));
    let ids: Vec<&str> = same.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["sface", "mobilefacenet"]);
    for m in &same.models {
        assert_eq!(m.decision, facexplain::record::Decision::Match, "{m:?}");
        assert!(
            m.confidence.is_some() && m.evidence.is_some(),
            "both are calibrated"
        );
    }
    for m in &diff.models {
        assert_eq!(m.decision, facexplain::record::Decision::NonMatch, "{m:?}");
    }
    // Each model is calibrated on its own: the thresholds differ.
    assert_ne!(same.models[0].threshold, same.models[1].threshold);

    let ask = |file: &Path| {
        let f = file.to_str().unwrap();
        let (code, out, err) = facexplain(
            tmp.path(),
            &["ask", "--analysis", f, "Do the models agree?"],
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    let agree = ask(&tmp.path().join("same.json"));
    assert!(agree.contains("Yes: all 2 models decide match"), "{agree}");
    // The same record with the second model's decision flipped: a disagreement, in words.
    let mut flipped = same.clone();
    flipped.models[1].decision = facexplain::record::Decision::NonMatch;
    let path = tmp.path().join("flipped.json");
    std::fs::write(&path, serde_json::to_string(&flipped).unwrap()).unwrap();
    let disagree = ask(&path);
    assert!(
        disagree.contains("No, the models disagree")
            && disagree.contains("sface: match")
            && disagree.contains("mobilefacenet: non-match"),
        "{disagree}"
    );
    // The report carries every model and says they disagree.
    let html = tmp.path().join("flipped.html");
    let (f, h) = (path.to_str().unwrap(), html.to_str().unwrap());
    let r = facexplain(tmp.path(), &["report", "--analysis", f, "--out", h]);
    assert_eq!(r.0, 0, "{}{}", r.1, r.2);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Models side by side")
            && page.contains("The models disagree (sface: match; mobilefacenet: non-match)"),
        "the report names both models and the disagreement"
    );
    // An analysis of one model says there is no second opinion.
    let one = tmp.path().join("one.json");
    let (a, b, j) = (
        obama.to_str().unwrap(),
        biden.to_str().unwrap(),
        one.to_str().unwrap(),
    );
    assert_eq!(facexplain(tmp.path(), &["compare", a, b, "--json", j]).0, 0);
    assert!(ask(&one).contains("Only one face recognition model"));
}

#[test]
fn the_second_model_is_explained_like_sface() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        data("face_recognition/obama.jpg"),
        data("face_recognition/obama2.jpg"),
    );
    let (json, out) = (tmp.path().join("a.json"), tmp.path().join("maps"));
    let args = [
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--models",
        "mobilefacenet",
        "--explain",
        "mery",
        "--out-dir",
        out.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    let (code, stdout, err) = facexplain(tmp.path(), &args);
    assert_eq!(code, 0, "{stdout}{err}");
    let an = facexplain::record::Analysis::read(&json).unwrap();
    assert!(an.model.name.contains("MobileFaceNet"), "{:?}", an.model);
    let table = an
        .explainability_table
        .as_ref()
        .expect("the explainability table");
    assert_eq!(table.rows.len(), 9, "nine facial regions");
    assert_eq!(an.maps.len(), 10, "five Mery maps for each face");
    for m in &an.maps {
        let npy = out.join(&m.files["npy"]);
        let bytes = std::fs::read(&npy).unwrap();
        // 112x112 little-endian f32 after the .npy header.
        assert!(
            bytes.len() > 112 * 112 * 4 && bytes.len() < 112 * 112 * 4 + 256,
            "{npy:?}"
        );
    }
}

#[test]
fn bench_models_lists_every_model_with_ratios_to_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        data("face_recognition/obama.jpg"),
        data("face_recognition/obama2.jpg"),
    );
    let args = [
        "bench-models",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--models",
        "mobilefacenet,sface",
        "--reps",
        "1",
        "--no-xmap",
    ];
    let (code, out, err) = facexplain(tmp.path(), &args);
    assert_eq!(code, 0, "{out}{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(
        rows[0].starts_with("mobilefacenet") && rows[1].starts_with("sface"),
        "{out}"
    );
    // The first model is the base of the ratios.
    assert_eq!(rows[0].matches("(1.00x)").count(), 3, "{out}");
    assert!(!out.contains("full X-Map"), "{out}");
}

#[test]
fn mobilefacenet_runs_its_flushed_copy_with_the_same_embeddings() {
    let s = store();
    let r = Recogniser::in_store(&s, "mobilefacenet").unwrap();
    assert_eq!(r.spec.run.as_deref(), Some("mobilefacenet-ftz"));
    let (_, shipped) = s.read_verified("mobilefacenet").unwrap();
    let (_, flushed) = s.read_verified("mobilefacenet-ftz").unwrap();
    assert_ne!(shipped, flushed, "two different files");
    let mut original = r.clone();
    original.spec.run = None;
    let lanes = facexplain::pipeline::embed::Lanes::split(2, 2);
    let fast = Embedder::for_recogniser(&r, lanes, 3).unwrap();
    let slow = Embedder::for_recogniser(&original, lanes, 3).unwrap();
    // Real faces aligned for MobileFaceNet: colour photographs and ORL's grey ones.
    let p = Pipeline::with_recogniser(s.clone(), r).unwrap();
    let files = [
        "face_recognition/obama.jpg",
        "face_recognition/obama2.jpg",
        "face_recognition/biden.jpg",
        "grace_hopper.jpg",
        "astronaut.png",
        "face-api/sample1.jpg",
        "orl/s1/1.pgm",
        "orl/s2/5.pgm",
        "orl/s21/1.pgm",
        "orl/s40/10.pgm",
    ];
    let crops: Vec<_> = (files.iter())
        .map(|f| p.analyze_file(&data(f), None).unwrap().aligned.crop)
        .collect();
    let refs: Vec<_> = crops.iter().collect();
    let (a, b) = (
        fast.embed_faces(&refs).unwrap(),
        slow.embed_faces(&refs).unwrap(),
    );
    assert_eq!(a.dim(), (files.len(), 512));
    assert_eq!(a, b, "flushing the denormal weights changed an embedding");
}
