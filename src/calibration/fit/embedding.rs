//! The embedding of every image of a dataset, cached on disk.
//!
//! The cache lives in `$XDG_CACHE_HOME/facexplain/embeddings/<key>/`
//! (`~/.cache/...`), one file per image named by the image file's SHA-256;
//! `<key>` hashes the recogniser's and the detector's SHA-256, since both
//! decide the embedding. A face is stored as little-endian f32s; an image
//! without a face as an empty file.

use super::FitError;
use super::dataset::Dataset;
use crate::calibration::file::SkippedImage;
use crate::pipeline::{Pipeline, PipelineError, load};
use crate::progress::Ctl;
use crate::resources::hash::sha256_hex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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
                "facexplain-embeddings/1\nrecipe {}\n{}\n{detector}\n{}\n",
                crate::pipeline::RECIPE_VERSION,
                pipeline.model.sha256,
                // The recogniser's input conventions: the same file read another way embeds differently.
                serde_json::to_string(&pipeline.recogniser.spec).unwrap_or_default()
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

    /// `Some(Some(embedding))`, `Some(None)` for a cached "no face", `None`
    /// on a miss. An entry that is not a unit-length embedding (the embedder
    /// normalises every one) is corrupt: warned about and recomputed.
    fn get(&self, sha: &str) -> Option<Option<Vec<f32>>> {
        let path = self.dir.as_ref()?.join(format!("{sha}.f32"));
        let bytes = std::fs::read(&path).ok()?;
        if bytes.is_empty() {
            return Some(None);
        }
        let v: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if bytes.len() % 4 != 0 || !((norm - 1.0).abs() < 1e-3) {
            tracing::warn!(
                "embedding cache {}: corrupt entry ({} bytes, norm {norm}); embedding the image again",
                path.display(),
                bytes.len()
            );
            return None;
        }
        Some(Some(v))
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
) -> Result<Embedded, FitError> {
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
