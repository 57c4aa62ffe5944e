//! `facexplain explore --bench`: embedding throughput when opening a data
//! set against the bare embedder on the same images, in images per second.
//! Bare: load, detect, align and embed each image, nothing else. Opening:
//! what the app runs (scan and hash, embed and assess each image, write the
//! cache, form and score every pair) into an empty cache of its own. The
//! bare embedder with the quality assessment is timed too, since opening
//! assesses every face: the difference between the two bare figures is
//! FaceMesh's share, the rest the explorer's own. Each is timed by the
//! clock and by the process's CPU time (on a machine other work shares,
//! the CPU time tells the work apart from the waiting). Same-run ratios;
//! figures, not a test.

use super::{ExploreError, Models, Table};
use crate::calibration::Calibration;
use crate::calibration::fit::FitError;
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::dataset::Dataset;
use crate::calibration::fit::embedding::EmbeddingCache;
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
    /// Load, detect, align, embed.
    pub bare: Rate,
    /// The same and the quality assessment (FaceMesh, measures, verdict).
    pub bare_with_quality: Rate,
    /// Opening the data set with an empty cache.
    pub open: Rate,
    /// Pairs the opened table holds.
    pub pairs: usize,
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

/// Time the bare embedder, with and without quality, and opening `dir`.
pub fn throughput(
    models: Models<'_>,
    dir: &Path,
    calibration: Option<Calibration>,
    ctl: Ctl,
) -> Result<Throughput, ExploreError> {
    let dataset = Dataset::scan(dir, ctl).map_err(FitError::from)?;
    let p = models.pipeline;
    let bare = |quality: bool| -> Result<(), ExploreError> {
        for im in &dataset.images {
            ctl.check().map_err(FitError::from)?;
            let fa = load::load_image(&im.path).and_then(|l| p.analyze(p.detect_image(l)?, None));
            if let (Ok(fa), true, Some(a)) = (fa, quality, models.quality) {
                // A face FaceMesh cannot assess costs what it costs.
                let _ = a.assess(&fa);
            }
        }
        Ok(())
    };
    // Warm-up: the models' first runs and the files into the page cache.
    bare(true)?;
    let n = dataset.images.len();
    let (bare_rate, r) = rate(n, || bare(false));
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
    let (bare_with_quality, r) = rate(n, || bare(true));
    r?;
    Ok(Throughput {
        images: n,
        bare: bare_rate,
        bare_with_quality,
        open,
        pairs: table.rows.len(),
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
