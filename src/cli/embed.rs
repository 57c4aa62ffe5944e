//! `facexplain embed --dataset DIR [--shard K/N] [--out FILE]`: embed (a
//! shard of) a data set's images and assess their faces, into a portable
//! embeddings file and the embedding cache. `explore`, `eval` and
//! `calibrate --embeddings FILE...` merge the files. `explore
//! --embeddings-only --shard K/N` runs this too (without a file).

use super::BadInput;
use super::progress::{TermProgress, ctrl_c_flag};
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::pairs::DEFAULT_MAX_IMPOSTORS;
use crate::explore::Models;
use crate::explore::shard::{Shard, embed_shard};
use crate::pipeline::Pipeline;
use crate::progress::{Ctl, Progress};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Dataset folder: one sub-folder per identity holding its images.
    #[arg(long, value_name = "DIR")]
    pub dataset: PathBuf,
    /// K/N: only the images whose path in the data set hashes to K of N (0 ≤ K < N; the
    /// first 8 bytes of the path's SHA-256 modulo N, the same on every machine). Slurm:
    /// $SLURM_ARRAY_TASK_ID/N; Kubernetes Indexed Job: $JOB_COMPLETION_INDEX/N.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Write every image's result here (path, SHA-256, face, embedding, quality): the file
    /// `--embeddings` reads. Without it the results only go into the embedding cache.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub source: super::calibrate::SourceArgs,
    #[command(flatten)]
    pub thresholds: super::quality::ThresholdsArg,
}

/// The `--shard K/N` option's value, read (a bad one is the user's error).
pub(super) fn shard_arg(arg: Option<&str>) -> anyhow::Result<Option<Shard>> {
    Ok(arg.map(Shard::parse).transpose().map_err(BadInput)?)
}

pub fn run(a: EmbedArgs) -> anyhow::Result<()> {
    let shard = shard_arg(a.shard.as_deref())?;
    let pipeline = Pipeline::load_model(&a.source.model)?;
    let assessor = a.thresholds.assessor(&pipeline)?;
    let opts = CollectOptions {
        pairs_file: a.source.pairs.clone(),
        max_impostors: DEFAULT_MAX_IMPOSTORS,
        seed: 0,
        cache: a.source.cache(&pipeline),
        files: None,
    };
    let models = Models {
        pipeline: &pipeline,
        quality: Some(&assessor),
    };
    run_shard(models, &a.dataset, &opts, shard, a.out.as_deref())
}

/// Embed `shard` of `dir` (all of it when `None`) into the cache and, with
/// `out`, the embeddings file; print what was done.
pub(super) fn run_shard(
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
    shard: Option<Shard>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let bar = TermProgress::new();
    let cancel = ctrl_c_flag();
    let report = |p: Progress| bar.update(p);
    let r = embed_shard(models, dir, opts, shard, out, Ctl::new(&report, &cancel));
    bar.finish();
    let r = r.map_err(super::explore::explore_error)?;
    let which = shard.map_or("all images".to_string(), |s| {
        format!("shard {}/{}", s.index, s.count)
    });
    println!(
        "{which}: {} of {} images; embeddings: {} from the cache, {} computed, {} skipped",
        r.mine,
        r.images,
        r.cache_hits,
        r.computed,
        r.skipped.len()
    );
    for s in &r.skipped {
        println!("  skipped {}: {}", s.path, s.reason);
    }
    if let Some(o) = out {
        println!("wrote {}", o.display());
    }
    if let Some(d) = opts.cache.dir() {
        println!("cache {}", d.display());
    }
    Ok(())
}
