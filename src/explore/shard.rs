//! Embedding a data set in shards, on several machines or processes: shard
//! K of N embeds the images whose relative path hashes to K (a stable hash,
//! the same on every machine) and writes what it found to a portable
//! embeddings file (`facexplain embed --shard K/N --out FILE`), and into
//! the embedding cache. `explore`, `eval` and `calibrate --embeddings
//! FILE...` merge the files and run no model for the images they hold;
//! `explore --embeddings-only --shard K/N` is the same run without a file,
//! for machines sharing one cache folder. Each image is embedded on its
//! own, so the merged results equal a single run's bit for bit.
//! `docs/explore-shards.md` shows Slurm and Kubernetes set-ups.

use super::{ExploreError, Models};
use crate::calibration::file::SkippedImage;
use crate::calibration::fit::FitError;
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::dataset::{Dataset, read_pairs};
use crate::calibration::fit::embedding::{Origin, model_ref, pipeline_key};
use crate::calibration::fit::image_workers::for_each_image;
use crate::calibration::fit::pairs::images_of;
pub use crate::calibration::fit::shard::Shard;
use crate::progress::Ctl;
use crate::record::RecordError;
use crate::record::analysis::Software;
use crate::record::embeddings::{
    EMBEDDINGS_SCHEMA, EmbeddingsHeader, EmbeddingsWriter, ImageLine, ShardRef,
};
use std::collections::BTreeSet;
use std::path::Path;

/// What a shard did.
#[derive(Clone, Debug)]
pub struct ShardReport {
    /// Images the data set (or its pairs list) needs.
    pub images: usize,
    /// Of them, this shard's.
    pub mine: usize,
    pub cache_hits: usize,
    pub computed: usize,
    pub skipped: Vec<SkippedImage>,
}

/// Embed (and with `models.quality` assess) `shard`'s share of the images
/// (`None`: all of them) through `opts.cache`, and write every result to
/// the embeddings file `out` when given.
pub fn embed_shard(
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
    shard: Option<Shard>,
    out: Option<&Path>,
    ctl: Ctl,
) -> Result<ShardReport, ExploreError> {
    if out.is_none() && opts.cache.dir().is_none() {
        return Err(FitError::from(crate::calibration::CalibrationError::Dataset {
            path: dir.into(),
            reason: "no user cache folder to write the embeddings to (set XDG_CACHE_HOME, or write a file with embed --out)"
                .into(),
        })
        .into());
    }
    // A file that cannot be written is said before the work, not after it.
    if let Some(folder) = out
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
    {
        return Err(FitError::from(RecordError::BadFile {
            path: out.unwrap_or(folder).into(),
            reason: format!(
                "cannot write: the folder {} does not exist",
                folder.display()
            ),
        })
        .into());
    }
    let dataset = Dataset::scan(dir, ctl).map_err(FitError::from)?;
    let wanted: BTreeSet<usize> = match &opts.pairs_file {
        Some(p) => images_of(&read_pairs(p, &dataset).map_err(FitError::from)?.pairs),
        None => (0..dataset.images.len()).collect(),
    };
    let mine: BTreeSet<usize> = wanted
        .iter()
        .copied()
        .filter(|&i| shard.is_none_or(|s| s.owns(&dataset.images[i].rel)))
        .collect();
    let mut report = ShardReport {
        images: wanted.len(),
        mine: mine.len(),
        cache_hits: 0,
        computed: 0,
        skipped: Vec::new(),
    };
    let mut lines = Vec::new();
    for_each_image(
        models.pipeline,
        &dataset,
        &mine,
        opts.sources(),
        models.quality,
        ctl,
        &mut |i, r, o| {
            let im = &dataset.images[i];
            match o {
                Origin::Cache => report.cache_hits += 1,
                _ => report.computed += 1,
            }
            if let Some(why) = &r.failed {
                report.skipped.push(SkippedImage {
                    path: im.rel.clone(),
                    reason: why.clone(),
                });
            }
            if out.is_some() {
                lines.push(ImageLine {
                    path: im.rel.clone(),
                    sha256: im.sha256.clone(),
                    result: r.clone(),
                });
            }
        },
    )?;
    if let Some(out) = out {
        let p = models.pipeline;
        let header = EmbeddingsHeader {
            schema: EMBEDDINGS_SCHEMA.into(),
            tool: Software::default(),
            dataset: dataset.name.clone(),
            shard: shard.map(|s| ShardRef {
                index: s.index,
                count: s.count,
            }),
            pairs_file: opts
                .pairs_file
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            recogniser: p.model.clone(),
            detector: model_ref(p, "yunet"),
            facemesh: model_ref(p, "facemesh"),
            pipeline_key: pipeline_key(p),
            quality_thresholds: models.quality.map(|a| a.thresholds.identity.clone()),
            dimension: lines
                .iter()
                .find_map(|l| l.result.embedding.as_ref())
                .map_or(0, |e| e.0.len()),
        };
        let mut w = EmbeddingsWriter::create(out, &header).map_err(FitError::from)?;
        for l in &lines {
            w.push(l).map_err(FitError::from)?;
        }
        w.finish().map_err(FitError::from)?;
    }
    Ok(report)
}
