//! Labelled datasets for calibration: a folder of identity sub-folders (LFW
//! layout; ORL's `s1..s40` fits) and optionally an LFW-style pairs list.
//! Embedding the images is [`super::embedding`]'s job, forming and scoring
//! the pairs [`super::pairs`]'s.

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
    fn by_stem(&self) -> HashMap<(&str, String), usize> {
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

/// Index of image number `n` of `identity` in `index` ([`Dataset::by_stem`]):
/// the first file named `<identity>_<n:04>.*` (LFW) or `<n>.*` (ORL).
fn find(index: &HashMap<(&str, String), usize>, identity: &str, n: u32) -> Option<usize> {
    let at = |stem: String| index.get(&(identity, stem)).copied();
    match (at(format!("{identity}_{n:04}")), at(n.to_string())) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Largest pairs list read (LFW's is 100 KB).
pub const MAX_PAIRS_BYTES: u64 = 64 << 20;

/// A pair of images (indices into [`Dataset::images`]) and whether it is genuine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub genuine: bool,
}

/// Pairs read from an LFW-style list.
#[derive(Clone, Debug)]
pub struct PairList {
    pub name: String,
    pub sha256: String,
    pub pairs: Vec<Pair>,
}

/// Read an LFW-style pairs list: `name n1 n2` is a genuine pair, `name1 n1
/// name2 n2` an impostor pair; a first line of one or two numbers (fold
/// counts) is skipped, as are blank lines and `#` comments.
pub fn read_pairs(path: &Path, dataset: &Dataset) -> Result<PairList> {
    let err = |line: usize, reason: String| CalibrationError::Pairs {
        path: path.into(),
        line,
        reason,
    };
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > MAX_PAIRS_BYTES {
        return Err(err(
            0,
            format!(
                "the list is {} MB, more than a pairs list can be ({} MB)",
                size >> 20,
                MAX_PAIRS_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| err(0, "not UTF-8 text".into()))?;
    let index = dataset.by_stem();
    let mut pairs = Vec::new();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let header = first && t.len() <= 2 && t.iter().all(|s| s.parse::<u64>().is_ok());
        first = false;
        if header {
            continue;
        }
        let num = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| err(i + 1, format!("{s:?} is not an image number")))
        };
        let find = |name: &str, n: u32| {
            find(&index, name, n).ok_or_else(|| {
                err(i + 1, format!("no image {n} of identity {name:?} in {} (looked for {name}_{n:04}.* and {n}.*)", dataset.root.display()))
            })
        };
        let pair = match t.as_slice() {
            [name, n1, n2] => Pair {
                a: find(name, num(n1)?)?,
                b: find(name, num(n2)?)?,
                genuine: true,
            },
            [a, n1, b, n2] if a == b => {
                return Err(err(
                    i + 1,
                    format!("an impostor line names the same identity {a:?} twice"),
                ));
            }
            [a, n1, b, n2] => Pair {
                a: find(a, num(n1)?)?,
                b: find(b, num(n2)?)?,
                genuine: false,
            },
            _ => {
                return Err(err(
                    i + 1,
                    format!("expected `name n1 n2` or `name1 n1 name2 n2`, got {line:?}"),
                ));
            }
        };
        pairs.push(pair);
    }
    if pairs.is_empty() {
        return Err(err(0, "the list holds no pairs".into()));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(PairList {
        name,
        sha256: sha256_hex(&bytes),
        pairs,
    })
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
        assert_eq!(super::find(&ds.by_stem(), "b", 2), Some(2));
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
