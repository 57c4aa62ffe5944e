//! `facexplain explore --bench N`: how fast the explorer's table is at N
//! pairs. The data set's real embeddings (from the cache) are reused for N
//! seeded random pairs of its images; building the rows (cosine, LR,
//! decision, C-Score), sorting, filtering, moving the threshold and the
//! summary are timed, each the median of a few runs. The table is handed
//! back for the frame-time figures the app measures ([`FrameProbe`]: this
//! layer has no egui). Figures, not a test.

use super::build::build_paired;
use super::{Column, ExploreError, Filter, Models, Row, Summary, Table, sorted_view};
use crate::calibration::Calibration;
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::dataset::Pair;
use crate::progress::Ctl;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

/// Runs per measured operation (the median is reported).
const RUNS: usize = 5;

/// One measured operation.
#[derive(Clone, Debug)]
pub struct Timing {
    pub what: String,
    /// Median milliseconds over [`RUNS`] runs.
    pub ms: f64,
    /// Rows the operation produced (shown or scored).
    pub rows: usize,
}

/// The figures of one benchmark run, and the table they were taken on.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub pairs: usize,
    pub images: usize,
    pub timings: Vec<Timing>,
    pub table: Table,
}

/// CPU time per frame of the app's explorer page, in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameTimes {
    pub frames: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// What was timed and how (for the printed line).
    pub what: String,
}

/// Shows `table` on the app's explorer page and scrolls it for `frames`
/// frames, timing each. The app provides it (`main.rs` hands it to the CLI).
pub type FrameProbe = fn(table: Table, frames: usize) -> FrameTimes;

fn median_ms<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    // RUNS ≥ 1, so there is a last output.
    (times[RUNS / 2], last.expect("RUNS > 0"))
}

/// Time the table's operations at `n` pairs of `dir`'s real embeddings.
pub fn bench(
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
    calibration: Option<Calibration>,
    n: usize,
    ctl: Ctl,
) -> Result<BenchReport, ExploreError> {
    let built = build_paired(models, dir, opts, ctl, &mut |_| {})?;
    let (d, e) = (&built.paired.dataset, &built.paired.embedded);
    let used: Vec<usize> = (0..d.images.len())
        .filter(|&i| e.embeddings[i].is_some())
        .collect();
    if used.len() < 2 {
        return Err(crate::calibration::fit::FitError::from(
            crate::calibration::CalibrationError::TooFewPairs(
                "fewer than two images with a face".into(),
            ),
        )
        .into());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pairs: Vec<Pair> = (0..n)
        .map(|_| {
            loop {
                let (a, b) = (
                    used[rng.random_range(0..used.len())],
                    used[rng.random_range(0..used.len())],
                );
                if a != b {
                    let genuine = d.images[a].identity == d.images[b].identity;
                    break Pair { a, b, genuine };
                }
            }
        })
        .collect();
    let cal = calibration.as_ref();
    let threshold = cal.map_or(0.36, |c| c.threshold() as f64);
    let mut timings = Vec::new();
    let (ms, rows) = median_ms(|| {
        pairs
            .iter()
            .enumerate()
            .map(|(id, p)| super::build::row(id, p, d, e).scored(Some(threshold), cal))
            .collect::<Vec<Row>>()
    });
    timings.push(Timing {
        what: "build the rows (cosine, LR, decision, C-Score)".into(),
        ms,
        rows: rows.len(),
    });
    let all = Filter::default();
    for (col, desc) in [
        (Column::Similarity, true),
        (Column::FileA, false),
        (Column::Lr, true),
        (Column::Id, false),
    ] {
        let (ms, v) = median_ms(|| sorted_view(&rows, &all, col, desc));
        timings.push(Timing {
            what: format!(
                "sort by {}{}",
                col.name(),
                if desc { " (desc)" } else { "" }
            ),
            ms,
            rows: v.len(),
        });
    }
    let third = d
        .identities
        .get(d.identities.len() / 3)
        .cloned()
        .unwrap_or_default();
    let filters = [
        (
            "filter: impostor pairs",
            Filter {
                genuine: Some(false),
                ..Filter::default()
            },
        ),
        (
            "filter: errors only",
            Filter {
                errors_only: true,
                ..Filter::default()
            },
        ),
        (
            "filter: similarity 0.2–0.5",
            Filter {
                min_similarity: Some(0.2),
                max_similarity: Some(0.5),
                ..Filter::default()
            },
        ),
        (
            "filter: identity text",
            Filter {
                text: Some(format!("{third}/")),
                ..Filter::default()
            },
        ),
    ];
    for (what, f) in filters {
        let (ms, v) = median_ms(|| sorted_view(&rows, &f, Column::Id, false));
        timings.push(Timing {
            what: what.into(),
            ms,
            rows: v.len(),
        });
    }
    let mut moved = rows.clone();
    let (ms, _) = median_ms(|| {
        moved
            .iter_mut()
            .for_each(|r| r.decide(threshold + 0.01, cal))
    });
    timings.push(Timing {
        what: "move the threshold (decide every row)".into(),
        ms,
        rows: moved.len(),
    });
    let (ms, _) = median_ms(|| Summary::of(&rows, threshold));
    timings.push(Timing {
        what: "summary (EER, FNMR at FMR, errors)".into(),
        ms,
        rows: rows.len(),
    });
    let paired = &built.paired;
    let mut table = Table {
        root: paired.dataset.root.clone(),
        dataset: paired.dataset_info(),
        pairs: paired.info.clone(),
        threshold,
        threshold_source: "bench".into(),
        calibration,
        rows,
        cache_hits: paired.embedded.cache_hits,
        from_files: paired.embedded.from_files,
        computed: 0,
        quality: models.quality.map(|a| a.thresholds.identity.clone()),
        quality_failed: paired.embedded.quality_failed.clone(),
    };
    table.pairs.selection = format!("{n} seeded random pairs (bench)");
    Ok(BenchReport {
        pairs: n,
        images: used.len(),
        timings,
        table,
    })
}
