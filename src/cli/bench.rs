//! `facexplain bench`: per-stage medians of the verification pipeline, and
//! the quality assessment's time per face and its share of a compare.

use crate::pipeline::{Pipeline, align, embed, load_image};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// First image of the pair.
    #[arg(default_value = "data/face_recognition/obama.jpg")]
    pub a: PathBuf,
    /// Second image of the pair.
    #[arg(default_value = "data/face_recognition/biden.jpg")]
    pub b: PathBuf,
    /// Repetitions per stage (the median is printed).
    #[arg(long, default_value_t = 15)]
    pub reps: usize,
    /// Also time these face recognisers side by side, full X-Map included (comma-separated, or `all`; as `bench-models`).
    #[arg(long, value_name = "LIST")]
    pub models: Option<String>,
}

/// Median of `reps` timings of `f`, in milliseconds (one warm-up run first).
pub(crate) fn median_ms(
    reps: usize,
    mut f: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<f64> {
    f()?;
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let s = Instant::now();
        f()?;
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let p = Pipeline::load()?;
    println!(
        "models loaded in {:.0} ms (threads: {})",
        t0.elapsed().as_secs_f64() * 1e3,
        crate::pipeline::runtime::cores()
    );
    let img = load_image(&a.a)?;
    let faces = p.detector.detect_in(&img)?;
    let aligned = align::align(&img.rgb, &faces[0].landmarks5);
    let load = median_ms(a.reps, || Ok(load_image(&a.a).map(|_| ())?))?;
    let detect = median_ms(a.reps, || Ok(p.detector.detect(&img.rgb).map(|_| ())?))?;
    let alignt = median_ms(a.reps, || {
        align::align(&img.rgb, &faces[0].landmarks5);
        Ok(())
    })?;
    let one = embed::faces_to_tensor(&[&aligned.crop]);
    let b1 = median_ms(a.reps, || {
        Ok(p.embedder.embed_tensor(one.view()).map(|_| ())?)
    })?;
    let crops: Vec<&image::RgbImage> = (0..32).map(|_| &aligned.crop).collect();
    let t32 = embed::faces_to_tensor(&crops);
    let b32 = median_ms(a.reps.min(7), || {
        Ok(p.embedder.embed_tensor(t32.view()).map(|_| ())?)
    })?;
    let cmp = median_ms(a.reps.min(7), || {
        let fa = p.analyze_file(&a.a, None)?;
        let fb = p.analyze_file(&a.b, None)?;
        p.compare(&fa, &fb, p.default_threshold);
        Ok(())
    })?;
    let assessor = crate::quality::Assessor::load(&p.store, crate::quality::Thresholds::builtin())?;
    let quality = median_ms(a.reps, || {
        let (raw, _) = assessor.measure(&img.rgb, &faces[0], &aligned)?;
        crate::quality::judge(&raw, &assessor.thresholds);
        Ok(())
    })?;
    // The measures alone, on FaceMesh's output (what the regions reuse).
    let mesh = assessor
        .facemesh
        .landmarks(&img.rgb, &faces[0], &aligned.transform)?;
    let measures_only = median_ms(a.reps, || {
        let raw = crate::quality::measure(&img.rgb, &faces[0], &aligned, &mesh);
        crate::quality::judge(&raw, &assessor.thresholds);
        Ok(())
    })?;
    // `compare` as it runs: both faces analysed and assessed.
    let cmp_q = median_ms(a.reps.min(7), || {
        let fa = p.analyze_file(&a.a, None)?;
        let fb = p.analyze_file(&a.b, None)?;
        p.compare(&fa, &fb, p.default_threshold);
        assessor.assess(&fa)?;
        assessor.assess(&fb)?;
        Ok(())
    })?;
    println!("stage                       median");
    println!(
        "load ({}×{})          {load:>9.2} ms",
        img.width(),
        img.height()
    );
    println!("detect (YuNet 640²)         {detect:>9.2} ms");
    println!("align (112²)                {alignt:>9.2} ms");
    println!(
        "embed batch 1               {b1:>9.2} ms  ({:.1} images/s)",
        1e3 / b1
    );
    println!(
        "embed batch 32              {b32:>9.2} ms  ({:.1} images/s)",
        32e3 / b32
    );
    println!("compare pair (end to end)   {cmp:>9.2} ms");
    println!(
        "quality, all measures       {quality:>9.2} ms  (FaceMesh + measures + verdict, one face; target ≤ 20 ms)"
    );
    println!("  measures + verdict alone  {measures_only:>9.2} ms  (on FaceMesh's output)");
    println!(
        "compare pair + quality      {cmp_q:>9.2} ms  (2 × quality per face = {:.0} % of it)",
        100.0 * 2.0 * quality / cmp_q
    );
    if let Some(list) = &a.models {
        super::bench_models::bench(list, &a.a, &a.b, a.reps, true, false)?;
    }
    lr_figures(a.reps)
}

/// The likelihood ratio after the calibration is loaded: one evidence
/// record (calibrator, bounds, verbal equivalent) per similarity, timed
/// over 1,000 similarities spread over [−1, 1] for each calibrator.
fn lr_figures(reps: usize) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let cal = crate::calibration::Calibration::builtin()?;
    let load = t0.elapsed().as_secs_f64() * 1e3;
    let Some(lr) = cal.file.fitted.likelihood_ratio.as_ref() else {
        println!("likelihood ratio: the built-in calibration has none");
        return Ok(());
    };
    println!("built-in calibration parsed in {load:.2} ms");
    for name in lr.calibrators.keys() {
        let per = median_ms(reps, || {
            for i in 0..1000 {
                let s = -1.0 + 2.0 * i as f32 / 999.0;
                std::hint::black_box(cal.evidence_with(s, Some(name), 0.5));
            }
            Ok(())
        })?;
        println!(
            "LR + bounds + verbal ({name:<8}) {:>9.4} ms per pair",
            per / 1000.0
        );
    }
    Ok(())
}
