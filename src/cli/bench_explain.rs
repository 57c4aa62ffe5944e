//! `facexplain bench-explain`: the explanation figures of issue #4 — forward
//! passes of the full X-Map, its time against the same number of bare
//! embedder passes, share of model time, GFLOP/s against the machine's fp32
//! peak, the five Mery maps' time, and peak memory. The explanation runs first
//! at the engine's batch size (so the peak memory is the explanation's), then
//! bare passes are swept over batch sizes.

use crate::explain::{self, ExplainParams};
use crate::pipeline::Pipeline;
use crate::pipeline::embed::{Embedder, Lanes};
use crate::progress::Ctl;
use clap::Args;
use ndarray::{Array4, s};
use std::path::PathBuf;
use std::time::Instant;

/// SFace cost per forward pass (≈ 0.57 GMAC), GFLOP.
const SFACE_GFLOP: f64 = 1.15;

#[derive(Args, Debug)]
pub struct BenchExplainArgs {
    /// First image of the pair.
    #[arg(default_value = "data/face_recognition/obama.jpg")]
    pub a: PathBuf,
    /// Second image of the pair.
    #[arg(default_value = "data/face_recognition/obama2.jpg")]
    pub b: PathBuf,
    /// Batch sizes to try for bare passes (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "4,8,16,32,64")]
    pub batches: Vec<usize>,
    /// Batch size for the explanation runs (default: the engine's default).
    #[arg(long, default_value_t = crate::pipeline::embed::DEFAULT_BATCH)]
    pub batch: usize,
    /// Lane counts to try for bare passes (comma-separated; default: 1 and
    /// one per core). A lane is one ONNX session; the cores are shared out.
    #[arg(long, value_delimiter = ',')]
    pub lanes: Vec<usize>,
    /// Faces per session call inside a lane for the explanation runs.
    #[arg(long, default_value_t = crate::pipeline::embed::DEFAULT_LANE_BATCH)]
    pub lane_batch: usize,
    /// Faces-per-call values to compare for bare passes at `--batch` on the
    /// default lanes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub lane_batches: Vec<usize>,
    /// Graph optimisation levels to compare for bare passes at `--batch` on
    /// the default lanes (comma-separated: 0 none, 1 basic, 2 extended, 3 all).
    #[arg(long, value_delimiter = ',')]
    pub opt_levels: Vec<usize>,
    /// Measure only the Mery maps (no X-Map, no bare-pass sweeps).
    #[arg(long)]
    pub mery_only: bool,
    /// Measure only the X-Map: incremental, whole passes and the Python
    /// implementation (no bare passes, Mery maps or sweeps).
    #[arg(long)]
    pub xmap_only: bool,
    /// Times to run the Mery maps (each run is printed; on a shared host the
    /// fastest is the least disturbed).
    #[arg(long, default_value_t = 1)]
    pub mery_runs: usize,
}

/// Peak resident memory of this process (VmHWM), MB.
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

/// The core clock the system reports, GHz (cpufreq maximum, else the
/// highest `cpu MHz` of /proc/cpuinfo; in a VM that is often the nominal clock).
fn reported_clock_ghz() -> Option<f64> {
    if let Ok(k) = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    {
        return k.trim().parse::<f64>().ok().map(|khz| khz / 1e6);
    }
    let s = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    s.lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
        .reduce(f64::max)
        .map(|m| m / 1e3)
}

/// The clock a core actually runs at while busy, GHz: the time of a chain
/// of dependent integer additions (one cycle each on every x86-64 core),
/// fastest of a few runs of ~20 ms. Boost clocks make it higher than the
/// reported one.
#[cfg(target_arch = "x86_64")]
fn measured_clock_ghz() -> Option<f64> {
    const ROUNDS: u64 = 2_000_000;
    const ADDS_PER_ROUND: f64 = 16.0;
    let mut best = f64::MAX;
    for _ in 0..7 {
        let mut x = 0u64;
        let mut n = ROUNDS;
        let t = Instant::now();
        // SAFETY: register-only arithmetic on the two operands; no memory, no stack.
        unsafe {
            std::arch::asm!(
                "2:",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "dec {n}",
                "jnz 2b",
                x = inout(reg) x,
                n = inout(reg) n,
                options(nomem, nostack),
            );
        }
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box((x, n));
    }
    Some(ROUNDS as f64 * ADDS_PER_ROUND / best / 1e9)
}

#[cfg(not(target_arch = "x86_64"))]
fn measured_clock_ghz() -> Option<f64> {
    None
}

/// The clock for the fp32 peak: measured where possible, else reported.
fn clock_ghz() -> Option<f64> {
    measured_clock_ghz().or_else(reported_clock_ghz)
}

/// Time `groups` bare passes (each group batched like the X-Map job) of one face tensor.
fn bare_passes(
    embedder: &Embedder,
    batch: usize,
    groups: &[usize],
    face: &Array4<f32>,
) -> anyhow::Result<f64> {
    let t = Instant::now();
    for &n in groups {
        let mut start = 0;
        while start < n {
            let k = batch.min(n - start);
            embedder.embed_tensor(face.slice(s![0..k, .., .., ..]))?;
            start += k;
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

pub fn run(a: BenchExplainArgs) -> anyhow::Result<()> {
    let mut p = Pipeline::load()?;
    let fm = crate::pipeline::facemesh::FaceMesh::load(&p.store)?;
    let fa = p.analyze_file(&a.a, None)?;
    let fb = p.analyze_file(&a.b, None)?;
    let cores = crate::pipeline::runtime::cores();
    let xp = crate::explain::xmap::XMapParams::default();
    // The X-Map job's batching: originals, then both faces' occlusions per patch size.
    let mut groups = vec![2];
    groups.extend(
        xp.size_order()
            .iter()
            .map(|&s| 2 * crate::explain::xmap::positions(s, xp.stride, 112).len()),
    );
    let total: usize = groups.iter().sum();
    let biggest = a
        .batches
        .iter()
        .copied()
        .chain([a.batch])
        .max()
        .unwrap_or(1)
        .max(1);
    let one = crate::explain::occlusion::face_tensor(&fa.aligned.crop);
    let face = Array4::from_shape_fn((biggest, 3, 112, 112), |(_, c, y, x)| one[[c, y, x]]);

    let clock = clock_ghz().unwrap_or(0.0);
    let peak = cores as f64 * 32.0 * clock;
    println!(
        "machine: {cores} cores, clock {clock:.2} GHz measured busy ({:.2} GHz reported) → fp32 peak ≈ {peak:.0} GFLOP/s (cores × 32 FLOP/cycle × clock)",
        reported_clock_ghz().unwrap_or(0.0),
    );
    let auto = Lanes::auto();
    println!(
        "embedder: {} lane(s) × {} thread(s) (FACEXPLAIN_LANES overrides)",
        auto.lanes, auto.threads
    );
    let batch = a.batch.max(1);
    p.embedder.batch = batch;
    p.embedder.lane_batch = a.lane_batch.max(1);
    if !a.mery_only {
        super::bench_incremental::xmap_against_whole_and_python(&mut p, &fm, [&fa, &fb])?;
    }
    if a.xmap_only {
        return Ok(());
    }
    if !a.mery_only {
        xmap_figures(&p, &fm, [&fa, &fb], &groups, &face, peak)?;
    }
    for _ in 0..a.mery_runs.max(1) {
        mery_figures(&p, &fm, [&fa, &fb], &face)?;
    }
    println!(
        "peak resident memory    {:.0} MB (explanations at batch {batch})",
        peak_rss_mb().unwrap_or(0.0)
    );
    if a.mery_only {
        return Ok(());
    }
    let lane_counts = if a.lanes.is_empty() {
        let mut l = vec![1, auto.lanes];
        l.dedup();
        l
    } else {
        a.lanes.clone()
    };
    println!("bare SFace passes, {total} per run, grouped {groups:?}:");
    // Time the bare passes of one embedder at `b` faces per pass and print them under `label`.
    let sweep = |label: String, embedder: &Embedder, b: usize| -> anyhow::Result<()> {
        let secs = bare_passes(embedder, b.max(1), &groups, &face)?;
        println!(
            "  {label}: {secs:>7.2} s  {:>6.2} ms/pass  {:>6.1} GFLOP/s",
            secs * 1e3 / total as f64,
            total as f64 * SFACE_GFLOP / secs
        );
        Ok(())
    };
    for &l in &lane_counts {
        let lanes = Lanes::split(cores, l);
        let embedder = Embedder::load_with(&p.store, lanes)?;
        for &b in &a.batches {
            let label = format!(
                "{} lane(s) × {} thread(s), batch {b:>4}",
                lanes.lanes, lanes.threads
            );
            sweep(label, &embedder, b)?;
        }
    }
    let on_auto = format!(
        "{} lane(s) × {} thread(s), batch {batch}",
        auto.lanes, auto.threads
    );
    if !a.lane_batches.is_empty() {
        println!("faces per session call in a lane, {on_auto}:");
    }
    for &lb in &a.lane_batches {
        let mut embedder = Embedder::load_with(&p.store, auto)?;
        embedder.lane_batch = lb.max(1);
        sweep(format!("{lb:>3} per call"), &embedder, batch)?;
    }
    if !a.opt_levels.is_empty() {
        println!("graph optimisation, {on_auto}:");
    }
    for &level in &a.opt_levels {
        let embedder = Embedder::load_tuned(&p.store, auto, level)?;
        let name = crate::pipeline::runtime::OPT_LEVELS[level];
        sweep(format!("level {level} ({name:?})"), &embedder, batch)?;
    }
    Ok(())
}

/// Run the full X-Map once (after the same passes bare) and print its figures.
fn xmap_figures(
    p: &Pipeline,
    fm: &crate::pipeline::facemesh::FaceMesh,
    faces: [&crate::pipeline::FaceAnalysis; 2],
    groups: &[usize],
    face: &Array4<f32>,
    peak: f64,
) -> anyhow::Result<()> {
    let batch = p.embedder.batch;
    let bare = bare_passes(&p.embedder, batch, groups, face)?;

    let (ex, times) = super::bench_incremental::xmap_once(p, fm, faces)?;
    let xs = ex.xmap_stats;
    println!("full X-Map (I, II, III; p = 28, 14, 7; both faces), batch {batch}:");
    println!("  forward passes        {}", xs.passes);
    println!(
        "  wall time             {:.2} s   (bare passes, same batching: {bare:.2} s → ratio {:.3})",
        xs.total_ms / 1e3,
        xs.total_ms / 1e3 / bare
    );
    println!(
        "  model time            {:.2} s   ({:.1} % of the X-Map wall time)",
        xs.model_ms / 1e3,
        100.0 * xs.model_ms / xs.total_ms
    );
    println!(
        "  throughput            {:.1} GFLOP/s of ≈ {peak:.0} peak",
        xs.passes as f64 * SFACE_GFLOP / (xs.total_ms / 1e3)
    );
    println!(
        "  preview at {:.2} s, first (p=28) maps at {:.2} s;  FaceMesh regions {:.0} ms",
        times.preview, times.first, ex.regions_ms
    );

    Ok(())
}

/// Run the five Mery maps on both faces once and print their figures.
fn mery_figures(
    p: &Pipeline,
    fm: &crate::pipeline::facemesh::FaceMesh,
    faces: [&crate::pipeline::FaceAnalysis; 2],
    face: &Array4<f32>,
) -> anyhow::Result<()> {
    let batch = p.embedder.batch;
    let params = ExplainParams {
        xmap: None,
        ..ExplainParams::default()
    };
    let ex = explain::explain(
        &p.embedder,
        Some(fm),
        faces,
        &params,
        Ctl::none(),
        &mut |_| {},
    )?;
    let ms = ex.mery_stats;
    let it = ex
        .mery
        .as_ref()
        .map(|m| m.iterations.clone())
        .unwrap_or_default();
    println!("Mery maps S0−, S1−, S0+, S1+, AVG (d=16, nh=161, tmax=20, th=0.01), batch {batch}:");
    println!(
        "  forward passes        {}  (greedy iterations (face, removal, aggregation): {it:?})",
        ms.passes
    );
    println!(
        "  wall time             {:.2} s  (model {:.2} s, {:.1} %)",
        ms.total_ms / 1e3,
        ms.model_ms / 1e3,
        100.0 * ms.model_ms / ms.total_ms.max(1e-9)
    );
    let faces = it.len().max(1);
    println!(
        "  per face (five maps)  {:.2} s, {} passes at {:.2} ms/pass",
        ms.total_ms / 1e3 / faces as f64,
        ms.passes / faces,
        ms.total_ms / ms.passes.max(1) as f64
    );
    // The same passes bare, batched like the searches: the noise image, then
    // one group per greedy step (removal drops a centre per step; the
    // searches of both faces run in lockstep).
    let n = ex.mery.as_ref().map(|m| m.centres.len()).unwrap_or(0);
    let steps = it.iter().map(|&(_, r, a)| r.max(a)).max().unwrap_or(0);
    let mut groups = vec![1];
    groups.extend((0..steps).map(|i| {
        it.iter()
            .map(|&(_, r, a)| if i < r { n - i } else { 0 } + if i < a { n } else { 0 })
            .sum::<usize>()
    }));
    let bare = bare_passes(&p.embedder, batch, &groups, face)?;
    println!(
        "  bare passes           {} with the same batching: {bare:.2} s → ratio {:.3}",
        groups.iter().sum::<usize>(),
        ms.total_ms / 1e3 / bare
    );
    Ok(())
}
