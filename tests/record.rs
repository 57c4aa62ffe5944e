//! The analysis record: files written by the code before the typed records
//! (commit 113f80a's `compare --json --explain xmap,mery`, and the chat's
//! fixtures) still load and every part lands in its typed field; the file
//! written by 113f80a, written again, gives the same JSON.

use facexplain::record::Analysis;
use facexplain::record::params::{Colormap, MeryParams, XMapMethod, XMapParams};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

/// The file read, written back through the typed record, is the same JSON.
fn round_trips(path: &Path) -> Analysis {
    let a = Analysis::read(path).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(path).unwrap();
    let before: serde_json::Value = serde_json::from_str(&text).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!(before, after, "{} changed on a round trip", path.display());
    a
}

#[test]
fn an_analysis_with_xmaps_and_mery_maps_from_before_the_typed_records_loads_typed() {
    let a = round_trips(&fixture("record_fixtures/xmap_mery_113f80a.json"));
    let p = &a.parameters;
    let crops = p.aligned_crops.as_ref().expect("aligned crops");
    assert!(crops.a.ends_with("explain-obama-obama2/face_A.png"));
    assert!(crops.b.ends_with("explain-obama-obama2/face_B.png"));
    let hashes = p.aligned_crops_sha256.as_ref().expect("crop hashes");
    assert_eq!(
        hashes.a,
        "52c2e077749c269e458f96f7703b9deca63f5d850cac1e816a2e380564cf22f5"
    );

    let x = p.xmap.as_ref().expect("X-Map parameters");
    assert_eq!(x.params, XMapParams::default());
    assert_eq!(x.params.methods, XMapMethod::ALL);
    assert_eq!(x.passes, 2262);
    assert_eq!(x.d_orig, 0.254_643_440_246_582_03);
    assert!(x.value_range.starts_with("[-1, 1]"));

    let m = p.mery.as_ref().expect("Mery parameters");
    assert_eq!(m.params, MeryParams::default());
    assert_eq!(m.passes, 1043);
    let iterations: Vec<_> = m
        .iterations
        .iter()
        .map(|i| (i.face.as_str(), i.removal, i.aggregation))
        .collect();
    assert_eq!(iterations, [("A", 11, 5), ("B", 11, 5)]);

    let r = p.regions.as_ref().expect("regions");
    assert_eq!(r.label_codes.len(), 9);
    assert_eq!(r.label_codes["5"], "nose");
    assert!(r.files.b.ends_with("regions_B.npy"));
    let render = p.render.as_ref().expect("render parameters");
    assert_eq!(render.xmap_colormap, Colormap::PiYG);
    assert_eq!(render.mery_colormap, Colormap::Viridis);
    assert_eq!(render.opacity, 0.5);

    // 3 X-Maps and 5 Mery maps per face.
    assert_eq!(a.maps.len(), 16);
}

#[test]
fn the_chat_fixtures_written_before_the_typed_records_load_unchanged() {
    for name in ["match", "match_xmap", "non_match", "plain"] {
        let path = fixture(&format!("chat_fixtures/{name}.json"));
        let a = Analysis::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.parameters.is_empty(), "{name}");
        assert_eq!(a.images.len(), 2, "{name}");
    }
}

/// The fixture with one value replaced (at a JSON pointer), written to a
/// temporary file and read: the error must name that file and the field.
#[test]
fn every_value_out_of_bounds_is_refused_naming_the_file_and_the_field() {
    use serde_json::json;
    let text = std::fs::read_to_string(fixture("record_fixtures/xmap_mery_113f80a.json")).unwrap();
    let original: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("/images/0/face/box/2", json!(1e30), "images[0].face.box[2]"),
        ("/images/1/face/box/3", json!(-5.0), "images[1].face.box[3]"),
        (
            "/images/0/face/box/0",
            json!(5000.0),
            "images[0].face.box[0]",
        ),
        ("/images/0/face/box/1", json!(-1e9), "images[0].face.box[1]"),
        (
            "/images/1/face/landmarks5/3/1",
            json!(1e7),
            "images[1].face.landmarks5[3][1]",
        ),
        ("/images/0/face/score", json!(7.5), "images[0].face.score"),
        ("/images/0/width", json!(0), "images[0].width"),
        ("/images/1/height", json!(4_000_000), "images[1].height"),
        ("/images/0/face_index", json!(3), "images[0].face_index"),
        ("/images/1/faces_found", json!(0), "images[1].faces_found"),
        ("/images", json!([]), "images"),
        ("/similarity", json!(3.0), "similarity"),
        ("/threshold", json!(-7.0), "threshold"),
        ("/decision", json!("non-match"), "decision"),
        ("/confidence/pic_score", json!(1.5), "confidence.pic_score"),
        ("/confidence/c_score", json!(-0.1), "confidence.c_score"),
        (
            "/explainability_table/rows/2/levels/AVG (B)",
            json!(9),
            "explainability_table.rows[2].levels",
        ),
        (
            "/xmap_table/rows/0/levels/xmap-I (A)",
            json!(0),
            "xmap_table.rows[0].levels",
        ),
        (
            "/xmap_table/rows/1/mean",
            json!(55.0),
            "xmap_table.rows[1].mean",
        ),
        ("/maps/3/image", json!(2), "maps[3].image"),
        (
            "/maps/0/files/blend",
            json!("../../etc/secret.png"),
            "maps[0].files[\"blend\"]",
        ),
        (
            "/maps/1/files/npy",
            json!("/etc/passwd"),
            "maps[1].files[\"npy\"]",
        ),
        ("/maps/2/name", json!(""), "maps[2].name"),
        (
            "/parameters/aligned_crops/B",
            json!("explain/.."),
            "parameters.aligned_crops.B",
        ),
        (
            "/parameters/xmap/stride",
            json!(0),
            "parameters.xmap.stride",
        ),
        (
            "/parameters/xmap/d_orig",
            json!(-1.0),
            "parameters.xmap.d_orig",
        ),
        (
            "/parameters/mery/faces/1",
            json!(7),
            "parameters.mery.faces[1]",
        ),
        (
            "/parameters/mery/iterations/0/face",
            json!("C"),
            "parameters.mery.iterations[0].face",
        ),
        (
            "/parameters/render/opacity",
            json!(3.0),
            "parameters.render.opacity",
        ),
        ("/timings_ms/xmap", json!(-4.0), "timings_ms[\"xmap\"]"),
    ];
    for (i, (pointer, value, field)) in cases.iter().enumerate() {
        let mut v = original.clone();
        *v.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value.clone();
        let path = dir.path().join(format!("case{i}.json"));
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        let err = Analysis::read(&path).expect_err(pointer).to_string();
        assert!(
            err.contains(&format!("case{i}.json")) && err.contains(field),
            "{pointer} = {value}: {err}"
        );
    }
    // The unedited file passes.
    let path = dir.path().join("unedited.json");
    std::fs::write(&path, &text).unwrap();
    Analysis::read(&path).unwrap();
}
