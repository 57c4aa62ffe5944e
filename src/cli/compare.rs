//! `facexplain compare A B`: similarity, threshold and decision, optionally
//! written as the analysis JSON.

use crate::pipeline::Pipeline;
use crate::record::Analysis;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// First image (the probe).
    pub a: PathBuf,
    /// Second image (the reference).
    pub b: PathBuf,
    /// Which face of A to use (0 = largest; see `facexplain faces`).
    #[arg(long)]
    pub face_a: Option<usize>,
    /// Which face of B to use (0 = largest).
    #[arg(long)]
    pub face_b: Option<usize>,
    /// Decision threshold on cosine similarity (default: the model's calibrated one).
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Write the analysis JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Calibration JSON for the threshold and confidences (default: the built-in SFace/ORL one).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Refuse to compare (exit 2, with the reasons) when either face is unfit for comparison.
    #[arg(long)]
    pub require_fit: bool,
    /// Face recognisers to run side by side, comma-separated, or `all`
    /// (`facexplain models list`); the first makes the analysis and the maps,
    /// each uses its own calibration (`--threshold`, `--calibration` apply to the first).
    #[arg(long, value_name = "LIST")]
    pub models: Option<String>,
    #[command(flatten)]
    pub thresholds: super::quality::ThresholdsArg,
    #[command(flatten)]
    pub explain: super::explain_run::ExplainArgs,
}

pub fn run(a: CompareArgs) -> anyhow::Result<()> {
    let (_, analysis) = analyse(&a)?;
    if let Some(out) = &a.json {
        analysis.write(out)?;
        println!("analysis written to {}", out.display());
    }
    Ok(())
}

/// Compare (and explain) the pair as `a` says, printing the summary; the
/// loaded pipeline and the analysis record. `case new` and `case verify`
/// run this same path.
pub fn analyse(a: &CompareArgs) -> anyhow::Result<(Pipeline, Analysis)> {
    let t0 = Instant::now();
    let pipeline = match &a.models {
        Some(list) => super::models::first_of(list)?,
        None => Pipeline::load()?,
    };
    let calibration = super::calibrate::for_compare(&pipeline, a.calibration.as_deref())?;
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    let fa = pipeline.analyze_file(&a.a, a.face_a)?;
    let fb = pipeline.analyze_file(&a.b, a.face_b)?;
    let assessor = a.thresholds.assessor(&pipeline)?;
    let (qa, qb) = (assessor.assess(&fa)?, assessor.assess(&fb)?);
    let mut lines = super::quality::summary_lines("A", &qa);
    lines.extend(super::quality::summary_lines("B", &qb));
    if a.require_fit && qa.verdict.max(qb.verdict) == crate::record::Verdict::Unfit {
        return Err(super::BadInput(format!(
            "--require-fit: not compared, a face is unfit for comparison\n{}",
            lines.join("\n")
        ))
        .into());
    }
    if let Some(w) = super::quality::pair_warning(&qa, &qb) {
        println!("{w}");
    }
    for l in &lines {
        println!("{l}");
    }
    let mut analysis = Analysis::of_pair(&pipeline, calibration.as_ref(), &fa, &fb, a.threshold);
    analysis.images[0].quality = Some(qa);
    analysis.images[1].quality = Some(qb);
    let (threshold, source) = (analysis.threshold, analysis.threshold_source.clone());
    analysis
        .timings_ms
        .insert("load_models".into(), t_load.as_secs_f64() * 1e3);
    analysis
        .timings_ms
        .insert("compare".into(), t1.elapsed().as_secs_f64() * 1e3);
    println!(
        "A: {} (face {} of {})",
        a.a.display(),
        fa.chosen,
        fa.faces.len()
    );
    println!(
        "B: {} (face {} of {})",
        a.b.display(),
        fb.chosen,
        fb.faces.len()
    );
    println!(
        "similarity {:.4}  threshold {:.4} ({source})  decision: {}",
        analysis.similarity, threshold, analysis.decision
    );
    if let Some(c) = &analysis.confidence {
        println!(
            "{}",
            super::calibrate::confidence_line(c, analysis.evidence.as_ref())
        );
    }
    for line in analysis
        .evidence
        .iter()
        .flat_map(super::calibrate::evidence_lines)
    {
        println!("{line}");
    }
    if let Some(list) = &a.models {
        analysis.models = super::models::side_by_side(&pipeline, list, a, &analysis)?;
    }
    super::explain_run::run(
        &a.explain,
        &pipeline,
        [&fa, &fb],
        a.json.as_deref(),
        &mut analysis,
    )?;
    Ok((pipeline, analysis))
}
