//! `facexplain quality IMAGE... [--json]`: the fitness for comparison of
//! every face found, and the quality lines `compare` prints first.

use crate::pipeline::Pipeline;
use crate::quality::{Assessor, Thresholds};
use crate::record::{FaceQuality, Verdict};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct QualityArgs {
    /// The images to assess (every face found in each).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub thresholds: ThresholdsArg,
}

/// The thresholds file option shared by `quality` and `compare`.
#[derive(Args, Debug, Clone, Default)]
pub struct ThresholdsArg {
    /// Quality thresholds JSON (default: the built-in assets/quality/thresholds.json).
    #[arg(long, value_name = "FILE")]
    pub quality_thresholds: Option<PathBuf>,
}

impl ThresholdsArg {
    /// The assessor for `pipeline`'s models with these thresholds.
    pub fn assessor(&self, pipeline: &Pipeline) -> anyhow::Result<Assessor> {
        let t = Thresholds::from_option(self.quality_thresholds.as_deref())?;
        Ok(Assessor::load(&pipeline.store, t)?)
    }
}

/// The verdict line and the reasons of one face, as the terminal shows them.
pub fn summary_lines(label: &str, q: &FaceQuality) -> Vec<String> {
    let mut lines = vec![format!(
        "{label}: quality {}",
        q.verdict.as_str().to_uppercase()
    )];
    lines.extend(q.reasons.iter().map(|r| format!("  - {r}")));
    lines
}

/// Every measure of one face as an aligned table.
pub fn measure_lines(q: &FaceQuality) -> Vec<String> {
    q.measures
        .iter()
        .map(|m| {
            format!(
                "  {:<25} {:>9.3} {:<19} score {:>3}  {}",
                m.name, m.raw, m.unit, m.score, m.verdict
            )
        })
        .collect()
}

/// The warning `compare` prints first when a face is not fit.
pub fn pair_warning(qa: &FaceQuality, qb: &FaceQuality) -> Option<String> {
    match qa.verdict.max(qb.verdict) {
        Verdict::Fit => None,
        Verdict::Limited => Some(
            "WARNING: image quality is limited; the score below is less reliable than on fit images"
                .into(),
        ),
        Verdict::Unfit => Some(
            "WARNING: at least one face is UNFIT for comparison; the score below is computed on request \
             and must not be relied on"
                .into(),
        ),
    }
}

fn assess_file(p: &Pipeline, a: &Assessor, path: &Path) -> anyhow::Result<serde_json::Value> {
    let detected = p.detect_file(path)?;
    let mut faces = Vec::new();
    for face in &detected.faces {
        let q = a.assess_face(&detected.image.rgb, face)?;
        faces.push(serde_json::json!({ "face": face, "quality": q }));
    }
    Ok(serde_json::json!({
        "path": path.display().to_string(),
        "sha256": detected.image.sha256,
        "width": detected.image.width(),
        "height": detected.image.height(),
        "faces": faces,
    }))
}

pub fn run(a: QualityArgs) -> anyhow::Result<()> {
    let pipeline = Pipeline::load()?;
    let assessor = a.thresholds.assessor(&pipeline)?;
    let mut all = Vec::new();
    for path in &a.images {
        let v = assess_file(&pipeline, &assessor, path)?;
        if !a.json {
            let faces = v["faces"].as_array().cloned().unwrap_or_default();
            println!("{}: {} face(s), largest first", path.display(), faces.len());
            for (i, f) in faces.iter().enumerate() {
                let q: FaceQuality = serde_json::from_value(f["quality"].clone())?;
                for l in summary_lines(&format!("  #{i}"), &q) {
                    println!("  {l}");
                }
                for l in measure_lines(&q) {
                    println!("  {l}");
                }
            }
        }
        all.push(v);
    }
    if a.json {
        let out = serde_json::json!({
            "thresholds": assessor.thresholds.identity,
            "images": all,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}
