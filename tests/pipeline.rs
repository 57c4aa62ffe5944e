//! The verification pipeline on real models and real images (fetched by
//! `scripts/setup.sh` into `models/` and `data/`).

use facexplain::pipeline::{Decision, Pipeline, PipelineError, align, load_image};
use std::path::Path;
use std::sync::OnceLock;

mod common;
use common::data;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::load().expect("models present (run scripts/setup.sh)"))
}

fn similarity(a: &Path, b: &Path) -> f32 {
    let p = pipeline();
    let fa = p.analyze_file(a, None).unwrap();
    let fb = p.analyze_file(b, None).unwrap();
    p.compare(&fa, &fb, p.default_threshold).similarity
}

#[test]
fn genuine_obama_pairs_beat_every_impostor_pair() {
    let obama =
        ["obama.jpg", "obama2.jpg", "obama3.jpg"].map(|f| data(&format!("face_recognition/{f}")));
    let others = [
        data("face_recognition/biden.jpg"),
        data("astronaut.png"),
        data("grace_hopper.jpg"),
    ];
    let p = pipeline();
    let t = p.default_threshold;
    let mut genuine = Vec::new();
    for i in 0..obama.len() {
        for j in i + 1..obama.len() {
            genuine.push(similarity(&obama[i], &obama[j]));
        }
    }
    let mut impostor = Vec::new();
    for o in &obama {
        for x in &others {
            impostor.push(similarity(o, x));
        }
    }
    let min_g = genuine.iter().cloned().fold(f32::INFINITY, f32::min);
    let max_i = impostor.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    assert!(
        min_g > max_i,
        "genuine {genuine:?} vs impostor {impostor:?}"
    );
    assert!(
        genuine
            .iter()
            .all(|&s| Decision::at(s, t) == Decision::Match),
        "{genuine:?} at {t}"
    );
    assert!(
        impostor
            .iter()
            .all(|&s| Decision::at(s, t) == Decision::NonMatch),
        "{impostor:?} at {t}"
    );
}

/// A similarity transform cannot put five real landmarks exactly on the
/// template (faces differ from it): the least-squares residual of YuNet's
/// points is 0.5–4.6 px per point on these frontal faces. Checked: the RMS
/// residual is small, and the transform is the least-squares optimum (no
/// nudge of scale, rotation or shift brings the points closer).
#[test]
fn aligned_landmarks_land_on_the_template_in_least_squares() {
    let p = pipeline();
    for rel in [
        "face_recognition/obama.jpg",
        "face_recognition/biden.jpg",
        "grace_hopper.jpg",
        "orl/s1/1.pgm",
    ] {
        let f = p.analyze_file(&data(rel), None).unwrap();
        assert_eq!(f.aligned.crop.dimensions(), (112, 112));
        let sse = |t: &align::Similarity| -> f64 {
            f.face()
                .landmarks5
                .iter()
                .zip(align::TEMPLATE)
                .map(|(lm, tp)| {
                    let q = t.apply(*lm);
                    ((q[0] - tp[0]) as f64).powi(2) + ((q[1] - tp[1]) as f64).powi(2)
                })
                .sum()
        };
        let best = sse(&f.aligned.transform);
        let rms = (best / 5.0).sqrt();
        assert!(rms < 4.0, "{rel}: RMS distance to the template {rms:.2} px");
        let m = f.aligned.transform.m;
        for (da, db, dx, dy) in [
            (0.01, 0.0, 0.0, 0.0),
            (-0.01, 0.0, 0.0, 0.0),
            (0.0, 0.005, 0.0, 0.0),
            (0.0, -0.005, 0.0, 0.0),
            (0.0, 0.0, 0.3, 0.0),
            (0.0, 0.0, 0.0, -0.3),
        ] {
            let (a, b) = (m[0][0] + da, m[1][0] + db);
            let t = align::Similarity {
                m: [[a, -b, m[0][2] + dx], [b, a, m[1][2] + dy]],
            };
            assert!(sse(&t) > best, "{rel}: a nudged transform fits better");
        }
    }
}

#[test]
fn every_orl_crop_has_a_face() {
    let p = pipeline();
    let mut missing = Vec::new();
    for s in 1..=40 {
        for i in 1..=10 {
            let path = data(&format!("orl/s{s}/{i}.pgm"));
            let img = load_image(&path).unwrap();
            assert_eq!(img.rgb.dimensions(), (92, 112));
            if p.detector.detect(&img.rgb).unwrap().is_empty() {
                missing.push(path);
            }
        }
    }
    assert!(missing.is_empty(), "no face found in {missing:?}");
}

#[test]
fn group_photo_t1_has_six_faces_largest_first() {
    let p = pipeline();
    let d = p.detect_file(&data("insightface/t1.jpg")).unwrap();
    assert_eq!(d.faces.len(), 6, "{:?}", d.faces);
    assert!(d.faces.windows(2).all(|w| w[0].area() >= w[1].area()));
    // Face index out of range names the file and the count.
    let err = p.analyze(d, Some(6)).unwrap_err();
    assert!(
        matches!(err, PipelineError::FaceIndex { found: 6, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("t1.jpg"));
}

#[test]
fn preview_fits_the_display_side_and_keeps_the_aspect() {
    use facexplain::pipeline::load::PREVIEW_SIDE;
    // obama.jpg is 910×1137: the preview is 409×512, made once and reused.
    let big = load_image(&data("face_recognition/obama.jpg")).unwrap();
    let p = big.preview();
    assert_eq!(p.dimensions(), (409, PREVIEW_SIDE));
    assert!(
        std::ptr::eq(p, big.preview()),
        "the preview is made only once"
    );
    let again = load_image(&data("face_recognition/obama.jpg")).unwrap();
    assert_eq!(
        again.preview().as_raw(),
        p.as_raw(),
        "same file, same preview"
    );
    // A mean over each source block, not a copy of one pixel: close to the original's mean.
    let mean = |img: &image::RgbImage| {
        img.as_raw().iter().map(|&v| v as f64).sum::<f64>() / img.as_raw().len() as f64
    };
    assert!((mean(p) - mean(&big.rgb)).abs() < 2.0);
    // An image already small enough is shown as it is.
    let orl = load_image(&data("orl/s1/1.pgm")).unwrap();
    assert_eq!(orl.preview(), &orl.rgb);
}

#[test]
fn grey_rgba_and_sixteen_bit_images_load_as_rgb8() {
    let tmp = tempfile::tempdir().unwrap();
    let src = load_image(&data("face_recognition/obama.jpg")).unwrap().rgb;
    let grey = image::DynamicImage::ImageRgb8(src.clone()).to_luma16();
    let p16 = tmp.path().join("grey16.png");
    grey.save(&p16).unwrap();
    let rgba = image::DynamicImage::ImageRgb8(src.clone()).to_rgba8();
    let prgba = tmp.path().join("rgba.png");
    rgba.save(&prgba).unwrap();
    let a = load_image(&p16).unwrap();
    let b = load_image(&prgba).unwrap();
    assert_eq!(a.rgb.dimensions(), src.dimensions());
    assert_eq!(b.rgb, src);
    // A 16-bit grey face is still found and compares as the same person.
    let s = similarity(&p16, &data("face_recognition/obama2.jpg"));
    assert!(s > pipeline().default_threshold, "{s}");
}

/// `img` as a JPEG whose EXIF orientation tag is `orientation` (an APP1
/// segment right after the start-of-image marker).
fn tagged_jpeg(img: &image::GrayImage, orientation: u16) -> Vec<u8> {
    let jpeg = encode_jpeg(img);
    let mut tagged = jpeg[..2].to_vec();
    tagged.extend(exif_orientation_segment(orientation));
    tagged.extend_from_slice(&jpeg[2..]);
    tagged
}

/// A JPEG APP1 segment holding only an EXIF orientation tag.
fn exif_orientation_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut body = b"Exif\0\0".to_vec();
    body.extend(tiff);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    seg.extend(body);
    seg
}

fn encode_jpeg(img: &image::GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 100)
        .encode_image(img)
        .unwrap();
    out
}

#[test]
fn exif_rotated_jpeg_compares_like_the_upright_one() {
    let tmp = tempfile::tempdir().unwrap();
    // Grey JPEGs: no chroma subsampling, so turning the pixels changes nothing but rounding.
    let src = image::DynamicImage::ImageRgb8(
        load_image(&data("face_recognition/obama.jpg")).unwrap().rgb,
    )
    .to_luma8();
    let (w, h) = (src.width() / 16 * 16, src.height() / 16 * 16);
    let upright = image::imageops::crop_imm(&src, 0, 0, w, h).to_image();
    let up_path = tmp.path().join("upright.jpg");
    std::fs::write(&up_path, encode_jpeg(&upright)).unwrap();
    // Stored turned 90° anticlockwise; EXIF orientation 6 tells viewers to turn it back.
    let stored = image::imageops::rotate270(&upright);
    let rot_path = tmp.path().join("rotated.jpg");
    std::fs::write(&rot_path, tagged_jpeg(&stored, 6)).unwrap();
    let loaded = load_image(&rot_path).unwrap();
    assert_eq!(
        loaded.rgb.dimensions(),
        (w, h),
        "EXIF orientation was not applied"
    );
    let other = data("face_recognition/obama2.jpg");
    let (s_up, s_rot) = (similarity(&up_path, &other), similarity(&rot_path, &other));
    assert!(
        (s_up - s_rot).abs() < 1e-3,
        "upright {s_up} vs rotated {s_rot}"
    );
    assert_eq!(loaded.exif_turn.as_deref(), Some("rotated 90° clockwise"));
    assert_eq!(load_image(&up_path).unwrap().exif_turn, None);

    // A wrong tag (upright pixels tagged 6) turns the face on its side: the
    // error names the file and says the EXIF turn may be why.
    let wrong_path = tmp.path().join("wrong_tag.jpg");
    std::fs::write(&wrong_path, tagged_jpeg(&upright, 6)).unwrap();
    let msg = match pipeline().analyze_file(&wrong_path, None) {
        Err(e @ PipelineError::NoFace { .. }) => e.to_string(),
        other => panic!("expected no face, got {other:?}"),
    };
    assert!(
        msg.contains("wrong_tag.jpg")
            && msg.contains("EXIF orientation tag: rotated 90° clockwise"),
        "{msg}"
    );
}

/// Every file the pipeline loads, with one byte changed, is refused by name
/// and expected hash; so is a missing one. SFace is checked as the whole
/// model (the one the analysis names) and as the trunk and head cut from it.
#[test]
fn a_model_with_one_byte_changed_is_refused() {
    let store = facexplain::resources::ModelStore::locate().unwrap();
    for id in ["sface", "sface-trunk", "sface-head"] {
        let tmp = tempfile::tempdir().unwrap();
        for other in ["yunet", "sface", "sface-trunk", "sface-head"] {
            let file = &store.manifest.entry(other).unwrap().file;
            let mut bytes = std::fs::read(store.path(other).unwrap()).unwrap();
            if other == id {
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x01;
            }
            std::fs::write(tmp.path().join(file), bytes).unwrap();
        }
        let entry = store.manifest.entry(id).unwrap();
        let tampered = facexplain::resources::ModelStore::at(tmp.path()).unwrap();
        let err = Pipeline::load_from(tampered)
            .err()
            .expect("tampered model refused");
        let msg = err.to_string();
        assert!(matches!(err, PipelineError::ModelHash { .. }), "{msg}");
        assert!(
            msg.contains(&entry.file)
                && msg.contains(entry.sha256.as_str())
                && msg.contains("scripts/setup.sh"),
            "{msg}"
        );
        // A missing file names the file too.
        std::fs::remove_file(tmp.path().join(&entry.file)).unwrap();
        let err = Pipeline::load_from(facexplain::resources::ModelStore::at(tmp.path()).unwrap())
            .err()
            .unwrap();
        assert!(
            matches!(err, PipelineError::ModelMissing { .. })
                && err.to_string().contains(&entry.file),
            "{err}"
        );
    }
}

/// Five different faces, for the embedder's batching tests.
const FIVE_FACES: [&str; 5] = [
    "face_recognition/obama.jpg",
    "face_recognition/biden.jpg",
    "astronaut.png",
    "grace_hopper.jpg",
    "face_recognition/obama2.jpg",
];

/// The aligned crops of [`FIVE_FACES`], in order.
fn five_crops(p: &Pipeline) -> Vec<image::RgbImage> {
    FIVE_FACES
        .iter()
        .map(|f| p.analyze_file(&data(f), None).unwrap().aligned.crop)
        .collect()
}

/// The embedder runs SFace cut in two (trunk 2 faces per call, head once per
/// lane); that must be the whole model's function, number for number.
#[test]
fn trunk_then_head_equals_the_whole_model() {
    use facexplain::pipeline::embed::Embedder;
    let p = pipeline();
    let crops = five_crops(p);
    let refs: Vec<_> = crops.iter().collect();
    let (_, whole) = p.store.read_verified("sface").unwrap();
    let whole = Embedder::from_onnx_bytes("sface (whole)", &whole).unwrap();
    let a = whole.embed_faces(&refs).unwrap();
    let b = p.embedder.embed_faces(&refs).unwrap();
    assert_eq!(a.dim(), (5, 128));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-6, "largest difference {worst}");
}

#[test]
fn batched_embeddings_equal_single_ones() {
    let p = pipeline();
    let crops: Vec<_> = [
        "face_recognition/obama.jpg",
        "face_recognition/biden.jpg",
        "astronaut.png",
    ]
    .iter()
    .map(|r| p.analyze_file(&data(r), None).unwrap())
    .collect();
    let refs: Vec<&image::RgbImage> = crops.iter().map(|c| &c.aligned.crop).collect();
    let batch = p.embedder.embed_faces(&refs).unwrap();
    for (i, c) in crops.iter().enumerate() {
        for (x, y) in batch.row(i).iter().zip(&c.embedding) {
            assert!((x - y).abs() < 1e-5);
        }
    }
    // Same input, identical numbers.
    let again = p.embedder.embed_faces(&refs).unwrap();
    assert_eq!(batch, again);
}

/// Splitting a batch across lanes (sessions side by side) and into several
/// session calls per lane keeps every row in its place and gives the same
/// embeddings as one call: an odd batch of five different faces.
#[test]
fn lanes_give_the_same_embeddings_in_the_same_order() {
    use facexplain::pipeline::embed::{Embedder, Lanes};
    let p = pipeline();
    let files = FIVE_FACES;
    let crops = five_crops(p);
    let refs: Vec<_> = crops.iter().collect();
    let lanes = |n| Lanes {
        lanes: n,
        threads: 1,
    };
    // One session call for the whole batch, against three lanes of calls of one face.
    let mut one = Embedder::load_with(&p.store, lanes(1)).unwrap();
    one.lane_batch = 16;
    let mut three = Embedder::load_with(&p.store, lanes(3)).unwrap();
    three.lane_batch = 1;
    assert_eq!(three.lanes(), 3);
    let a = one.embed_faces(&refs).unwrap();
    let b = three.embed_faces(&refs).unwrap();
    assert_eq!(a.dim(), b.dim());
    for (i, (ra, rb)) in a.rows().into_iter().zip(b.rows()).enumerate() {
        let cos: f32 = ra.dot(&rb);
        assert!(cos > 0.99999, "face {i} ({}): cosine {cos}", files[i]);
        // each row differs from the other faces, so a swapped order would fail
        for (j, other) in b.rows().into_iter().enumerate() {
            if j != i {
                assert!(ra.dot(&other) < 0.999, "faces {i} and {j} look identical");
            }
        }
    }
}
