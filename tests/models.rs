//! Face recognisers as data (issue 19): SFace described by its manifest
//! entry, MobileFaceNet's measured conventions on real images, the input
//! conversion on known tensors, and a user-added synthetic recogniser run
//! through `compare`, `compare --explain` and `calibrate` (its calibration
//! then used by `compare`), and refused once altered.

use facexplain::pipeline::align::TEMPLATE;
use facexplain::pipeline::embed::cosine;
use facexplain::pipeline::recogniser::{Prep, Recogniser};
use facexplain::pipeline::{Embedder, Pipeline};
use facexplain::resources::{Kind, ModelStore, find_file};
use ndarray::Array4;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(rel: &str) -> PathBuf {
    find_file(Kind::Data, rel)
        .unwrap_or_else(|| panic!("{rel} (scripts/setup.sh fetches the data)"))
}

fn store() -> ModelStore {
    ModelStore::locate().unwrap()
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

/// A recogniser whose embedding is its input's per-channel mean:
/// GlobalAveragePool then Flatten, `[N,3,112,112] → [N,3]`, written with
/// the `onnx` package of the set-up's virtualenv.
fn synthetic_model(path: &Path) {
    let python = dirs::cache_dir()
        .unwrap()
        .join("facexplain/venv-onnx/bin/python");
    let script = r#"
import sys, onnx
from onnx import helper, TensorProto as T
x = helper.make_tensor_value_info("x", T.FLOAT, ["N", 3, 112, 112])
y = helper.make_tensor_value_info("emb", T.FLOAT, ["N", 3])
g = helper.make_graph([helper.make_node("GlobalAveragePool", ["x"], ["p"]),
                       helper.make_node("Flatten", ["p"], ["emb"])], "means", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="facexplain-test")
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} (scripts/fetch-models.sh makes it): {e}",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn facexplain(user_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .args(args)
        .env("FACEXPLAIN_USER_MODELS", user_dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `facexplain compare A B --models LIST` with the user models in `user`.
fn compare(user: &Path, a: &Path, b: &Path, list: &str) -> (i32, String, String) {
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    facexplain(user, &["compare", a, b, "--models", list])
}

/// The synthetic recogniser added as `means` (BGR, less (10, 20, 30)) to
/// the user models folder `tmp/user-models`, which is returned.
fn add_means(tmp: &Path) -> PathBuf {
    let user = tmp.join("user-models");
    let file = tmp.join("means.onnx");
    synthetic_model(&file);
    let (code, out, err) = facexplain(
        &user,
        &[
            "models",
            "add",
            file.to_str().unwrap(),
            "--name",
            "means",
            "--colour",
            "BGR",
            "--mean",
            "10,20,30",
            "--std",
            "1",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3-D embedding"), "{out}");
    user
}

#[test]
fn user_model_is_pinned_compared_and_refused_when_altered() {
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path());
    let (code, out, err) = facexplain(&user, &["models", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("means") && out.contains("user") && out.contains("mobilefacenet"),
        "{out}"
    );

    // Through compare: the similarity is the cosine of the crops' channel
    // means in B, G, R order less (10, 20, 30), as the user declared.
    let (a, b) = (data("face_recognition/obama.jpg"), data("grace_hopper.jpg"));
    let json = tmp.path().join("a.json");
    let (code, out, err) = facexplain(
        &user,
        &[
            "compare",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--models",
            "sface,means",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("side by side (2 models)"), "{out}");
    let analysis = facexplain::record::Analysis::read(&json).unwrap();
    assert_eq!(analysis.models.len(), 2);
    assert_eq!(analysis.models[0].id, "sface");
    assert_eq!(analysis.models[0].similarity, analysis.similarity);
    let means = &analysis.models[1];
    assert_eq!(means.id, "means");
    let p = Pipeline::load().unwrap();
    // Channel means of the aligned crop taken in `order`, less (10, 20, 30).
    let feature = |path: &Path, order: [usize; 3]| {
        let fa = p.analyze_file(path, None).unwrap();
        let n = (112 * 112) as f64;
        let mut m = [0.0f64; 3];
        for px in fa.aligned.crop.pixels() {
            for (k, c) in order.into_iter().enumerate() {
                m[k] += px[c] as f64 / n;
            }
        }
        [m[0] - 10.0, m[1] - 20.0, m[2] - 30.0].map(|v| v as f32)
    };
    let want = cosine(&feature(&a, [2, 1, 0]), &feature(&b, [2, 1, 0]));
    assert!(
        (means.similarity - want).abs() < 1e-5,
        "compare gave {}, the channel means give {want}",
        means.similarity
    );
    assert_eq!(means.threshold, 0.3, "the threshold given at `models add`");
    assert!(means.confidence.is_none(), "no calibration for a new model");
    // Read as RGB the same file gives another score: the test tells colour orders apart.
    let rgb = cosine(&feature(&a, [0, 1, 2]), &feature(&b, [0, 1, 2]));
    assert!((rgb - want).abs() > 1e-4, "RGB {rgb} vs BGR {want}");

    // Altered after it was added: refused, naming the file.
    let pinned = user.join("means.onnx");
    let mut bytes = std::fs::read(&pinned).unwrap();
    bytes.push(0);
    std::fs::write(&pinned, bytes).unwrap();
    let (code, out, err) = compare(&user, &a, &b, "means");
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains(&pinned.display().to_string()) && err.contains("altered"),
        "{err}"
    );
    let (_, out, _) = facexplain(&user, &["models", "list"]);
    assert!(out.contains("REFUSED"), "{out}");
}

#[test]
fn unknown_model_names_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let a = data("face_recognition/obama.jpg");
    let (code, _, err) = compare(tmp.path(), &a, &a, "sface,nosuch");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("nosuch") && err.contains("mobilefacenet"),
        "{err}"
    );
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

/// Ten identities of the fetched colour photographs (Obama six times, nine
/// other people once): 15 genuine and 90 impostor pairs.
fn colour_set(dir: &Path) -> PathBuf {
    let set = dir.join("colour");
    let obama = [
        "obama.jpg",
        "obama2.jpg",
        "obama3.jpg",
        "obama_partial_face.jpg",
        "obama_partial_face2.jpg",
        "32bit.png",
    ];
    let others = [
        "face_recognition/biden.jpg",
        "grace_hopper.jpg",
        "astronaut.png",
        "face-api/sample1.jpg",
        "face-api/sample2.jpg",
        "face-api/sample3.jpg",
        "face-api/sample4.jpg",
        "face-api/sample5.jpg",
        "face-api/sample6.jpg",
    ];
    let copy = |rel: &str, identity: &str| {
        let to = set.join(identity);
        std::fs::create_dir_all(&to).unwrap();
        let from = data(rel);
        std::fs::copy(&from, to.join(from.file_name().unwrap())).unwrap();
    };
    for f in obama {
        copy(&format!("face_recognition/{f}"), "obama");
    }
    for (i, f) in others.iter().enumerate() {
        copy(f, &format!("person{i}"));
    }
    set
}

#[test]
fn user_model_is_explained_and_calibrated() {
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path());
    let sha = facexplain::resources::sha256_hex(&std::fs::read(user.join("means.onnx")).unwrap());
    let (a, b) = (data("face_recognition/obama.jpg"), data("grace_hopper.jpg"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    // Explained: the three X-Maps of both faces, made with the user's model.
    let (json, maps) = (tmp.path().join("a.json"), tmp.path().join("maps"));
    let (j, m) = (json.to_str().unwrap(), maps.to_str().unwrap());
    let args = [
        "compare",
        a,
        b,
        "--models",
        "means",
        "--explain",
        "xmap",
        "--out-dir",
        m,
        "--json",
        j,
    ];
    let (code, out, err) = facexplain(&user, &args);
    assert_eq!(code, 0, "{out}{err}");
    let an = facexplain::record::Analysis::read(&json).unwrap();
    assert_eq!(
        (an.model.name.as_str(), an.model.sha256.as_str()),
        ("means", sha.as_str())
    );
    assert_eq!(an.xmap_table.as_ref().map(|t| t.rows.len()), Some(9));
    let names: Vec<&str> = an.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "xmap-I", "xmap-I", "xmap-II", "xmap-II", "xmap-III", "xmap-III"
        ]
    );
    for m in &an.maps {
        let v: ndarray::Array2<f32> = ndarray_npy::read_npy(maps.join(&m.files["npy"])).unwrap();
        assert_eq!(v.dim(), (112, 112), "{}", m.name);
        assert!(v.iter().all(|x| (-1.0..=1.0).contains(x)), "{}", m.name);
        let (lo, hi) = v
            .iter()
            .fold((1f32, -1f32), |(l, h), x| (l.min(*x), h.max(*x)));
        assert!(hi - lo > 0.1, "{}: a flat map ({lo} … {hi})", m.name);
    }

    // Calibrated on a colour set, into the user models' calibration folder …
    let set = colour_set(tmp.path());
    let cal = user.join("calibration").join("means.json");
    let args = [
        "calibrate",
        "--model",
        "means",
        "--dataset",
        set.to_str().unwrap(),
        "--no-cache",
        "--out",
        cal.to_str().unwrap(),
    ];
    let (code, out, err) = facexplain(&user, &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pairs: 15 genuine, 90 impostor"), "{out}");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&cal).unwrap()).unwrap();
    assert_eq!(
        file["model"]["sha256"],
        sha.as_str(),
        "pinned to the user's model"
    );
    let threshold = file["threshold"]["similarity"].as_f64().unwrap() as f32;

    // … where compare finds it: the user model's verdict has its confidences and LR.
    let json = tmp.path().join("b.json");
    let args = [
        "compare",
        a,
        b,
        "--models",
        "sface,means",
        "--json",
        json.to_str().unwrap(),
    ];
    let (code, out, err) = facexplain(&user, &args);
    assert_eq!(code, 0, "{out}{err}");
    let an = facexplain::record::Analysis::read(&json).unwrap();
    let means = &an.models[1];
    assert_eq!(means.id, "means");
    assert_eq!(means.threshold, threshold, "{}", means.threshold_source);
    assert!(
        means.confidence.is_some() && means.evidence.is_some(),
        "{means:?}"
    );
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
