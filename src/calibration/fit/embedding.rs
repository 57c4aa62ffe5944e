//! The embedding of every image of a dataset, with its quality verdict,
//! cached on disk.
//!
//! The cache lives in `$XDG_CACHE_HOME/facexplain/embeddings/<key>/`
//! (`~/.cache/...`), one JSON file per image named by the image file's
//! SHA-256; `<key>` hashes the cache format, the recogniser's, the
//! detector's and FaceMesh's SHA-256, since they decide what is stored. An
//! entry holds what the pipeline found ([`ImageResult`], as embeddings
//! files hold it): the face used, the embedding (none: no face) and, when
//! the image was assessed, its quality record (the thresholds that decided
//! it are named in it; other thresholds assess the image again) or why it
//! could not be. Folders of an older format are ignored, with a warning.
//!
//! Before the cache, embeddings files ([`super::embedding_files`]) are
//! looked at; what neither holds is computed on the workers
//! ([`super::image_workers`]).

use super::FitError;
use super::dataset::{Dataset, DatasetImage};
use super::embedding_files::EmbeddingFiles;
use super::image_workers::for_each_image;
use crate::calibration::file::SkippedImage;
use crate::pipeline::Pipeline;
use crate::progress::Ctl;
use crate::quality::Assessor;
use crate::record::Verdict;
use crate::record::embeddings::ImageResult;
use crate::resources::hash::sha256_hex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The cache format; older formats' folders are ignored (with a warning).
/// 3: an entry is an [`ImageResult`] (the face used is kept).
pub const CACHE_FORMAT: u32 = 3;
/// Schema of one cache entry.
const ENTRY_SCHEMA: &str = "facexplain.embedding/3";

/// The on-disk embedding cache (see the module doc); `None` disables it.
#[derive(Clone, Debug)]
pub struct EmbeddingCache {
    dir: Option<PathBuf>,
}

/// One cached image: what the pipeline found in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    schema: String,
    result: ImageResult,
}

impl EmbeddingCache {
    /// The cache for this pipeline's models in the user cache folder.
    pub fn for_pipeline(pipeline: &Pipeline) -> EmbeddingCache {
        let Some(root) = dirs::cache_dir().map(|c| c.join("facexplain").join("embeddings")) else {
            return EmbeddingCache { dir: None };
        };
        for old in 1..CACHE_FORMAT {
            warn_old_format(&root.join(Self::folder_name(pipeline, old)));
        }
        EmbeddingCache {
            dir: Some(root.join(Self::folder_name(pipeline, CACHE_FORMAT))),
        }
    }

    /// A cache in `dir` (for tests and tools that keep their own).
    pub fn at(dir: PathBuf) -> EmbeddingCache {
        EmbeddingCache { dir: Some(dir) }
    }

    /// The name of the cache folder of `pipeline`'s models in cache format
    /// `format` (1: raw floats, before quality verdicts were cached; 2:
    /// embedding and quality without the face).
    pub fn folder_name(pipeline: &Pipeline, format: u32) -> String {
        let mut key = format!("facexplain-embeddings/{format}\n{}", recipe(pipeline));
        if format >= 2 {
            key.push_str(&format!("facemesh {}\n", model_sha(pipeline, "facemesh")));
        }
        sha256_hex(key.as_bytes())[..16].to_string()
    }
}

/// The SHA-256 of model `id` of the pipeline's store ("" if it has none).
pub fn model_sha(pipeline: &Pipeline, id: &str) -> String {
    model_ref(pipeline, id).sha256
}

/// Name and SHA-256 of model `id` of the pipeline's store (the id and ""
/// if the manifest has no such model).
pub fn model_ref(pipeline: &Pipeline, id: &str) -> crate::record::ModelRef {
    match pipeline.store.manifest.entry(id) {
        Ok(e) => crate::record::ModelRef {
            name: e.name.clone(),
            sha256: e.sha256.clone(),
        },
        Err(_) => crate::record::ModelRef {
            name: id.into(),
            sha256: String::new(),
        },
    }
}

/// What decides an embedding besides the image: the recipe's version, the
/// recogniser's and the detector's SHA-256, the recogniser's input conventions.
fn recipe(pipeline: &Pipeline) -> String {
    format!(
        "recipe {}\n{}\n{}\n{}\n",
        crate::pipeline::RECIPE_VERSION,
        pipeline.model.sha256,
        model_sha(pipeline, "yunet"),
        // The recogniser's input conventions: the same file read another way embeds differently.
        serde_json::to_string(&pipeline.recogniser.spec).unwrap_or_default()
    )
}

/// The key of everything that decides an image's result (the recipe and
/// FaceMesh), as embeddings files name it.
pub fn pipeline_key(pipeline: &Pipeline) -> String {
    let key = format!(
        "facexplain-pipeline\n{}facemesh {}\n",
        recipe(pipeline),
        model_sha(pipeline, "facemesh")
    );
    sha256_hex(key.as_bytes())[..16].to_string()
}

/// Warn (once per process) that a folder of an older format is ignored.
fn warn_old_format(old: &Path) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if old.is_dir() {
        WARNED.call_once(|| {
            tracing::warn!(
                "embedding cache {}: entries of an older format are ignored and the images embedded again; delete the folder to free its space",
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

    /// The result of the image with this SHA-256, `None` on a miss. An
    /// entry that does not parse, or whose result is not sound (an
    /// embedding not of unit length: the embedder normalises every one), is
    /// corrupt: warned about and recomputed.
    pub(super) fn get(&self, sha: &str) -> Option<ImageResult> {
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
        if let Some(why) = entry.result.problem(None) {
            corrupt(why);
            return None;
        }
        Some(entry.result)
    }

    /// Store a result; failures only cost a recomputation next time.
    pub(super) fn put(&self, sha: &str, result: &ImageResult) {
        let Some(dir) = &self.dir else { return };
        let entry = Entry {
            schema: ENTRY_SCHEMA.into(),
            result: result.clone(),
        };
        // Plain data (finite floats, strings): serialisation cannot fail.
        let bytes = serde_json::to_vec(&entry).unwrap_or_default();
        let tmp = dir.join(format!("{sha}.{}.part", std::process::id()));
        let done = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, &bytes))
            .and_then(|_| std::fs::rename(&tmp, dir.join(format!("{sha}.json"))));
        if let Err(e) = done {
            tracing::warn!("embedding cache {}: {e}", dir.display());
        }
    }
}

/// Where images' results are looked for before any model runs: embeddings
/// files first, then the cache.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    pub cache: &'a EmbeddingCache,
    pub files: Option<&'a EmbeddingFiles>,
}

impl<'a> From<&'a EmbeddingCache> for Sources<'a> {
    /// The cache alone.
    fn from(cache: &'a EmbeddingCache) -> Sources<'a> {
        Sources { cache, files: None }
    }
}

/// Where an image's result came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    File,
    Cache,
    Computed,
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
    /// How many came from embeddings files.
    pub from_files: usize,
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
            from_files: 0,
        }
    }

    /// Take in image `i`'s result (`quality`: whether verdicts were asked for).
    pub fn add(&mut self, i: usize, im: &DatasetImage, r: &ImageResult, o: Origin, quality: bool) {
        match o {
            Origin::File => self.from_files += 1,
            Origin::Cache => self.cache_hits += 1,
            Origin::Computed => {}
        }
        let Some(e) = &r.embedding else {
            self.skipped.push(SkippedImage {
                path: im.rel.clone(),
                reason: r.failed.clone().unwrap_or_default(),
            });
            return;
        };
        self.embeddings[i] = Some(e.0.clone());
        if quality {
            self.quality[i] = r.quality.as_ref().map(|q| q.verdict);
            if let Some(why) = &r.quality_failed {
                self.quality_failed.push(SkippedImage {
                    path: im.rel.clone(),
                    reason: why.clone(),
                });
            }
        }
    }
}

/// The result of every image in `wanted` (indices into the dataset), one
/// image at a time so the numbers never depend on batching or on where a
/// result came from: from the embeddings files, the cache, or computed on
/// the workers (detect, align, embed the largest face, and with `assessor`
/// judge its quality). Images that fail as bad input (no face, corrupt) are
/// skipped and listed; model failures abort.
pub fn embed_images(
    pipeline: &Pipeline,
    dataset: &Dataset,
    wanted: &BTreeSet<usize>,
    sources: Sources<'_>,
    assessor: Option<&Assessor>,
    ctl: Ctl,
) -> Result<Embedded, FitError> {
    let mut out = Embedded::empty(dataset.images.len());
    let quality = assessor.is_some();
    for_each_image(
        pipeline,
        dataset,
        wanted,
        sources,
        assessor,
        ctl,
        &mut |i, r, o| out.add(i, &dataset.images[i], r, o, quality),
    )?;
    Ok(out)
}
