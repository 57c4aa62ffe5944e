//! Writing an [`Explanation`] to a folder: the aligned crops as lossless PNG,
//! every map's values as float32 `.npy`, every map drawn as HLS blend and as
//! heat overlay (PNG), the region label images as uint8 `.npy`; and recording
//! files, parameters and tables in the analysis record.

use super::blend::{heat_overlay, hls_blend};
use super::{ExplainError, Explanation, face_label};
use crate::pipeline::models::sha256_hex;
use crate::record::{Analysis, MapRecord};
use image::RgbImage;
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use std::collections::BTreeMap;
use std::path::Path;

fn write_err(path: &Path, e: impl std::fmt::Display) -> ExplainError {
    ExplainError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A file written: its name in the folder and the SHA-256 of its bytes.
struct Written {
    name: String,
    sha256: String,
}

/// Write `bytes` as `dir/name`, hashing exactly what is written.
fn save(dir: &Path, name: &str, bytes: &[u8]) -> Result<Written, ExplainError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| write_err(&path, e))?;
    Ok(Written {
        name: name.to_string(),
        sha256: sha256_hex(bytes),
    })
}

fn png(dir: &Path, name: &str, img: &RgbImage) -> Result<Written, ExplainError> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| write_err(&dir.join(name), e))?;
    save(dir, name, &bytes)
}

fn npy<T: ndarray_npy::WritableElement>(
    dir: &Path,
    name: &str,
    a: &Array2<T>,
) -> Result<Written, ExplainError> {
    let mut bytes = Vec::new();
    a.write_npy(&mut bytes)
        .map_err(|e| write_err(&dir.join(name), e))?;
    save(dir, name, &bytes)
}

/// Record a written file under `kind` in a map's file and hash lists.
fn record(rec: &mut MapRecord, kind: &str, w: Written) {
    rec.files.insert(kind.to_string(), w.name);
    rec.sha256.insert(kind.to_string(), w.sha256);
}

/// `{A: path, B: path}` and `{A: sha256, B: sha256}` of one file per face.
fn per_face(dir: &Path, written: Vec<Written>) -> (serde_json::Value, serde_json::Value) {
    let mut files = serde_json::Map::new();
    let mut hashes = serde_json::Map::new();
    for (f, w) in written.into_iter().enumerate() {
        files.insert(
            face_label(f).into(),
            dir.join(&w.name).display().to_string().into(),
        );
        hashes.insert(face_label(f).into(), w.sha256.into());
    }
    (files.into(), hashes.into())
}

/// Write one map (values, blend, overlay) and describe it; `to_unit` scales
/// the values to [0, 1] for the colormap.
fn write_map(
    dir: &Path,
    ex: &Explanation,
    (stem, name): (&str, &str),
    face: usize,
    values: &Array2<f32>,
    to_unit: impl Fn(f32) -> f32,
    cmap: super::blend::Colormap,
) -> Result<MapRecord, ExplainError> {
    let crop = &ex.crops[face];
    let t = values.mapv(to_unit);
    let mut rec = MapRecord {
        name: name.to_string(),
        image: face,
        files: BTreeMap::new(),
        sha256: BTreeMap::new(),
    };
    record(&mut rec, "npy", npy(dir, &format!("{stem}.npy"), values)?);
    let blend = hls_blend(crop, &t, cmap);
    record(
        &mut rec,
        "blend",
        png(dir, &format!("{stem}_blend.png"), &blend)?,
    );
    let overlay = heat_overlay(crop, &t, cmap, ex.params.render.opacity);
    record(
        &mut rec,
        "overlay",
        png(dir, &format!("{stem}_overlay.png"), &overlay)?,
    );
    Ok(rec)
}

/// Write everything into `dir` (created if needed) and add it to `analysis`.
/// Where the maps of a pair go by default: `explain-<A>-<B>/` (the images'
/// file stems) beside the analysis JSON, or in the working folder.
pub fn default_dir(
    json: Option<&Path>,
    faces: [&crate::pipeline::FaceAnalysis; 2],
) -> std::path::PathBuf {
    let stem = |f: &crate::pipeline::FaceAnalysis| {
        f.image
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = format!("explain-{}-{}", stem(faces[0]), stem(faces[1]));
    json.and_then(|j| j.parent())
        .unwrap_or(Path::new(""))
        .join(name)
}

pub fn write(dir: &Path, ex: &Explanation, analysis: &mut Analysis) -> Result<(), ExplainError> {
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let crops = (0..2)
        .map(|f| png(dir, &format!("face_{}.png", face_label(f)), &ex.crops[f]))
        .collect::<Result<Vec<_>, _>>()?;
    let (crops, crop_hashes) = per_face(dir, crops);
    analysis.parameters.insert("aligned_crops".into(), crops);
    analysis
        .parameters
        .insert("aligned_crops_sha256".into(), crop_hashes);
    if let Some(regions) = &ex.regions {
        let written = regions
            .iter()
            .enumerate()
            .map(|(f, r)| npy(dir, &format!("regions_{}.npy", face_label(f)), &r.label))
            .collect::<Result<Vec<_>, _>>()?;
        let (files, hashes) = per_face(dir, written);
        analysis.parameters.insert(
            "regions".into(),
            serde_json::json!({
                "source": "MediaPipe FaceMesh 468 points mapped into the aligned crop",
                "left_right": "the subject's own left and right",
                "label_codes": super::regions::Region::ALL.iter().map(|r| (r.code().to_string(), r.name())).collect::<BTreeMap<_, _>>(),
                "files": files,
                "sha256": hashes,
            }),
        );
    }
    if let Some(x) = &ex.xmaps {
        for m in &x.maps {
            let stem = format!("{}_{}", m.name(), face_label(m.face));
            let cmap = ex.params.render.xmap_colormap;
            analysis.maps.push(write_map(
                dir,
                ex,
                (&stem, m.name()),
                m.face,
                &m.values,
                |v| (v + 1.0) / 2.0,
                cmap,
            )?);
        }
        let mut p =
            serde_json::to_value(&x.params).map_err(|e| ExplainError::Internal(e.to_string()))?;
        p["d_orig"] = (x.d_orig as f64).into();
        p["passes"] = ex.xmap_stats.passes.into();
        p["value_range"] = "[-1, 1], positive (green) = similar".into();
        analysis.parameters.insert("xmap".into(), p);
        analysis
            .timings_ms
            .insert("xmap".into(), ex.xmap_stats.total_ms);
    }
    if let Some(s) = &ex.mery {
        for m in &s.maps {
            let stem = format!("mery-{}_{}", m.method.file_name(), face_label(m.face));
            let cmap = ex.params.render.mery_colormap;
            analysis.maps.push(write_map(
                dir,
                ex,
                (&stem, m.name()),
                m.face,
                &m.values,
                |v| v,
                cmap,
            )?);
        }
        let mut p =
            serde_json::to_value(&s.params).map_err(|e| ExplainError::Internal(e.to_string()))?;
        p["passes"] = ex.mery_stats.passes.into();
        p["iterations"] = s
            .iterations
            .iter()
            .map(|&(f, r, a)| serde_json::json!({"face": face_label(f), "removal": r, "aggregation": a}))
            .collect::<Vec<_>>()
            .into();
        p["value_range"] = "[0, 1], 1 = most important".into();
        analysis.parameters.insert("mery".into(), p);
        analysis
            .timings_ms
            .insert("mery".into(), ex.mery_stats.total_ms);
    }
    let render = serde_json::to_value(&ex.params.render)
        .map_err(|e| ExplainError::Internal(e.to_string()))?;
    analysis.parameters.insert("render".into(), render);
    analysis.timings_ms.insert("regions".into(), ex.regions_ms);
    analysis.explainability_table = ex.mery_table.clone();
    analysis.xmap_table = ex.xmap_table.clone();
    Ok(())
}
