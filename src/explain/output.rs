//! Writing an [`Explanation`] to a folder: the aligned crops as lossless PNG,
//! every map's values as float32 `.npy`, every map drawn as HLS blend and as
//! heat overlay (PNG), the region label images as uint8 `.npy`; and recording
//! files, parameters and tables in the analysis record.

use super::blend::{Colormap, heat_overlay, hls_blend};
use super::regions::Region;
use super::{ExplainError, Explanation, face_label};
use crate::pipeline::FaceAnalysis;
use crate::record::{
    Analysis, GreedyRecord, MapRecord, MeryIterations, MeryRecord, PerFace, RegionsRecord,
    XMapRecord,
};
use crate::resources::hash::sha256_hex;
use image::RgbImage;
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// The paths (as written under `dir`) and hashes of one file per face.
fn per_face(
    dir: &Path,
    written: Vec<Written>,
) -> Result<(PerFace<String>, PerFace<String>), ExplainError> {
    let [a, b]: [Written; 2] = written
        .try_into()
        .map_err(|_| ExplainError::Internal("one file per face expected".into()))?;
    let path = |w: &Written| dir.join(&w.name).display().to_string();
    Ok((
        PerFace::from_array([path(&a), path(&b)]),
        PerFace::from_array([a.sha256, b.sha256]),
    ))
}

/// One map to write: file stem, record name, face and values.
struct MapOut<'a> {
    stem: String,
    name: &'a str,
    face: usize,
    values: &'a Array2<f32>,
}

/// Write maps of one method (values, blend, overlay) and describe each;
/// `to_unit` scales the values to [0, 1] for the colormap.
fn write_maps<'a>(
    dir: &Path,
    ex: &Explanation,
    maps: impl Iterator<Item = MapOut<'a>>,
    to_unit: impl Fn(f32) -> f32,
    cmap: Colormap,
) -> Result<Vec<MapRecord>, ExplainError> {
    let mut out = Vec::new();
    for m in maps {
        let crop = &ex.crops[m.face];
        let t = m.values.mapv(&to_unit);
        let mut rec = MapRecord {
            name: m.name.to_string(),
            image: m.face,
            files: BTreeMap::new(),
            sha256: BTreeMap::new(),
        };
        let stem = &m.stem;
        record(&mut rec, "npy", npy(dir, &format!("{stem}.npy"), m.values)?);
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
        out.push(rec);
    }
    Ok(out)
}

/// `<A>-<B>`: the file stems of a pair's two images, for the names of what
/// is written about the pair (the map folder here, the app's exported JSON).
/// Each stem at most 100 bytes: two 255-byte file names would make a name
/// the file system refuses (after the whole explanation ran).
pub fn pair_stems(faces: [&FaceAnalysis; 2]) -> String {
    let stem = |f: &FaceAnalysis| {
        let s = f
            .image
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let end = (0..=s.len().min(100))
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        s[..end].to_string()
    };
    format!("{}-{}", stem(faces[0]), stem(faces[1]))
}

/// Where the maps of a pair go by default: `explain-<A>-<B>/` (the images'
/// file stems) beside the analysis JSON, or in the working folder.
pub fn default_dir(json: Option<&Path>, faces: [&FaceAnalysis; 2]) -> PathBuf {
    json.and_then(|j| j.parent())
        .unwrap_or(Path::new(""))
        .join(format!("explain-{}", pair_stems(faces)))
}

/// Record what needs no file: the greedy maps' parameters, the faithfulness
/// test and the method disagreements (the app's unexported record has them too).
pub fn record_checks(ex: &Explanation, analysis: &mut Analysis) {
    analysis.parameters.greedy = ex.greedy.as_ref().map(|g| GreedyRecord {
        params: g.params.clone(),
        passes: g.passes,
        value_range: "[0, 1], 1 = removed first (most important)".into(),
    });
    analysis.parameters.faithfulness = ex.faithfulness.clone();
    if ex.faithfulness.is_some() {
        analysis
            .timings_ms
            .insert("faithfulness".into(), ex.faithfulness_stats.total_ms);
    }
    analysis.parameters.disagreements =
        (ex.mery_table.is_some() || ex.xmap_table.is_some()).then(|| ex.disagreements.clone());
}

/// Write everything into `dir` (created if needed) and add it to `analysis`.
pub fn write(dir: &Path, ex: &Explanation, analysis: &mut Analysis) -> Result<(), ExplainError> {
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let crops = (0..2)
        .map(|f| png(dir, &format!("face_{}.png", face_label(f)), &ex.crops[f]))
        .collect::<Result<Vec<_>, _>>()?;
    let (crops, crop_hashes) = per_face(dir, crops)?;
    let rec = &mut analysis.parameters;
    rec.aligned_crops = Some(crops);
    rec.aligned_crops_sha256 = Some(crop_hashes);
    if let Some(regions) = &ex.regions {
        let written = regions
            .iter()
            .enumerate()
            .map(|(f, r)| npy(dir, &format!("regions_{}.npy", face_label(f)), &r.label))
            .collect::<Result<Vec<_>, _>>()?;
        let (files, sha256) = per_face(dir, written)?;
        rec.regions = Some(RegionsRecord {
            source: "MediaPipe FaceMesh 468 points mapped into the aligned crop".into(),
            left_right: "the subject's own left and right".into(),
            label_codes: Region::ALL
                .iter()
                .map(|r| (r.code().to_string(), r.name().to_string()))
                .collect(),
            files,
            sha256,
        });
    }
    let render = &ex.params.render;
    if let Some(x) = &ex.xmaps {
        let maps = x.maps.iter().map(|m| MapOut {
            stem: format!("{}_{}", m.name(), face_label(m.face)),
            name: m.name(),
            face: m.face,
            values: &m.values,
        });
        let unit = |v: f32| (v + 1.0) / 2.0;
        let written = write_maps(dir, ex, maps, unit, render.xmap_colormap)?;
        analysis.maps.extend(written);
        analysis.parameters.xmap = Some(XMapRecord {
            params: x.params.clone(),
            d_orig: x.d_orig as f64,
            passes: ex.xmap_stats.passes,
            value_range: "[-1, 1], positive (green) = similar".into(),
        });
        analysis
            .timings_ms
            .insert("xmap".into(), ex.xmap_stats.total_ms);
    }
    if let Some(s) = &ex.mery {
        let maps = s.maps.iter().map(|m| MapOut {
            stem: format!("mery-{}_{}", m.method.file_name(), face_label(m.face)),
            name: m.name(),
            face: m.face,
            values: &m.values,
        });
        let written = write_maps(dir, ex, maps, |v| v, render.mery_colormap)?;
        analysis.maps.extend(written);
        analysis.parameters.mery = Some(MeryRecord {
            params: s.params.clone(),
            passes: ex.mery_stats.passes,
            iterations: s
                .iterations
                .iter()
                .map(|&(f, removal, aggregation)| MeryIterations {
                    face: face_label(f).into(),
                    removal,
                    aggregation,
                })
                .collect(),
            value_range: "[0, 1], 1 = most important".into(),
        });
        analysis
            .timings_ms
            .insert("mery".into(), ex.mery_stats.total_ms);
    }
    if let Some(g) = &ex.greedy {
        let maps = g.maps.iter().map(|m| MapOut {
            stem: format!("gd_{}", face_label(m.face)),
            name: m.name(),
            face: m.face,
            values: &m.values,
        });
        let written = write_maps(dir, ex, maps, |v| v, render.mery_colormap)?;
        analysis.maps.extend(written);
        analysis
            .timings_ms
            .insert("greedy".into(), ex.greedy_stats.total_ms);
    }
    record_checks(ex, analysis);
    analysis.parameters.render = Some(render.clone());
    analysis.timings_ms.insert("regions".into(), ex.regions_ms);
    analysis.explainability_table = ex.mery_table.clone();
    analysis.xmap_table = ex.xmap_table.clone();
    Ok(())
}
