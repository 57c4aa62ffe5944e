//! `facexplain explore --bench`: embedding throughput when opening a data
//! set against the bare embedder on the same images, in images per second.
//!
//! - Bare embedder: `Pipeline::analyze_file` on each image one after the
//!   other (load, detect with YuNet, align, embed with SFace), as `compare`
//!   runs an image: the pipeline's own sessions (YuNet with one thread per
//!   core, SFace on one lane), no hashing, quality, cache or pairs.
//! - The same with each face's quality assessed (FaceMesh, measures, verdict).
//! - The opening's workers without quality or cache: the images side by
//!   side on one worker per core (`calibration::fit::image_workers`).
//! - Opening: what the app runs (scan and hash, every image embedded and
//!   assessed on the workers, the cache written, every pair formed and
//!   scored) into an empty cache of its own.
//!
//! The bare embedder is timed before and after the opening (the host may be
//! shared: the ratio is to their mean). Each is timed by the clock and by
//! the process's CPU time (which tells the work apart from the waiting),
//! and the serial warm-up pass is cut into stages (milliseconds per image).
//! Same-run ratios; figures, not a test.

use super::{ExploreError, Models, Table};
use crate::calibration::Calibration;
use crate::calibration::fit::FitError;
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::dataset::Dataset;
use crate::calibration::fit::embedding::{EmbeddingCache, Sources, embed_images};
use crate::calibration::fit::pairs::DEFAULT_MAX_IMPOSTORS;
use crate::pipeline::load;
use crate::progress::Ctl;
use std::path::Path;
use std::time::Instant;

/// Images per second of one way: by the clock, and per second of the
/// process's CPU time (`None` where `/proc` is not there).
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub wall: f64,
    pub cpu: Option<f64>,
}

/// Images per second of each way over the same images.
#[derive(Clone, Debug)]
pub struct Throughput {
    pub images: usize,
    /// Load, detect, align, embed, one image after the other: before and
    /// after the opening.
    pub bare: [Rate; 2],
    /// The same and the quality assessment (FaceMesh, measures, verdict).
    pub bare_with_quality: Rate,
    /// The opening's workers, without quality or cache.
    pub workers_bare: Rate,
    /// How many workers the opening runs.
    pub workers: usize,
    /// Opening the data set with an empty cache.
    pub open: Rate,
    /// Pairs the opened table holds.
    pub pairs: usize,
    /// Milliseconds per image of each stage of the serial pass with quality.
    pub stages: Vec<(&'static str, f64)>,
}

impl Throughput {
    /// The mean of the two bare runs' rates.
    pub fn bare_mean(&self) -> Rate {
        let [a, b] = self.bare;
        Rate {
            wall: (a.wall + b.wall) / 2.0,
            cpu: a.cpu.zip(b.cpu).map(|(x, y)| (x + y) / 2.0),
        }
    }
}

/// The process's CPU time (user and system, every thread) in seconds, from
/// `/proc/self/stat` (clock ticks of 1/100 s, Linux's).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `f`'s result and its rate over `n` images.
fn rate<T>(n: usize, f: impl FnOnce() -> T) -> (Rate, T) {
    let (t, c) = (Instant::now(), cpu_seconds());
    let out = f();
    let cpu = match (c, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => Some(n as f64 / (b - a)),
        _ => None,
    };
    let wall = n as f64 / t.elapsed().as_secs_f64();
    (Rate { wall, cpu }, out)
}

/// Time the bare embedder, with and without quality, the workers, and opening `dir`.
pub fn throughput(
    models: Models<'_>,
    dir: &Path,
    calibration: Option<Calibration>,
    ctl: Ctl,
) -> Result<Throughput, ExploreError> {
    let dataset = Dataset::scan(dir, ctl).map_err(FitError::from)?;
    let p = models.pipeline;
    let n = dataset.images.len();
    // Seconds per stage over a serial pass.
    let mut stages = [0.0f64; 4];
    let bare = |quality: bool, stages: &mut [f64; 4]| -> Result<(), ExploreError> {
        for im in &dataset.images {
            ctl.check().map_err(FitError::from)?;
            let mut t = Instant::now();
            let mut lap = |k: usize| {
                stages[k] += t.elapsed().as_secs_f64();
                t = Instant::now();
            };
            let Ok(l) = load::load_image(&im.path) else {
                continue;
            };
            lap(0);
            let Ok(d) = p.detect_image(l) else { continue };
            lap(1);
            let fa = p.analyze(d, None);
            lap(2);
            if let (Ok(fa), true, Some(a)) = (fa, quality, models.quality) {
                // A face FaceMesh cannot assess costs what it costs.
                let _ = a.assess(&fa);
                lap(3);
            }
        }
        Ok(())
    };
    // Warm-up: the models' first runs and the files into the page cache;
    // its stages are the breakdown.
    bare(true, &mut stages)?;
    let mut ignored = [0.0; 4];
    let (before, r) = rate(n, || bare(false, &mut ignored));
    r?;
    let cache = std::env::temp_dir().join(format!("facexplain-bench-cache-{}", std::process::id()));
    let opts = CollectOptions {
        pairs_file: None,
        max_impostors: DEFAULT_MAX_IMPOSTORS,
        seed: 0,
        cache: EmbeddingCache::at(cache.clone()),
        files: None,
    };
    let (open, table) = rate(n, || {
        Table::build_streaming(models, dir, &opts, calibration, None, ctl, &mut |_| {})
    });
    // The cache was the bench's own.
    let _ = std::fs::remove_dir_all(&cache);
    let table = table?;
    let (after, r) = rate(n, || bare(false, &mut ignored));
    r?;
    let all = (0..n).collect();
    let none = EmbeddingCache::disabled();
    let (workers_bare, r) = rate(n, || {
        embed_images(p, &dataset, &all, Sources::from(&none), None, ctl)
    });
    r?;
    let (bare_with_quality, r) = rate(n, || bare(true, &mut ignored));
    r?;
    let per = |s: f64| s * 1000.0 / n.max(1) as f64;
    Ok(Throughput {
        images: n,
        bare: [before, after],
        bare_with_quality,
        workers_bare,
        workers: p.worker_count(),
        open,
        pairs: table.rows.len(),
        stages: vec![
            ("load (decode)", per(stages[0])),
            ("detect (YuNet)", per(stages[1])),
            ("align and embed (SFace)", per(stages[2])),
            ("quality (FaceMesh, measures, verdict)", per(stages[3])),
        ],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_is_read_and_grows_with_work() {
        let Some(a) = super::cpu_seconds() else {
            return; // no /proc here
        };
        let mut x = 0u64;
        let t = std::time::Instant::now();
        while t.elapsed().as_millis() < 120 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let b = super::cpu_seconds().unwrap();
        assert!(b - a >= 0.03, "{a} → {b}");
    }
}
