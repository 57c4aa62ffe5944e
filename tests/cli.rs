//! The `facexplain` binary: exit codes and messages for bad input, and the
//! analysis JSON of `compare`.

mod common;
use common::{data, facexplain};

/// A PNG whose header claims `w`×`h` pixels (with a correct header CRC).
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let crc = crc32(&ihdr);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn bad_inputs_exit_2_and_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let good = data("face_recognition/obama.jpg");
    let jpeg = std::fs::read(&good).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.jpg", vec![], "empty"),
        (
            "truncated.jpg",
            jpeg[..jpeg.len() / 3].to_vec(),
            "corrupt or truncated",
        ),
        (
            "text.jpg",
            b"this is not an image, just some text\n".to_vec(),
            "not a supported image",
        ),
        ("huge.png", png_header_only(50_000, 50_000), "too large"),
    ];
    for (name, bytes, expect) in &cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let (code, _, err) = facexplain(&["compare", p.to_str().unwrap(), good.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name) && err.contains(expect), "{name}: {err}");
    }
    // An image without a face: a plain grey picture.
    let grey = tmp.path().join("grey.png");
    image::RgbImage::from_pixel(300, 200, image::Rgb([128, 128, 128]))
        .save(&grey)
        .unwrap();
    let (code, _, err) = facexplain(&["compare", good.to_str().unwrap(), grey.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("grey.png") && err.contains("no face"), "{err}");
    let missing = tmp.path().join("does-not-exist.jpg");
    let (code, _, err) =
        facexplain(&["compare", missing.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does-not-exist.jpg"), "{err}");
}

#[test]
fn compare_writes_the_analysis_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("analysis.json");
    let (a, b) = (
        data("face_recognition/obama.jpg"),
        data("face_recognition/obama2.jpg"),
    );
    let (code, stdout, err) = facexplain(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--json",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("decision: match"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["schema"], "facexplain.analysis/1");
    assert_eq!(v["decision"], "match");
    assert_eq!(v["images"].as_array().unwrap().len(), 2);
    assert_eq!(v["images"][0]["faces_found"], 1);
    assert_eq!(
        v["images"][0]["face"]["landmarks5"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(v["model"]["sha256"].as_str().unwrap().len(), 64);
    let sim = v["similarity"].as_f64().unwrap();
    assert!(sim > v["threshold"].as_f64().unwrap());
    // Reproducible: a second run gives the identical similarity.
    let out2 = tmp.path().join("again.json");
    facexplain(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--json",
        out2.to_str().unwrap(),
    ]);
    let v2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out2).unwrap()).unwrap();
    assert_eq!(v["similarity"], v2["similarity"]);
}

#[test]
fn faces_lists_the_group_photo() {
    let (code, stdout, err) = facexplain(&[
        "faces",
        data("insightface/t1.jpg").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["faces"].as_array().unwrap().len(), 6);
}
