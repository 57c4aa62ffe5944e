//! The embedding of every image of a dataset, with its quality verdict,
//! cached on disk.
//!
//! The cache lives in `$XDG_CACHE_HOME/facexplain/embeddings/<key>/`
//! (`~/.cache/...`), one JSON file per image named by the image file's
//! SHA-256; `<key>` hashes the cache format, the recogniser's, the
//! detector's and FaceMesh's SHA-256, since they decide what is stored. An
//! entry holds the embedding (`null`: no face) and, when the image was
//! assessed, its quality record (the thresholds that decided it are named
//! in it; other thresholds assess the image again) or why it could not be.
//! Folders of an older format are ignored, with a warning.

use super::FitError;
use super::dataset::Dataset;
use crate::calibration::file::SkippedImage;
use crate::pipeline::{Pipeline, PipelineError, load};
use crate::progress::Ctl;
use crate::quality::{Assessor, QualityError};
use crate::record::{FaceQuality, Verdict};
use crate::resources::hash::sha256_hex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The cache format; older formats' folders are ignored (with a warning).
pub const CACHE_FORMAT: u32 = 2;
/// Schema of one cache entry.
const ENTRY_SCHEMA: &str = "facexplain.embedding/2";

/// The on-disk embedding cache (see the module doc); `None` disables it.
#[derive(Clone, Debug)]
pub struct EmbeddingCache {
    dir: Option<PathBuf>,
}

/// One cached image: its embedding and, if assessed, its quality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    schema: String,
    /// The L2-normalised embedding of the largest face (`None`: no face).
    embedding: Option<Vec<f32>>,
    /// The face's quality record, when it was assessed.
    quality: Option<FaceQuality>,
    /// Why the face could not be assessed, when it could not.
    quality_failed: Option<String>,
}

impl Entry {
    /// Whether this entry answers a request (`quality`: the thresholds wanted).
    fn serves(&self, quality: Option<&str>) -> bool {
        match (quality, &self.embedding) {
            (None, _) | (_, None) => true,
            (Some(t), Some(_)) => {
                self.quality_failed.is_some()
                    || self.quality.as_ref().is_some_and(|q| q.thresholds == t)
            }
        }
    }
}

impl EmbeddingCache {
    /// The cache for this pipeline's models in the user cache folder.
    pub fn for_pipeline(pipeline: &Pipeline) -> EmbeddingCache {
        let Some(root) = dirs::cache_dir().map(|c| c.join("facexplain").join("embeddings")) else {
            return EmbeddingCache { dir: None };
        };
        warn_old_format(&root.join(Self::folder_name(pipeline, 1)));
        EmbeddingCache {
            dir: Some(root.join(Self::folder_name(pipeline, CACHE_FORMAT))),
        }
    }

    /// A cache in `dir` (for tests and tools that keep their own).
    pub fn at(dir: PathBuf) -> EmbeddingCache {
        EmbeddingCache { dir: Some(dir) }
    }

    /// The name of the cache folder of `pipeline`'s models in cache format
    /// `format` (1: raw floats, before quality verdicts were cached).
    pub fn folder_name(pipeline: &Pipeline, format: u32) -> String {
        let sha = |id: &str| {
            pipeline
                .store
                .manifest
                .entry(id)
                .map(|e| e.sha256.clone())
                .unwrap_or_default()
        };
        let mut key = format!(
            "facexplain-embeddings/{format}\nrecipe {}\n{}\n{}\n{}\n",
            crate::pipeline::RECIPE_VERSION,
            pipeline.model.sha256,
            sha("yunet"),
            // The recogniser's input conventions: the same file read another way embeds differently.
            serde_json::to_string(&pipeline.recogniser.spec).unwrap_or_default()
        );
        if format >= 2 {
            key.push_str(&format!("facemesh {}\n", sha("facemesh")));
        }
        sha256_hex(key.as_bytes())[..16].to_string()
    }
}

/// Warn (once per process) that a folder of the older format is ignored.
fn warn_old_format(old: &Path) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if old.is_dir() {
        WARNED.call_once(|| {
            tracing::warn!(
                "embedding cache {}: entries of an older format (no quality verdicts) are ignored and the images embedded again; delete the folder to free its space",
                old.display()
            )
        });
    }
}

impl EmbeddingCache {
    pub fn disabled() -> EmbeddingCache {
        EmbeddingCache { dir: None }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The entry of the image with this SHA-256, `None` on a miss. An entry
    /// that does not parse, or whose embedding is not unit-length (the
    /// embedder normalises every one), is corrupt: warned about and recomputed.
    fn get(&self, sha: &str) -> Option<Entry> {
        let path = self.dir.as_ref()?.join(format!("{sha}.json"));
        let bytes = std::fs::read(&path).ok()?;
        let corrupt = |why: String| {
            tracing::warn!(
                "embedding cache {}: corrupt entry ({why}); embedding the image again",
                path.display()
            );
        };
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                corrupt(format!("{} bytes: {e}", bytes.len()));
                return None;
            }
        };
        if entry.schema != ENTRY_SCHEMA {
            corrupt(format!("schema {:?}", entry.schema));
            return None;
        }
        if let Some(v) = &entry.embedding {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            // NaN is corrupt too.
            let unit = (norm - 1.0).abs() < 1e-3;
            if !unit {
                corrupt(format!("{} values of norm {norm}", v.len()));
                return None;
            }
        }
        Some(entry)
    }

    /// Store an entry; failures only cost a recomputation next time.
    fn put(&self, sha: &str, entry: &Entry) {
        let Some(dir) = &self.dir else { return };
        // Plain data (finite floats, strings): serialisation cannot fail.
        let bytes = serde_json::to_vec(entry).unwrap_or_default();
        let tmp = dir.join(format!("{sha}.{}.part", std::process::id()));
        let done = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, &bytes))
            .and_then(|_| std::fs::rename(&tmp, dir.join(format!("{sha}.json"))));
        if let Err(e) = done {
            tracing::warn!("embedding cache {}: {e}", dir.display());
        }
    }
}

/// The embedding of each dataset image (`None` where it was skipped) and,
/// when asked for, its quality verdict.
#[derive(Clone, Debug)]
pub struct Embedded {
    pub embeddings: Vec<Option<Vec<f32>>>,
    /// The quality verdict of each image's face (`None`: not asked for, no
    /// face, or not assessable).
    pub quality: Vec<Option<Verdict>>,
    pub skipped: Vec<SkippedImage>,
    /// Images with a face whose quality could not be assessed, and why.
    pub quality_failed: Vec<SkippedImage>,
    /// How many came from the cache.
    pub cache_hits: usize,
}

impl Embedded {
    /// Nothing embedded yet for a dataset of `n` images.
    pub fn empty(n: usize) -> Embedded {
        Embedded {
            embeddings: vec![None; n],
            quality: vec![None; n],
            skipped: Vec::new(),
            quality_failed: Vec::new(),
            cache_hits: 0,
        }
    }
}

/// The message of a bad-input error without the absolute path in front.
fn reason_for(e: &dyn std::fmt::Display, path: &Path) -> String {
    let msg = e.to_string();
    msg.strip_prefix(&format!("{}: ", path.display()))
        .map(str::to_string)
        .unwrap_or(msg)
}

/// Load, detect, embed the largest face and, with `assessor`, judge its
/// quality as the viewer does (`Assessor::assess` of the analysis). A
/// model failure is an error; an image at fault is an entry or a reason.
fn compute(
    pipeline: &Pipeline,
    assessor: Option<&Assessor>,
    path: &Path,
) -> Result<Result<Entry, PipelineError>, FitError> {
    let analysed =
        load::load_image(path).and_then(|l| pipeline.analyze(pipeline.detect_image(l)?, None));
    let fa = match analysed {
        Ok(fa) => fa,
        Err(e) if e.is_bad_input() => return Ok(Err(e)),
        Err(e) => return Err(e.into()),
    };
    let (quality, quality_failed) = match assessor.map(|a| a.assess(&fa)) {
        None => (None, None),
        Some(Ok(q)) => (Some(q), None),
        Some(Err(QualityError::Pipeline(e))) if !e.is_bad_input() => return Err(e.into()),
        Some(Err(e)) => (None, Some(reason_for(&e, path))),
    };
    Ok(Ok(Entry {
        schema: ENTRY_SCHEMA.into(),
        embedding: Some(fa.embedding),
        quality,
        quality_failed,
    }))
}

/// Detect, align and embed the largest face of each image in `wanted`
/// (indices into the dataset), and with `assessor` judge its quality, one
/// image at a time so the numbers never depend on batching or on what the
/// cache held. Images that fail as bad input (no face, corrupt) are skipped
/// and listed; model failures abort.
pub fn embed_images(
    pipeline: &Pipeline,
    dataset: &Dataset,
    wanted: &BTreeSet<usize>,
    cache: &EmbeddingCache,
    assessor: Option<&Assessor>,
    ctl: Ctl,
) -> Result<Embedded, FitError> {
    let mut out = Embedded::empty(dataset.images.len());
    let thresholds = assessor.map(|a| a.thresholds.identity.as_str());
    let stage = "embedding faces";
    for (n, &i) in wanted.iter().enumerate() {
        ctl.check()?;
        ctl.report(stage, n, wanted.len());
        let im = &dataset.images[i];
        let hit = cache.get(&im.sha256).filter(|e| e.serves(thresholds));
        let entry = match hit {
            Some(e) => {
                out.cache_hits += 1;
                e
            }
            None => match compute(pipeline, assessor, &im.path)? {
                Ok(e) => {
                    cache.put(&im.sha256, &e);
                    e
                }
                Err(e) => {
                    if matches!(e, PipelineError::NoFace { .. }) {
                        cache.put(
                            &im.sha256,
                            &Entry {
                                schema: ENTRY_SCHEMA.into(),
                                embedding: None,
                                quality: None,
                                quality_failed: None,
                            },
                        );
                    }
                    out.skipped.push(SkippedImage {
                        path: im.rel.clone(),
                        reason: reason_for(&e, &im.path),
                    });
                    continue;
                }
            },
        };
        let Some(embedding) = entry.embedding else {
            out.skipped.push(SkippedImage {
                path: im.rel.clone(),
                reason: reason_for(
                    &PipelineError::NoFace {
                        path: im.path.clone(),
                        hint: String::new(),
                    },
                    &im.path,
                ),
            });
            continue;
        };
        out.embeddings[i] = Some(embedding);
        if thresholds.is_some() {
            out.quality[i] = entry.quality.map(|q| q.verdict);
            if let Some(why) = entry.quality_failed {
                out.quality_failed.push(SkippedImage {
                    path: im.rel.clone(),
                    reason: why,
                });
            }
        }
    }
    ctl.report(stage, wanted.len(), wanted.len());
    Ok(out)
}
