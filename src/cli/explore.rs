//! `facexplain explore --dataset DIR`: every pair of a data set in one
//! table (the explorer's), sorted and filtered; prints the sampling and the
//! summary, writes the table as CSV and/or JSON.

use super::BadInput;
use super::calibrate::{DatasetArgs, cli_error};
use super::progress::{TermProgress, ctrl_c_flag};
use crate::calibration::Calibration;
use crate::calibration::fit::calibrate::CollectOptions;
use crate::explore::bench::FrameProbe;
use crate::explore::shard::Shard;
use crate::explore::throughput::{Rate, throughput};
use crate::explore::{Column, ExploreError, Filter, Models, Table};
use crate::pipeline::Pipeline;
use crate::progress::{Ctl, Progress};
use crate::record::{Decision, Verdict};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub data: DatasetArgs,
    /// Calibration for C-Score, PIC-Score and LR (default: the built-in one, if it fits the model).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Decision threshold on cosine similarity (default: the calibration's, else this set's EER threshold).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Write the table as CSV here.
    #[arg(long, value_name = "OUT")]
    pub csv: Option<PathBuf>,
    /// Write the sampling, summary and table as JSON here.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Only the errors at the threshold (false matches and false non-matches).
    #[arg(long)]
    pub errors_only: bool,
    /// Only matches or only non-matches at the threshold.
    #[arg(long, value_parser = ["match", "non-match"])]
    pub decision: Option<String>,
    /// Only the pairs whose image failed (no face, unreadable), with the reason.
    #[arg(long)]
    pub failed_only: bool,
    /// Only genuine or only impostor pairs.
    #[arg(long, value_parser = ["genuine", "impostor"])]
    pub label: Option<String>,
    /// Only pairs whose identity or file name contains this text.
    #[arg(long)]
    pub find: Option<String>,
    /// Only pairs with similarity at least this.
    #[arg(long)]
    pub min_similarity: Option<f64>,
    /// Only pairs with similarity at most this.
    #[arg(long)]
    pub max_similarity: Option<f64>,
    /// Only pairs of this quality verdict: the worse of the two faces' (fit: both fit).
    #[arg(long, value_parser = ["fit", "limited", "unfit"])]
    pub quality: Option<String>,
    #[command(flatten)]
    pub thresholds: super::quality::ThresholdsArg,
    /// Sort by this column (pair, file_a, file_b, identity_a, identity_b, label, quality_a,
    /// quality_b, similarity, decision, correct, c_score, pic_score, log10_lr); a leading '-'
    /// sorts descending.
    #[arg(long, default_value = "pair", allow_hyphen_values = true)]
    pub sort: String,
    /// Rows to print on the terminal (the files get all of them).
    #[arg(long, default_value_t = 10)]
    pub show: usize,
    /// Only embed the images into the embedding cache (no table); with
    /// --shard, only this shard's share: `facexplain embed` without --out. A
    /// later `explore` over the same cache folder ($XDG_CACHE_HOME) merges them.
    #[arg(long)]
    pub embeddings_only: bool,
    /// K/N: embed the images whose path hashes to K of N (0 ≤ K < N); needs --embeddings-only.
    #[arg(long, value_name = "K/N", requires = "embeddings_only")]
    pub shard: Option<String>,
    /// Time the explorer: embedding throughput when opening the data set
    /// against the bare embedder on the same images (into a cache of its
    /// own), then the table at this many pairs (the data set's real
    /// embeddings reused for seeded random pairs): building, sorting,
    /// filtering, threshold, summary, and the app's frame CPU time while
    /// scrolling it. Prints figures; writes nothing.
    #[arg(long, value_name = "PAIRS")]
    pub bench: Option<usize>,
    /// With --bench: frames to time while scrolling.
    #[arg(long, default_value_t = 600, requires = "bench")]
    pub bench_frames: usize,
}

/// `--bench N`: opening throughput, the table's operations at N pairs,
/// and (with the app's probe) frame times while scrolling the table.
fn bench(
    a: &ExploreArgs,
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
    calibration: Option<Calibration>,
    n: usize,
    frames: Option<FrameProbe>,
) -> anyhow::Result<()> {
    let bar = TermProgress::new();
    let cancel = ctrl_c_flag();
    let report = |p: Progress| bar.update(p);
    let ctl = Ctl::new(&report, &cancel);
    let t = throughput(models, dir, calibration.clone(), ctl);
    bar.finish();
    let t = t.map_err(explore_error)?;
    println!(
        "explore bench: opening {} images ({} pairs); images per second by the clock, and per CPU-second; same run:",
        t.images, t.pairs
    );
    let show = |what: &str, r: &Rate| {
        let cpu = r.cpu.map_or("-".to_string(), |c| format!("{c:.1}"));
        println!("  {what:<66} {:>7.1}  {cpu:>7}", r.wall);
    };
    println!(
        "  (bare embedder: Pipeline::analyze_file on one image after the other, as `compare` runs an image: load, YuNet with one thread per core, align, SFace on one lane; no hashing, quality, cache or pairs)"
    );
    show("bare embedder, before opening", &t.bare[0]);
    show("bare embedder, after opening", &t.bare[1]);
    show(
        "bare embedder + quality (FaceMesh, measures, verdict)",
        &t.bare_with_quality,
    );
    show(
        &format!(
            "the opening's {} workers side by side, no quality, no cache",
            t.workers
        ),
        &t.workers_bare,
    );
    show(
        "opening the data set (hash, embed, quality, cache, pairs)",
        &t.open,
    );
    let bare = t.bare_mean();
    let ratio = |of: &Rate| {
        let cpu = match (t.open.cpu, of.cpu) {
            (Some(a), Some(b)) => format!("{:.2}×", a / b),
            _ => "-".into(),
        };
        format!(
            "{:.2}× by the clock, {cpu} per CPU-second",
            t.open.wall / of.wall
        )
    };
    println!(
        "  opening / bare embedder (mean of the two runs): {} (target ≥ 0.9× by the clock)",
        ratio(&bare)
    );
    println!(
        "  opening / (bare + quality): {}; opening / workers without quality: {}",
        ratio(&t.bare_with_quality),
        ratio(&t.workers_bare)
    );
    let stages: Vec<String> = t
        .stages
        .iter()
        .map(|(what, ms)| format!("{what} {ms:.1}"))
        .collect();
    println!(
        "  where a serial image's time goes (ms per image, by the clock): {}",
        stages.join(", ")
    );
    let r = crate::explore::bench::bench(models, dir, opts, calibration, n, ctl);
    bar.finish();
    let r = r.map_err(explore_error)?;
    println!(
        "explore bench: {} pairs over {} real embeddings (median of 5 runs each)",
        r.pairs, r.images
    );
    for t in &r.timings {
        println!("  {:<48} {:>9.2} ms  ({} rows)", t.what, t.ms, t.rows);
    }
    match frames {
        Some(probe) => {
            let f = probe(r.table, a.bench_frames);
            println!(
                "explore bench: frame CPU time, {} ({} frames)",
                f.what, f.frames
            );
            println!(
                "  p50 {:.2} ms, p99 {:.2} ms (target ≤ 16 ms), max {:.2} ms",
                f.p50, f.p99, f.max
            );
        }
        None => println!("explore bench: no frame times (no app in this build)"),
    }
    Ok(())
}

/// `--embeddings-only [--shard K/N]`: `facexplain embed` without a file,
/// this share of the images into the cache.
fn embed_only(
    a: &ExploreArgs,
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
) -> anyhow::Result<()> {
    let shard = super::embed::shard_arg(a.shard.as_deref())?;
    super::embed::run_shard(
        models,
        dir,
        opts,
        Some(shard.unwrap_or(Shard { index: 0, count: 1 })),
        None,
    )
}

pub(super) fn explore_error(e: ExploreError) -> anyhow::Error {
    match e {
        ExploreError::Fit(f) => cli_error(f),
        w => BadInput(w.to_string()).into(),
    }
}

pub fn run(a: ExploreArgs, frames: Option<FrameProbe>) -> anyhow::Result<()> {
    let (name, descending) = match a.sort.strip_prefix('-') {
        Some(n) => (n, true),
        None => (a.sort.as_str(), false),
    };
    let column = Column::parse(name).map_err(|e| BadInput(format!("--sort: {e}")))?;
    if let Some(t) = a.threshold.filter(|t| !t.is_finite()) {
        return Err(BadInput(format!("--threshold {t}: not a number")).into());
    }
    let dir = match a.data.dataset.as_slice() {
        [one] => one.clone(),
        _ => return Err(BadInput("explore takes one --dataset".into()).into()),
    };
    let pipeline = Pipeline::load_model(&a.data.source.model)?;
    let assessor = a.thresholds.assessor(&pipeline)?;
    let models = Models {
        pipeline: &pipeline,
        quality: Some(&assessor),
    };
    let opts = a.data.options(&pipeline)?;
    if a.embeddings_only {
        return embed_only(&a, models, &dir, &opts);
    }
    let calibration = match &a.calibration {
        Some(p) => Some(Calibration::choose(Some(p), &pipeline.model).map_err(cli_error)?),
        None => Calibration::default_for(&pipeline.model).ok(),
    };
    if let Some(n) = a.bench {
        return bench(&a, models, &dir, &opts, calibration, n, frames);
    }
    let bar = TermProgress::new();
    let cancel = ctrl_c_flag();
    let report = |p: Progress| bar.update(p);
    let table = Table::build(
        models,
        &dir,
        &opts,
        calibration,
        a.threshold,
        Ctl::new(&report, &cancel),
    );
    bar.finish();
    let table = table.map_err(explore_error)?;
    let d = &table.dataset;
    println!(
        "dataset {}: {} identities, {} images, {} used, {} skipped",
        d.name,
        d.identities,
        d.images,
        d.images_used,
        d.skipped.len()
    );
    let files = match opts.files {
        Some(_) => format!(", {} from embeddings files", table.from_files),
        None => String::new(),
    };
    println!(
        "embeddings: {} from the cache, {} computed{files}",
        table.cache_hits, table.computed
    );
    for s in &d.skipped {
        println!("  skipped {}: {}", s.path, s.reason);
    }
    println!("{}", table.quality_source());
    for s in &table.quality_failed {
        println!("  no quality verdict for {}: {}", s.path, s.reason);
    }
    println!("pairs: {}", table.sampling());
    println!(
        "threshold {:.4} ({}); calibration {}",
        table.threshold,
        table.threshold_source,
        table
            .calibration
            .as_ref()
            .map_or("none", |c| c.name.as_str())
    );
    let s = table.summary();
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.2} %", v * 100.0));
    println!(
        "EER {} at similarity {}",
        pct(s.eer),
        s.eer_threshold.map_or("n/a".into(), |t| format!("{t:.4}"))
    );
    for f in &s.fnmr_at_fmr {
        println!("FNMR at FMR {} %: {}", f.fmr_target * 100.0, pct(f.fnmr));
    }
    println!(
        "errors at the threshold: {} false matches of {} impostor pairs, {} false non-matches of {} genuine pairs",
        s.false_matches, s.impostor, s.false_non_matches, s.genuine
    );
    if s.failed > 0 {
        println!(
            "{} pairs without a score: an image failed (--failed-only lists them)",
            s.failed
        );
    }
    let filter = Filter {
        genuine: a.label.as_deref().map(|l| l == "genuine"),
        errors_only: a.errors_only,
        decision: a.decision.as_deref().map(|d| {
            if d == "match" {
                Decision::Match
            } else {
                Decision::NonMatch
            }
        }),
        failed_only: a.failed_only,
        quality: a.quality.as_deref().map(|q| match q {
            "fit" => Verdict::Fit,
            "limited" => Verdict::Limited,
            _ => Verdict::Unfit,
        }),
        text: a.find.clone(),
        min_similarity: a.min_similarity,
        max_similarity: a.max_similarity,
    };
    let rows = table.view(&filter, column, descending);
    println!("{} rows shown, sorted by {}", rows.len(), a.sort);
    for r in rows.iter().take(a.show) {
        let (score, verdict) = match (r.similarity, &r.failed) {
            (Some(s), _) => (
                format!("{s:.4}"),
                if r.is_error() { "ERROR" } else { "correct" }.to_string(),
            ),
            (None, why) => (
                "   -  ".into(),
                format!("FAILED ({})", why.as_deref().unwrap_or("")),
            ),
        };
        println!(
            "  #{:<6} {:<9} {score} {verdict:<9} {:<7} {} | {}",
            r.id,
            r.label(),
            r.quality().map_or("-", |v| v.as_str()),
            r.file_a,
            r.file_b
        );
    }
    if let Some(p) = &a.csv {
        table.write_csv(&rows, p).map_err(explore_error)?;
        println!("wrote {}", p.display());
    }
    if let Some(p) = &a.json {
        table.write_json(&rows, p).map_err(explore_error)?;
        println!("wrote {}", p.display());
    }
    Ok(())
}
