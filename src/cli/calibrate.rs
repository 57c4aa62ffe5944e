//! `facexplain calibrate --dataset DIR`: embed a labelled dataset, choose the
//! threshold, fit the C-Score sigmoid and the PIC-Score densities, and write
//! a calibration JSON (byte-identical for identical inputs).

use super::BadInput;
use super::progress::{TermProgress, ctrl_c_flag};
use crate::calibration::Calibration;
use crate::calibration::fit::embedding::EmbeddingCache;
use crate::calibration::fit::embedding_files::EmbeddingFiles;
use crate::calibration::fit::pairs::DEFAULT_MAX_IMPOSTORS;
use crate::calibration::fit::{self, CollectOptions, Collected, FitError, ThresholdRule, cscore};
use crate::pipeline::Pipeline;
use crate::progress::{Ctl, Progress};
use crate::quality::Assessor;
use crate::record::Evidence;
use crate::record::evidence::percent_short_of_certain;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where the images and pairs come from (shared by `calibrate` and `eval`).
#[derive(Args, Debug, Clone)]
pub struct DatasetArgs {
    /// Dataset folder: one sub-folder per identity holding its images (LFW layout; ORL's s1..s40 fits).
    /// `calibrate` takes several (repeat the option) and pools their pairs.
    #[arg(long, value_name = "DIR", required = true)]
    pub dataset: Vec<PathBuf>,
    /// A pairs list instead of all pairs: LFW's `pairs.txt` (`name n1 n2` genuine, `name1 n1 name2
    /// n2` impostor) or a CSV `a,b[,label]` of paths in the dataset folder (header optional;
    /// label 1/0, genuine/impostor or same/different; without one the folders decide).
    #[arg(long, value_name = "FILE")]
    pub pairs: Option<PathBuf>,
    /// Use at most this many impostor pairs; beyond it a seeded random sample is taken.
    #[arg(long, default_value_t = DEFAULT_MAX_IMPOSTORS)]
    pub max_impostors: usize,
    /// Seed of the impostor sample (and of the cross-validation folds in `eval`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Neither read nor write the embedding cache (~/.cache/facexplain/embeddings).
    #[arg(long)]
    pub no_cache: bool,
    /// The face recogniser to use (`facexplain models list`).
    #[arg(long, default_value = crate::pipeline::recogniser::DEFAULT_RECOGNISER)]
    pub model: String,
    /// Embeddings files written by `facexplain embed --out` (shards of the data set, merged):
    /// no model runs for the images they hold. Images in none of them are refused, with how many
    /// and which shards they belong to, unless --embed-missing.
    #[arg(long, value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub embeddings: Vec<PathBuf>,
    /// With --embeddings: embed here the images the files do not hold instead of refusing.
    #[arg(long, requires = "embeddings")]
    pub embed_missing: bool,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub data: DatasetArgs,
    /// Where to write the calibration JSON (default: calibration-<dataset>.json).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Put the threshold at this false match rate (e.g. 0.001) instead of at the equal error rate.
    #[arg(long)]
    pub fmr: Option<f64>,
    /// Histogram bins on distances [0, 2] for the C-Score fit.
    #[arg(long, default_value_t = cscore::DEFAULT_BINS)]
    pub bins: usize,
}

impl DatasetArgs {
    /// How to collect the pairs: cache on unless `--no-cache`, the
    /// `--embeddings` files read and checked against `pipeline`'s models.
    pub(crate) fn options(&self, pipeline: &Pipeline) -> anyhow::Result<CollectOptions> {
        let files = match self.embeddings.as_slice() {
            [] => None,
            paths => {
                let f =
                    EmbeddingFiles::read(paths, pipeline, self.embed_missing).map_err(cli_error)?;
                println!(
                    "embeddings files: {} images in {} files ({})",
                    f.len(),
                    paths.len(),
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                Some(Arc::new(f))
            }
        };
        Ok(CollectOptions {
            pairs_file: self.pairs.clone(),
            max_impostors: self.max_impostors,
            seed: self.seed,
            cache: if self.no_cache {
                EmbeddingCache::disabled()
            } else {
                EmbeddingCache::for_pipeline(pipeline)
            },
            files,
        })
    }
}

/// A calibration error for the CLI: user-caused ones exit with code 2.
pub(crate) fn cli_error(e: impl Into<FitError>) -> anyhow::Error {
    match e.into() {
        FitError::Pipeline(p) => p.into(),
        FitError::Record(r) => r.into(),
        FitError::Calibration(e) if e.is_bad_input() => BadInput(e.to_string()).into(),
        FitError::Calibration(e) => e.into(),
    }
}

/// Scan, embed (with `assessor`, judge each face's quality too) and score
/// the dataset `dir` with a terminal progress bar and Ctrl-C.
pub(crate) fn collect(
    pipeline: &Pipeline,
    opts: &CollectOptions,
    dir: &Path,
    assessor: Option<&Assessor>,
) -> anyhow::Result<Collected> {
    let bar = TermProgress::new();
    let cancel = ctrl_c_flag();
    let report = |p: Progress| bar.update(p);
    let t0 = Instant::now();
    let result = fit::collect(pipeline, dir, opts, assessor, Ctl::new(&report, &cancel));
    bar.finish();
    let took = t0.elapsed().as_secs_f64();
    let c = result.map_err(cli_error)?;
    let files = match opts.files {
        Some(_) => format!("{} from embeddings files, ", c.from_files),
        None => String::new(),
    };
    println!(
        "dataset {}: {} identities, {} images, {} used, {} skipped ({files}{} embeddings from the cache; scanned and embedded in {took:.1} s)",
        c.info.name,
        c.info.identities,
        c.info.images,
        c.info.images_used,
        c.info.skipped.len(),
        c.cache_hits
    );
    for s in &c.info.skipped {
        println!("  skipped {}: {}", s.path, s.reason);
    }
    println!(
        "pairs: {} genuine, {} impostor ({})",
        c.pairs.genuine, c.pairs.impostor, c.pairs.selection
    );
    Ok(c)
}

fn default_out(f: &crate::calibration::CalibrationFile) -> PathBuf {
    PathBuf::from(format!("calibration-{}.json", f.dataset.name))
}

pub fn run(a: CalibrateArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let rule = match a.fmr {
        Some(f) if !(f > 0.0 && f < 1.0) => {
            return Err(BadInput(format!(
                "--fmr {f}: expected a rate between 0 and 1, e.g. 0.001"
            ))
            .into());
        }
        Some(f) => ThresholdRule::Fmr(f),
        None => ThresholdRule::Eer,
    };
    if a.bins < 2 {
        return Err(BadInput(format!("--bins {}: at least 2 bins are needed", a.bins)).into());
    }
    if a.data.pairs.is_some() && a.data.dataset.len() > 1 {
        return Err(BadInput(
            "--pairs lists the pairs of one dataset: give a single --dataset with it".into(),
        )
        .into());
    }
    let pipeline = Pipeline::load_model(&a.data.model)?;
    let opts = a.data.options(&pipeline)?;
    let sets = a
        .data
        .dataset
        .iter()
        .map(|d| collect(&pipeline, &opts, d, None))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let t_fit = Instant::now();
    let file = fit::calibrate_sets(&pipeline, &sets, rule, a.bins).map_err(cli_error)?;
    println!(
        "threshold, C-Score fit, PIC densities and LR calibrators in {:.2} s",
        t_fit.elapsed().as_secs_f64()
    );
    let out = a.out.clone().unwrap_or_else(|| default_out(&file));
    let sha = Calibration::write_file(&file, &out).map_err(cli_error)?;
    print_summary(&file, &out, &sha);
    println!("done in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn print_summary(file: &crate::calibration::CalibrationFile, out: &Path, sha: &str) {
    let t = &file.fitted.threshold;
    let p = &file.fitted.c_score.fit.params;
    println!(
        "threshold {:.4} on similarity ({}): FMR {:.5}, FNMR {:.5}; EER {:.5}",
        t.similarity, t.rule, t.fmr, t.fnmr, t.eer
    );
    println!(
        "C-Score sigmoid: L {:.4}, d0 {:.4}, k {:.2}, b {:.4} (rms {:.4}, {})",
        p.l, p.d0, p.k, p.b, file.fitted.c_score.fit.rms, file.fitted.c_score.fit.termination
    );
    println!(
        "PIC-Score KDE bandwidths (Scott): genuine {:.5}, impostor {:.5}; prior {}",
        file.fitted.pic.bandwidth_genuine,
        file.fitted.pic.bandwidth_impostor,
        file.fitted.pic.prior_genuine
    );
    if let Some(lr) = &file.fitted.likelihood_ratio {
        for line in super::lr_report::model_lines(lr) {
            println!("{line}");
        }
    }
    println!("calibration written to {} (sha256 {sha})", out.display());
}

/// The calibration `compare` uses: `--calibration FILE` (a bad or foreign
/// file exits with 2), else the built-in one if it was made for the loaded
/// model (otherwise a warning, the manifest threshold and no confidences).
pub(crate) fn for_compare(
    pipeline: &Pipeline,
    path: Option<&Path>,
) -> anyhow::Result<Option<Calibration>> {
    match path {
        Some(p) => Calibration::choose(Some(p), &pipeline.model)
            .map(Some)
            .map_err(cli_error),
        None => match Calibration::default_for(&pipeline.model) {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                tracing::warn!("no calibrated confidence: {e}");
                eprintln!("warning: no calibrated confidence: {e}");
                Ok(None)
            }
        },
    }
}

/// One line describing the confidences of a decision.
pub(crate) fn confidence_line(c: &crate::record::Confidence, e: Option<&Evidence>) -> String {
    let by = match e {
        Some(e) => format!("by the bounded LR at prior P(Hp) = {}", e.prior_hp),
        None => "by PIC".into(),
    };
    format!(
        "C-Score {:.4}  PIC-Score {:.4} (prior {})  probability the decision is right ({by}) {}  [calibration {}]",
        c.c_score,
        c.pic_score,
        c.pic_prior,
        percent_short_of_certain(c.decision_confidence),
        c.calibration.name
    )
}

/// The likelihood ratio as `compare` prints it: propositions, LR and bounds,
/// verbal equivalent, posterior at the stated prior.
pub(crate) fn evidence_lines(e: &Evidence) -> Vec<String> {
    let (g, i) = e.pairs();
    let sets = e
        .data
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let bound = if e.clipped {
        format!(
            "bounded by the calibration data: the {} calibrator gave log10 {:.2}",
            e.calibrator, e.log10_lr_unbounded
        )
    } else {
        format!("{} calibrator, within the bounds", e.calibrator)
    };
    vec![
        format!("likelihood ratio for Hp ({}) vs Hd ({}):", e.hp, e.hd),
        format!(
            "  LR {} (log10 LR {:.2}); {bound}; the data ({sets}, {g} genuine / {i} impostor pairs) supports LR {} (ELUB)",
            e.lr_text(),
            e.log10_lr,
            e.bounds_text()
        ),
        format!("  verbal equivalent (ENFSI 2015): {}", e.verbal),
        format!(
            "  at prior P(Hp) = {}: P(Hp | score) = {}",
            e.prior_hp,
            percent_short_of_certain(e.posterior_hp)
        ),
    ]
}
