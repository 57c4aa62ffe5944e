//! What the report embeds, read and checked before any HTML is written: the
//! folder holding the crops and maps (probed from the recorded paths), each
//! PNG checked against its recorded SHA-256, its decoding and the crop size,
//! and the original photographs checked against their recorded SHA-256.

use super::{ReportError, ReportOptions, THUMBNAIL_SIDE, draw};
use crate::pipeline::load::decode_image;
use crate::record::{Analysis, ImageRecord, MapRecord, face_label};
use crate::resources::hash::sha256_hex;
use std::path::{Path, PathBuf};

/// A PNG read from disk for embedding.
pub struct Png {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// Width and height, pixels.
    pub size: (u32, u32),
}

/// A map's record and its blend PNG.
pub type MapBlend = (MapRecord, Png);

/// Everything the page shows besides the record itself.
pub struct Gathered {
    /// The folder the crops and maps were read from.
    pub folder: PathBuf,
    /// Both aligned crops, when an explanation was run.
    pub crops: Option<[Png; 2]>,
    /// Blend PNG of every map record, in record order.
    pub maps: Vec<MapBlend>,
    /// Each photograph's thumbnail (PNG) with the face box, or why it is not embedded.
    pub photos: [Result<Vec<u8>, String>; 2],
}

fn file_err(path: &Path, reason: impl Into<String>) -> ReportError {
    ReportError::File {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The last component of a path, or the whole path when it has none.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Read a PNG the analysis refers to; it must match the SHA-256 the analysis
/// recorded for it (analyses written before hashes were recorded have none),
/// decode (chunk CRCs checked) and have the size of the aligned crops when
/// `size` is given.
fn read_png(
    path: &Path,
    size: Option<(u32, u32)>,
    recorded: Option<&str>,
) -> Result<Png, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| {
        file_err(
            path,
            format!("cannot read this file the analysis refers to: {e}"),
        )
    })?;
    let sha256 = sha256_hex(&bytes);
    if let Some(want) = recorded.filter(|w| !w.eq_ignore_ascii_case(&sha256)) {
        return Err(file_err(
            path,
            format!(
                "SHA-256 {sha256}, not the {want} the analysis recorded: altered or not this analysis's file"
            ),
        ));
    }
    let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|e| file_err(path, format!("not a valid PNG (altered or corrupt): {e}")))?;
    let got = (decoded.width(), decoded.height());
    if let Some(want) = size.filter(|&w| w != got) {
        return Err(file_err(
            path,
            format!(
                "the image is {}×{} pixels, the aligned crops are {}×{}: altered or not this analysis's file",
                got.0, got.1, want.0, want.1
            ),
        ));
    }
    Ok(Png {
        path: path.to_path_buf(),
        bytes,
        sha256,
        size: got,
    })
}

/// The folder holding the crops and maps. `compare` records the crops' paths
/// as it wrote them (absolute, or relative to the folder it ran in) and the
/// maps' file names relative to the same folder; when the crop is not there,
/// the folder of the same name beside the analysis, then the analysis's own
/// folder, are tried.
fn maps_folder(a: &Analysis, base_dir: &Path, opts: &ReportOptions) -> PathBuf {
    if let Some(d) = &opts.maps_dir {
        return d.clone();
    }
    let Some(crops) = &a.parameters.aligned_crops else {
        return base_dir.to_path_buf();
    };
    let recorded = Path::new(&crops.a);
    let name = recorded.file_name().unwrap_or_default();
    let mut candidates = vec![recorded.to_path_buf()];
    if let Some(dir) = recorded.parent().and_then(Path::file_name) {
        candidates.push(base_dir.join(dir).join(name));
    }
    candidates.push(base_dir.join(name));
    let found = candidates
        .iter()
        .find(|c| c.is_file())
        .unwrap_or(&candidates[0]);
    found.parent().unwrap_or(Path::new("")).to_path_buf()
}

/// Read and check the crops and every map's blend PNG.
fn read_explanation(
    a: &Analysis,
    folder: &Path,
) -> Result<(Option<[Png; 2]>, Vec<MapBlend>), ReportError> {
    let p = &a.parameters;
    let crops = match &p.aligned_crops {
        Some(paths) => {
            let path =
                |f: usize| folder.join(Path::new(paths.get(f)).file_name().unwrap_or_default());
            let hash = |f: usize| p.aligned_crops_sha256.as_ref().map(|h| h.get(f).as_str());
            let first = read_png(&path(0), None, hash(0))?;
            let second = read_png(&path(1), Some(first.size), hash(1))?;
            Some([first, second])
        }
        None if !a.maps.is_empty() => {
            return Err(ReportError::Record(
                "maps are listed but parameters.aligned_crops is missing".into(),
            ));
        }
        None => None,
    };
    let size = crops.as_ref().map(|c| c[0].size);
    let mut maps = Vec::with_capacity(a.maps.len());
    for m in &a.maps {
        let Some(blend) = m.files.get("blend") else {
            return Err(ReportError::Record(format!(
                "map {} of face {} records no blend PNG",
                m.name,
                face_label(m.image)
            )));
        };
        let recorded = m.sha256.get("blend").map(String::as_str);
        maps.push((m.clone(), read_png(&folder.join(blend), size, recorded)?));
    }
    Ok((crops, maps))
}

/// A thumbnail (≤ [`THUMBNAIL_SIDE`] px, PNG) of the original photograph with
/// the used face's box, when the file is at its recorded path with its
/// recorded SHA-256; otherwise why it is not embedded.
fn photo(rec: &ImageRecord, base_dir: &Path) -> Result<Vec<u8>, String> {
    let recorded = Path::new(&rec.path);
    let mut candidates = vec![recorded.to_path_buf()];
    if recorded.is_relative() {
        candidates.push(base_dir.join(recorded));
    }
    let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
        format!(
            "the file is no longer readable at its recorded path {}",
            rec.path
        )
    })?;
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{}: cannot read the file: {e}", path.display()))?;
    let sha = sha256_hex(&bytes);
    if sha != rec.sha256 {
        return Err(format!(
            "the file now at {} has SHA-256 {sha}, not the recorded one: it is a different or altered file",
            path.display()
        ));
    }
    let loaded = decode_image(path, bytes).map_err(|e| e.to_string())?;
    let thumb = draw::thumbnail(loaded.rgb, rec.face.bbox, THUMBNAIL_SIDE);
    draw::encode_png(thumb)
}

/// Read and check everything the report of `a` embeds.
pub fn gather(
    a: &Analysis,
    base_dir: &Path,
    opts: &ReportOptions,
) -> Result<Gathered, ReportError> {
    if a.images.len() != 2 {
        return Err(ReportError::Record(format!(
            "{} images are recorded, a comparison has 2",
            a.images.len()
        )));
    }
    let folder = maps_folder(a, base_dir, opts);
    let (crops, maps) = read_explanation(a, &folder)?;
    Ok(Gathered {
        folder,
        crops,
        maps,
        photos: [photo(&a.images[0], base_dir), photo(&a.images[1], base_dir)],
    })
}
