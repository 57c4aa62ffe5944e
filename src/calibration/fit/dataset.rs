//! Labelled datasets for calibration: a folder of identity sub-folders (LFW
//! layout; ORL's `s1..s40` fits) and optionally a pairs list
//! ([`super::pairs_list`], re-exported here).
//! Embedding the images is [`super::embedding`]'s job, forming and scoring
//! the pairs [`super::pairs`]'s.

pub use super::pairs_list::{MAX_PAIRS_BYTES, Pair, PairList, read_pairs};
use crate::calibration::{CalibrationError, Result};
use crate::progress::Ctl;
use crate::resources::hash::{sha256_file, sha256_hex};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File extensions read as images (case-insensitive).
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "pgm", "ppm", "pnm",
];
/// One image of a dataset.
#[derive(Clone, Debug)]
pub struct DatasetImage {
    /// Path relative to the dataset folder, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
    /// Index into [`Dataset::identities`].
    pub identity: usize,
    pub sha256: String,
}

/// A scanned dataset folder.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub root: PathBuf,
    pub name: String,
    pub identities: Vec<String>,
    pub images: Vec<DatasetImage>,
    /// SHA-256 over the sorted list of (relative path, file SHA-256).
    pub sha256: String,
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let bad = |e: std::io::Error| CalibrationError::Dataset {
        path: dir.into(),
        reason: format!("cannot list the folder: {e}"),
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(bad)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

impl Dataset {
    /// Scan `root`: each sub-folder is an identity, each image file in it a
    /// sample. Refuses a folder without images, or with fewer than two
    /// identities, or without any identity holding two images.
    pub fn scan(root: &Path, ctl: Ctl) -> Result<Dataset> {
        let bad = |reason: String| CalibrationError::Dataset {
            path: root.into(),
            reason,
        };
        if !root.is_dir() {
            return Err(bad("not a folder (expected DIR/<identity>/<image>)".into()));
        }
        let mut identities = Vec::new();
        let mut files = Vec::new();
        for sub in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
            let imgs: Vec<PathBuf> = sorted_entries(&sub)?
                .into_iter()
                .filter(|p| p.is_file() && is_image(p))
                .collect();
            if imgs.is_empty() {
                continue;
            }
            let name = sub
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for p in imgs {
                let file = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((format!("{name}/{file}"), p, identities.len()));
            }
            identities.push(name);
        }
        if files.is_empty() {
            return Err(bad(
                "no images found in identity sub-folders (expected DIR/<identity>/<image>)".into(),
            ));
        }
        if identities.len() < 2 {
            return Err(bad(format!(
                "only one identity ({}) has images; calibration needs at least two identities to form impostor pairs",
                identities[0]
            )));
        }
        let total = files.len();
        let mut images = Vec::with_capacity(total);
        let mut listing = String::new();
        for (n, (rel, path, identity)) in files.into_iter().enumerate() {
            ctl.check()?;
            ctl.report("hashing images", n, total);
            let sha256 = sha256_file(&path).map_err(|e| bad(format!("{rel}: cannot read: {e}")))?;
            listing.push_str(&format!("{rel}\t{sha256}\n"));
            images.push(DatasetImage {
                rel,
                path,
                identity,
                sha256,
            });
        }
        let name = root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| root.display().to_string());
        Ok(Dataset {
            root: root.into(),
            name,
            identities,
            images,
            sha256: sha256_hex(listing.as_bytes()),
        })
    }

    /// Every image by (identity, file stem), the first of equal keys: a
    /// pairs list of millions of lines is looked up in linear time.
    pub(super) fn by_stem(&self) -> HashMap<(&str, String), usize> {
        let mut m = HashMap::with_capacity(self.images.len());
        for (i, im) in self.images.iter().enumerate() {
            let stem = Path::new(&im.rel)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            m.entry((self.identities[im.identity].as_str(), stem))
                .or_insert(i);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Ctl;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn scan_lists_identities_and_images_in_order_and_honours_cancel() {
        let dir = tempfile::tempdir().unwrap();
        for (id, files) in [
            ("b", &["2.png", "1.PNG", "x.txt"][..]),
            ("a", &["9.jpg"][..]),
            ("empty", &[][..]),
        ] {
            std::fs::create_dir_all(dir.path().join(id)).unwrap();
            for f in files {
                std::fs::write(dir.path().join(id).join(f), f.as_bytes()).unwrap();
            }
        }
        let ds = Dataset::scan(dir.path(), Ctl::none()).unwrap();
        assert_eq!(ds.identities, ["a", "b"]);
        let rels: Vec<&str> = ds.images.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["a/9.jpg", "b/1.PNG", "b/2.png"]);
        assert_eq!(ds.images[1].sha256, sha256_hex(b"1.PNG"));
        assert_eq!(ds.by_stem().get(&("b", "2".to_string())), Some(&2));
        // The dataset hash covers names and contents.
        std::fs::write(dir.path().join("b/2.png"), b"changed").unwrap();
        assert_ne!(
            Dataset::scan(dir.path(), Ctl::none()).unwrap().sha256,
            ds.sha256
        );

        let cancel = AtomicBool::new(true);
        let ctl = Ctl::new(&|_| {}, &cancel);
        assert!(matches!(
            Dataset::scan(dir.path(), ctl),
            Err(CalibrationError::Cancelled)
        ));
    }
}
