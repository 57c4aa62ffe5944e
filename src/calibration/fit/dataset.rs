//! Labelled datasets for calibration: a folder of identity sub-folders (LFW
//! layout; ORL's `s1..s40` fits), optionally an LFW-style pairs list; the
//! embedding of every image, cached on disk; and the genuine/impostor pairs.
//!
//! The embedding cache lives in `$XDG_CACHE_HOME/facexplain/embeddings/<key>/`
//! (`~/.cache/...`), one file per image named by the image file's SHA-256;
//! `<key>` hashes the recogniser's and the detector's SHA-256, since both
//! decide the embedding. A face is stored as little-endian f32s; an image
//! without a face as an empty file.

use super::metrics::ScoreSet;
use crate::calibration::{CalibrationError, Result};
use crate::pipeline::models::{sha256_file, sha256_hex};
use crate::pipeline::{Pipeline, PipelineError, embed, load};
use crate::progress::Ctl;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// File extensions read as images (case-insensitive).
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "pgm", "ppm", "pnm",
];
/// Impostor pairs used at most before sampling (seeded) kicks in.
pub const DEFAULT_MAX_IMPOSTORS: usize = 500_000;

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

    /// Index of image number `n` of `identity`: the file named
    /// `<identity>_<n:04>.*` (LFW) or `<n>.*` (ORL).
    fn find(&self, identity: &str, n: u32) -> Option<usize> {
        let lfw = format!("{identity}_{n:04}");
        let plain = n.to_string();
        self.images.iter().position(|im| {
            let stem = Path::new(&im.rel)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.identities[im.identity] == identity && (stem == lfw || stem == plain)
        })
    }
}

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
    let bytes = std::fs::read(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| err(0, "not UTF-8 text".into()))?;
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
            dataset.find(name, n).ok_or_else(|| {
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

/// An image left out of the calibration and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedImage {
    pub path: String,
    pub reason: String,
}

/// The on-disk embedding cache (see the module doc); `None` disables it.
#[derive(Clone, Debug)]
pub struct EmbeddingCache {
    dir: Option<PathBuf>,
}

impl EmbeddingCache {
    /// The cache for this pipeline's models in the user cache folder.
    pub fn for_pipeline(pipeline: &Pipeline) -> EmbeddingCache {
        let detector = pipeline
            .store
            .manifest
            .entry("yunet")
            .map(|e| e.sha256.clone())
            .unwrap_or_default();
        let key = sha256_hex(
            format!(
                "facexplain-embeddings/1\nrecipe {}\n{}\n{detector}\n",
                crate::pipeline::RECIPE_VERSION,
                pipeline.model.sha256
            )
            .as_bytes(),
        );
        let dir =
            dirs::cache_dir().map(|c| c.join("facexplain").join("embeddings").join(&key[..16]));
        EmbeddingCache { dir }
    }

    pub fn disabled() -> EmbeddingCache {
        EmbeddingCache { dir: None }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// `Some(Some(embedding))`, `Some(None)` for a cached "no face", `None` on a miss.
    fn get(&self, sha: &str) -> Option<Option<Vec<f32>>> {
        let bytes = std::fs::read(self.dir.as_ref()?.join(format!("{sha}.f32"))).ok()?;
        if bytes.is_empty() {
            return Some(None);
        }
        if bytes.len() % 4 != 0 {
            return None;
        }
        Some(Some(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// Store an entry; failures only cost a recomputation next time.
    fn put(&self, sha: &str, embedding: Option<&[f32]>) {
        let Some(dir) = &self.dir else { return };
        let bytes: Vec<u8> = embedding
            .unwrap_or(&[])
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let tmp = dir.join(format!("{sha}.{}.part", std::process::id()));
        let done = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, &bytes))
            .and_then(|_| std::fs::rename(&tmp, dir.join(format!("{sha}.f32"))));
        if let Err(e) = done {
            tracing::warn!("embedding cache {}: {e}", dir.display());
        }
    }
}

/// The embedding of each dataset image (`None` where it was skipped).
#[derive(Clone, Debug)]
pub struct Embedded {
    pub embeddings: Vec<Option<Vec<f32>>>,
    pub skipped: Vec<SkippedImage>,
    /// How many came from the cache.
    pub cache_hits: usize,
}

/// The message of a bad-input error without the absolute path in front.
fn reason_for(e: &PipelineError, path: &Path) -> String {
    let msg = e.to_string();
    msg.strip_prefix(&format!("{}: ", path.display()))
        .map(str::to_string)
        .unwrap_or(msg)
}

/// Detect, align and embed the largest face of each image in `wanted`
/// (indices into the dataset), one image at a time so the numbers never
/// depend on batching or on what the cache held. Images that fail as bad
/// input (no face, corrupt) are skipped and listed; model failures abort.
pub fn embed_images(
    pipeline: &Pipeline,
    dataset: &Dataset,
    wanted: &BTreeSet<usize>,
    cache: &EmbeddingCache,
    ctl: Ctl,
) -> Result<Embedded> {
    let mut out = Embedded {
        embeddings: vec![None; dataset.images.len()],
        skipped: Vec::new(),
        cache_hits: 0,
    };
    let stage = "embedding faces";
    for (n, &i) in wanted.iter().enumerate() {
        ctl.check()?;
        ctl.report(stage, n, wanted.len());
        let im = &dataset.images[i];
        let result = match cache.get(&im.sha256) {
            Some(hit) => {
                out.cache_hits += 1;
                hit.ok_or(PipelineError::NoFace {
                    path: im.path.clone(),
                    hint: String::new(),
                })
            }
            None => {
                let r = load::load_image(&im.path)
                    .and_then(|l| pipeline.analyze(pipeline.detect_image(l)?, None));
                match &r {
                    Ok(fa) => cache.put(&im.sha256, Some(&fa.embedding)),
                    Err(PipelineError::NoFace { .. }) => cache.put(&im.sha256, None),
                    Err(_) => {}
                }
                r.map(|fa| fa.embedding)
            }
        };
        match result {
            Ok(e) => out.embeddings[i] = Some(e),
            Err(e) if e.is_bad_input() => out.skipped.push(SkippedImage {
                path: im.rel.clone(),
                reason: reason_for(&e, &im.path),
            }),
            Err(e) => return Err(e.into()),
        }
    }
    ctl.report(stage, wanted.len(), wanted.len());
    Ok(out)
}

/// How the pairs were formed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairInfo {
    pub genuine: usize,
    pub impostor: usize,
    /// Impostor pairs available before any sampling.
    pub impostor_available: u64,
    /// "all", "seeded random sample" or "pairs list".
    pub selection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Pairs of the list dropped because an image was skipped.
    #[serde(default)]
    pub dropped: usize,
}

/// All genuine pairs, and all impostor pairs or a seeded sample of
/// `max_impostors` of them, over the images that have an embedding.
pub fn all_pairs(
    dataset: &Dataset,
    embedded: &Embedded,
    max_impostors: usize,
    seed: u64,
) -> (Vec<Pair>, PairInfo) {
    let used: Vec<usize> = (0..dataset.images.len())
        .filter(|&i| embedded.embeddings[i].is_some())
        .collect();
    let id = |i: usize| dataset.images[i].identity;
    let mut per_id: BTreeMap<usize, u64> = BTreeMap::new();
    used.iter()
        .for_each(|&i| *per_id.entry(id(i)).or_default() += 1);
    let n = used.len() as u64;
    let same: u64 = per_id.values().map(|c| c * c.saturating_sub(1) / 2).sum();
    let available = n * n.saturating_sub(1) / 2 - same;
    let mut pairs = Vec::new();
    for (x, &a) in used.iter().enumerate() {
        for &b in &used[x + 1..] {
            if id(a) == id(b) {
                pairs.push(Pair {
                    a,
                    b,
                    genuine: true,
                });
            } else if available <= max_impostors as u64 {
                pairs.push(Pair {
                    a,
                    b,
                    genuine: false,
                });
            }
        }
    }
    let genuine = pairs.iter().filter(|p| p.genuine).count();
    let (selection, seed) = if available <= max_impostors as u64 {
        ("all".to_string(), None)
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut chosen = BTreeSet::new();
        while chosen.len() < max_impostors {
            let (a, b) = (
                used[rng.random_range(0..used.len())],
                used[rng.random_range(0..used.len())],
            );
            if id(a) != id(b) {
                chosen.insert((a.min(b), a.max(b)));
            }
        }
        pairs.extend(chosen.into_iter().map(|(a, b)| Pair {
            a,
            b,
            genuine: false,
        }));
        ("seeded random sample".to_string(), Some(seed))
    };
    let impostor = pairs.len() - genuine;
    (
        pairs,
        PairInfo {
            genuine,
            impostor,
            impostor_available: available,
            selection,
            seed,
            dropped: 0,
        },
    )
}

/// The pairs of a list whose two images both have an embedding.
pub fn listed_pairs(list: &PairList, embedded: &Embedded) -> (Vec<Pair>, PairInfo) {
    let keep: Vec<Pair> = list
        .pairs
        .iter()
        .copied()
        .filter(|p| embedded.embeddings[p.a].is_some() && embedded.embeddings[p.b].is_some())
        .collect();
    let genuine = keep.iter().filter(|p| p.genuine).count();
    let listed_impostors = list.pairs.iter().filter(|p| !p.genuine).count() as u64;
    let info = PairInfo {
        genuine,
        impostor: keep.len() - genuine,
        impostor_available: listed_impostors,
        selection: "pairs list".into(),
        seed: None,
        dropped: list.pairs.len() - keep.len(),
    };
    (keep, info)
}

/// Cosine similarity of each pair, split by class.
pub fn score_pairs(pairs: &[Pair], embedded: &Embedded) -> ScoreSet {
    let mut s = ScoreSet::default();
    for p in pairs {
        if let (Some(a), Some(b)) = (&embedded.embeddings[p.a], &embedded.embeddings[p.b]) {
            let v = embed::cosine(a, b) as f64;
            if p.genuine {
                s.genuine.push(v)
            } else {
                s.impostor.push(v)
            }
        }
    }
    s
}

/// Image indices a pair set needs.
pub fn images_of(pairs: &[Pair]) -> BTreeSet<usize> {
    pairs.iter().flat_map(|p| [p.a, p.b]).collect()
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
        assert_eq!(ds.find("b", 2), Some(2));
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
