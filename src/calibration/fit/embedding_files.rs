//! Embeddings files given with `--embeddings` (`explore`, `eval`,
//! `calibrate`): read ([`crate::record::embeddings`]), checked against the
//! models in use, and merged. An image is found by its path in the data set
//! and its SHA-256 (an image edited since it was embedded is not found).
//!
//! - A file made by another recogniser, detector, FaceMesh or recipe is
//!   refused, naming both models.
//! - An image in several files: the same result is fine (a shard run twice),
//!   different results are refused, naming both files.
//! - Images in no file are refused, saying how many and, for shards of one
//!   split, which shards they belong to — on a cluster that means a shard
//!   failed or is still running, and the merge step is not the place to
//!   embed thousands of images by surprise. `--embed-missing` embeds them
//!   here instead (through the cache, like any image).

use super::FitError;
use super::dataset::Dataset;
use super::embedding::{model_ref, pipeline_key};
use super::shard::Shard;
use crate::calibration::CalibrationError;
use crate::pipeline::Pipeline;
use crate::record::RecordError;
use crate::record::embeddings::{EmbeddingsFile, EmbeddingsHeader, ImageResult};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Examples of missing images named in a refusal.
const EXAMPLES: usize = 5;

/// The images of one or more embeddings files, merged.
#[derive(Debug)]
pub struct EmbeddingFiles {
    /// The files, as given.
    pub paths: Vec<PathBuf>,
    headers: Vec<EmbeddingsHeader>,
    /// (path in the data set, SHA-256) → (file, result).
    by_image: HashMap<(String, String), (usize, ImageResult)>,
    /// Every path the files hold (whatever its SHA-256).
    paths_held: HashSet<String>,
    /// Embed here the images no file holds, instead of refusing.
    pub embed_missing: bool,
}

fn refuse(path: &Path, reason: String) -> FitError {
    FitError::Record(RecordError::BadFile {
        path: path.into(),
        reason,
    })
}

impl EmbeddingFiles {
    /// Read `paths` and check each against `pipeline`'s models.
    pub fn read(
        paths: &[PathBuf],
        pipeline: &Pipeline,
        embed_missing: bool,
    ) -> Result<EmbeddingFiles, FitError> {
        let mut out = EmbeddingFiles {
            paths: paths.to_vec(),
            headers: Vec::new(),
            by_image: HashMap::new(),
            paths_held: HashSet::new(),
            embed_missing,
        };
        for (k, path) in paths.iter().enumerate() {
            let f = EmbeddingsFile::read(path)?;
            check_models(&f, pipeline)?;
            for line in f.images {
                out.paths_held.insert(line.path.clone());
                let key = (line.path, line.sha256);
                match out.by_image.get(&key) {
                    Some((j, r)) if *r != line.result => {
                        return Err(refuse(
                            path,
                            format!(
                                "{} (sha256 {}) has another result in {}: the same image embedded differently; drop one of the files",
                                key.0,
                                key.1,
                                paths[*j].display()
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        out.by_image.insert(key, (k, line.result));
                    }
                }
            }
            out.headers.push(f.header);
        }
        Ok(out)
    }

    /// The result of the image at `rel` with SHA-256 `sha`, if a file holds it.
    pub fn get(&self, rel: &str, sha: &str) -> Option<&ImageResult> {
        self.by_image
            .get(&(rel.to_string(), sha.to_string()))
            .map(|(_, r)| r)
    }

    /// Images the files hold.
    pub fn len(&self) -> usize {
        self.by_image.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_image.is_empty()
    }

    /// Whether the files can serve `wanted` of `dataset`: verdicts by the
    /// `quality` thresholds (when wanted), every image held (or
    /// `embed_missing`, and then a warning says how many will be embedded).
    pub fn check(
        &self,
        dataset: &Dataset,
        wanted: &BTreeSet<usize>,
        quality: Option<&str>,
    ) -> Result<(), FitError> {
        if let Some(t) = quality {
            for (h, p) in self.headers.iter().zip(&self.paths) {
                if h.quality_thresholds.as_deref() != Some(t) {
                    return Err(refuse(
                        p,
                        format!(
                            "quality verdicts by {}; this run judges by {t}: embed with the same --quality-thresholds",
                            h.quality_thresholds
                                .as_deref()
                                .unwrap_or("no thresholds (not assessed)")
                        ),
                    ));
                }
            }
        }
        let missing: Vec<&str> = wanted
            .iter()
            .map(|&i| &dataset.images[i])
            .filter(|im| self.get(&im.rel, &im.sha256).is_none())
            .map(|im| im.rel.as_str())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let what = self.describe_missing(&missing, wanted.len());
        if self.embed_missing {
            tracing::warn!("{what}; embedding them here (--embed-missing)");
            eprintln!("warning: {what}; embedding them here (--embed-missing)");
            return Ok(());
        }
        Err(CalibrationError::Dataset {
            path: dataset.root.clone(),
            reason: format!(
                "{what}; embed them (run the missing shards again), or add --embed-missing to embed them here"
            ),
        }
        .into())
    }

    /// "N of M images are in none of the K embeddings files (…)", with
    /// examples, the edited ones and, for shards of one split, their shards.
    fn describe_missing(&self, missing: &[&str], wanted: usize) -> String {
        let names: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        let mut s = format!(
            "{} of {wanted} images are in none of the {} embeddings files ({}): {}{}",
            missing.len(),
            names.len(),
            names.join(", "),
            missing[..missing.len().min(EXAMPLES)].join(", "),
            if missing.len() > EXAMPLES {
                ", …"
            } else {
                ""
            }
        );
        let edited = missing
            .iter()
            .filter(|m| self.paths_held.contains(**m))
            .count();
        if edited > 0 {
            s += &format!(
                " ({edited} of them held with another SHA-256: edited since they were embedded)"
            );
        }
        if let Some(n) = self.shard_count() {
            let mut per: BTreeMap<usize, usize> = BTreeMap::new();
            for m in missing {
                *per.entry(Shard::of(m, n).index).or_default() += 1;
            }
            let present: BTreeSet<usize> = self
                .headers
                .iter()
                .filter_map(|h| h.shard.map(|s| s.index))
                .collect();
            let list: Vec<String> = per
                .iter()
                .map(|(k, c)| {
                    let file = if present.contains(k) { "" } else { ", no file" };
                    format!("{k}/{n} ({c} images{file})")
                })
                .collect();
            s += &format!("; by shard: {}", list.join(", "));
        }
        s
    }

    /// N when every file is a shard of the same N.
    fn shard_count(&self) -> Option<usize> {
        let counts: BTreeSet<Option<usize>> = self
            .headers
            .iter()
            .map(|h| h.shard.map(|s| s.count))
            .collect();
        match counts.into_iter().collect::<Vec<_>>()[..] {
            [Some(n)] => Some(n),
            _ => None,
        }
    }
}

/// Refuse a file made by other models than `pipeline`'s, naming both.
fn check_models(f: &EmbeddingsFile, p: &Pipeline) -> Result<(), FitError> {
    let h = &f.header;
    let theirs_ours = [
        ("recogniser", &h.recogniser, p.model.clone()),
        ("detector", &h.detector, model_ref(p, "yunet")),
        ("FaceMesh", &h.facemesh, model_ref(p, "facemesh")),
    ];
    for (what, theirs, ours) in theirs_ours {
        if theirs.sha256 != ours.sha256 {
            return Err(refuse(
                &f.path,
                format!(
                    "embedded with {what} {} (sha256 {}); this run uses {} (sha256 {}): embed again with these models, or choose the file's (--model)",
                    theirs.name, theirs.sha256, ours.name, ours.sha256
                ),
            ));
        }
    }
    let key = pipeline_key(p);
    if h.pipeline_key != key {
        return Err(refuse(
            &f.path,
            format!(
                "made by another recipe or reading of the recogniser (pipeline key {}, this build's {key}): embed again with this build",
                h.pipeline_key
            ),
        ));
    }
    Ok(())
}
