//! The user's own face recognisers (issue 19): a synthetic recogniser added
//! with `facexplain models add` is pinned, compared, explained (X-Maps and
//! Mery maps at its own 96-pixel input size, regions and tables on its
//! crops) and calibrated, refused once altered; the derived file a spec
//! names to run is the one run; a bad alignment template is refused.

mod common;
use common::data;
use common::user_models::{
    add_means, compare, facexplain, store, synthetic_model, user_recogniser,
};
use facexplain::explain::regions::{Region, RegionMasks};
use facexplain::pipeline::embed::cosine;
use facexplain::pipeline::facemesh::FaceMesh;
use facexplain::pipeline::recogniser::Recogniser;
use facexplain::pipeline::{Embedder, Pipeline};
use std::path::{Path, PathBuf};

#[test]
fn user_model_is_pinned_compared_and_refused_when_altered() {
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path(), 112, &[]);
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

/// Centroid of every region, in crop pixels.
fn centroids(r: &RegionMasks) -> Vec<[f32; 2]> {
    Region::ALL
        .iter()
        .map(|&g| r.centroid(g).unwrap_or_else(|| panic!("no {g:?}")))
        .collect()
}

/// A user model that takes 96x96 faces (its template scaled from 112): its
/// maps, regions and tables are on its own 96-pixel crops.
#[test]
fn user_model_is_explained_and_calibrated() {
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path(), 96, &[]);
    let sha = facexplain::resources::sha256_hex(&std::fs::read(user.join("means.onnx")).unwrap());
    let (pa, pb) = (data("face_recognition/obama.jpg"), data("grace_hopper.jpg"));
    let (a, b) = (pa.to_str().unwrap(), pb.to_str().unwrap());

    // Explained: the X-Maps and Mery maps of both faces, made with the user's model.
    let (json, maps) = (tmp.path().join("a.json"), tmp.path().join("maps"));
    let (j, m) = (json.to_str().unwrap(), maps.to_str().unwrap());
    let args = [
        "compare",
        a,
        b,
        "--models",
        "means",
        "--explain",
        "xmap,mery",
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
    let names: Vec<&str> = an.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names[..6],
        [
            "xmap-I", "xmap-I", "xmap-II", "xmap-II", "xmap-III", "xmap-III"
        ]
    );
    assert_eq!(names.len(), 6 + 10, "five Mery maps of each face");
    for m in &an.maps {
        let v: ndarray::Array2<f32> = ndarray_npy::read_npy(maps.join(&m.files["npy"])).unwrap();
        assert_eq!(v.dim(), (96, 96), "{}: at the model's input size", m.name);
        let range = if m.name.starts_with("xmap") {
            -1.0..=1.0
        } else {
            0.0..=1.0
        };
        assert!(v.iter().all(|x| range.contains(x)), "{}", m.name);
        let (lo, hi) = v
            .iter()
            .fold((1f32, -1f32), |(l, h), x| (l.min(*x), h.max(*x)));
        assert!(hi - lo > 0.1, "{}: a flat map ({lo} … {hi})", m.name);
    }
    let crop = image::open(maps.join(&an.parameters.aligned_crops.as_ref().unwrap().a)).unwrap();
    assert_eq!((crop.width(), crop.height()), (96, 96));

    // The regions lie on the 96-pixel crop where they lie on SFace's 112-pixel
    // one, scaled (the same template, scaled), and both tables rank all nine.
    let labels: ndarray::Array2<u8> =
        ndarray_npy::read_npy(maps.join(&an.parameters.regions.as_ref().unwrap().files.a)).unwrap();
    assert_eq!(labels.dim(), (96, 96));
    let fm = FaceMesh::load(&store()).unwrap();
    let regions = |p: &Pipeline, side: usize| {
        let f = p.analyze_file(&pa, None).unwrap();
        let mesh = fm
            .landmarks(&f.image.rgb, f.face(), &f.aligned.transform)
            .unwrap();
        RegionMasks::from_mesh(&mesh.aligned, side).unwrap()
    };
    let means = Pipeline::with_recogniser(store(), user_recogniser(&user, "means")).unwrap();
    let small = regions(&means, 96);
    assert_eq!(small.label, labels, "the regions compare wrote");
    let big = regions(&Pipeline::load().unwrap(), 112);
    for (s, b) in centroids(&small).iter().zip(centroids(&big)) {
        let k = 96.0 / 112.0;
        assert!(
            (s[0] - b[0] * k).abs() < 1.5 && (s[1] - b[1] * k).abs() < 1.5,
            "{s:?} against {b:?} scaled"
        );
    }
    for t in [&an.xmap_table, &an.explainability_table] {
        let rows: Vec<&str> = t
            .as_ref()
            .unwrap()
            .rows
            .iter()
            .map(|r| r.region.as_str())
            .collect();
        assert_eq!(rows.len(), 9, "{rows:?}");
        assert!(
            Region::ALL.iter().all(|r| rows.contains(&r.name())),
            "{rows:?}"
        );
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

/// What the embedder runs when the spec names a derived file: that file
/// (here a model of another function, so the test can tell them apart).
#[test]
fn the_file_a_recogniser_names_to_run_is_the_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path(), 112, &[]);
    let maxes = tmp.path().join("maxes.onnx");
    synthetic_model(&maxes, 112, "GlobalMaxPool");
    let (code, out, err) = facexplain(
        &user,
        &["models", "add", maxes.to_str().unwrap(), "--name", "maxes"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let path = user.join("user-models.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let crop = Pipeline::load()
        .unwrap()
        .analyze_file(&data("grace_hopper.jpg"), None)
        .unwrap()
        .aligned
        .crop;
    let embed = || {
        let r = user_recogniser(&user, "means");
        let lanes = facexplain::pipeline::embed::Lanes::split(1, 1);
        let e = Embedder::for_recogniser(&r, lanes, 3).unwrap();
        e.embed_faces(&[&crop]).unwrap().row(0).to_vec()
    };
    let own = embed();
    let means = m["models"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["id"] == "means")
        .unwrap();
    means["recogniser"]["run"] = "maxes".into();
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let run = embed();
    // The channel maxima (BGR, less 10, 20, 30 as `means` declares), not the means.
    let max = |c: usize| crop.pixels().map(|p| p[c]).max().unwrap() as f32;
    let want = [max(2) - 10.0, max(1) - 20.0, max(0) - 30.0];
    let norm = want.iter().map(|v| v * v).sum::<f32>().sqrt();
    for (got, w) in run.iter().zip(want) {
        assert!((got - w / norm).abs() < 1e-6, "{run:?} vs {want:?}");
    }
    assert!(cosine(&own, &run) < 0.9999, "{own:?} vs {run:?}");
    // Both ways at once is refused, naming the manifest.
    m["models"][0]["recogniser"]["split"] = serde_json::json!(["maxes", "maxes"]);
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let e = Recogniser::all_with(&store(), Some(&user)).unwrap_err();
    assert!(
        e.to_string().contains("split and run") && e.to_string().contains("user-models.json"),
        "{e}"
    );
}

#[test]
fn a_bad_alignment_template_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("means.onnx");
    synthetic_model(&file, 96, "GlobalAveragePool");
    let f = file.to_str().unwrap();
    for (template, why) in [
        ("1,2,3", "3 numbers, expected ten"),
        (
            "10,10,20,10,15,15,10,20,20,97",
            "every coordinate must lie in 0…96",
        ),
    ] {
        let args = [
            "models",
            "add",
            f,
            "--name",
            "m",
            "--size",
            "96",
            "--template",
            template,
        ];
        let (code, out, err) = facexplain(&tmp.path().join("user"), &args);
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("--template") && err.contains(why), "{err}");
    }
}
