//! `facexplain eval --dataset DIR`: error rates (EER, FNMR@FMR, AUC), the
//! calibration error of C-Score and PIC-Score by k-fold cross-validation,
//! and of a fixed calibration; DET curve, score histograms and reliability
//! diagrams as PNG; the likelihood ratios' validation (Cllr, ELUB bounds,
//! Tippett, PAV and ECE plots); the same error rates and Cllr per quality
//! verdict of the pairs (both faces fit, the worse one limited, unfit);
//! everything in `summary.json`. `--no-lr` and `--no-quality` leave those
//! parts out (and measure what they cost).

use super::BadInput;
use super::calibrate::{DatasetArgs, cli_error, collect};
use super::progress::{TermProgress, ctrl_c_flag};
use crate::calibration::Calibration;
use crate::calibration::file::{DatasetInfo, PairInfo, Tool};
use crate::calibration::fit::evaluate::{
    self, CalibrationCheck, CrossValidation, FnmrAtFmr, QualityGroup,
};
use crate::calibration::fit::lr_eval::{LrEvaluation, evaluate_lrs};
use crate::calibration::fit::pairs::images_of;
use crate::calibration::fit::{cscore, plots};
use crate::pipeline::{ModelRef, Recogniser};
use crate::progress::{Ctl, Progress};
use crate::record::Verdict;
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Schema of `summary.json`.
pub const EVAL_SCHEMA: &str = "facexplain.eval/1";

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub data: DatasetArgs,
    /// A calibration to check on this dataset (default: the built-in one, if it fits the model).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Folder for summary.json and the plots (default: eval-<dataset>).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Folds of the cross-validated calibration error.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Histogram bins for the C-Score fits.
    #[arg(long, default_value_t = cscore::DEFAULT_BINS)]
    pub bins: usize,
    #[command(flatten)]
    pub quality: super::quality::ThresholdsArg,
    /// Leave out the likelihood ratios (their validation, the transfer of
    /// the calibration's LRs, the Tippett, PAV and ECE plots, Cllr per quality group).
    #[arg(long)]
    pub no_lr: bool,
    /// Leave out the error rates per quality verdict (each face's verdict is
    /// judged with its embedding and cached with it: FaceMesh on every face
    /// not in the cache).
    #[arg(long)]
    pub no_quality: bool,
}

#[derive(Serialize)]
struct EerSummary {
    eer: f64,
    threshold: f64,
    fmr: f64,
    fnmr: f64,
}

#[derive(Serialize)]
struct CheckedCalibration {
    name: String,
    sha256: String,
    #[serde(flatten)]
    check: CalibrationCheck,
}

#[derive(Serialize)]
struct Summary {
    schema: &'static str,
    tool: Tool,
    model: ModelRef,
    dataset: DatasetInfo,
    pairs: PairInfo,
    eer: EerSummary,
    auc: f64,
    fnmr_at_fmr: Vec<FnmrAtFmr>,
    cross_validation: CrossValidation,
    #[serde(skip_serializing_if = "Option::is_none")]
    calibration: Option<CheckedCalibration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calibration_note: Option<String>,
    /// Cllr family and ELUB bounds per calibrator, and the calibration's transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    likelihood_ratio: Option<LrEvaluation>,
    /// Error rates per quality verdict of the pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<QualitySummary>,
    plots: BTreeMap<String, String>,
    /// Every model's EER and FNMR@FMR on the same pairs (`--model A,B`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    models: Vec<super::models::ModelRates>,
}

/// Error rates per quality verdict of the pair (the worse of its faces).
#[derive(Serialize)]
struct QualitySummary {
    thresholds: String,
    /// Images assessed per verdict, and those that could not be.
    images: BTreeMap<String, usize>,
    not_assessed: Vec<crate::calibration::file::SkippedImage>,
    /// Which calibration's LRs the Cllr figures are of.
    #[serde(skip_serializing_if = "Option::is_none")]
    cllr_of: Option<String>,
    groups: Vec<QualityGroup>,
}

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if a.folds < 2 {
        return Err(BadInput(format!("--folds {}: at least 2 folds are needed", a.folds)).into());
    }
    let pipeline = super::models::first_of(&a.data.model)?;
    if !a.data.embeddings.is_empty()
        && Recogniser::find_list(&pipeline.store, &a.data.model)?.len() > 1
    {
        return Err(BadInput(format!(
            "--embeddings holds one recogniser's results: give one --model, not {:?}",
            a.data.model
        ))
        .into());
    }
    // The quality thresholds and a given calibration are checked before the long work starts.
    let assessor = a.quality.assessor(&pipeline)?;
    let given = a
        .calibration
        .as_deref()
        .map(|p| Calibration::choose(Some(p), &pipeline.model))
        .transpose()
        .map_err(cli_error)?;
    let dir = match a.data.dataset.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(BadInput(
                "eval measures one --dataset at a time (calibrate pools several)".into(),
            )
            .into());
        }
    };
    let opts = a.data.options(&pipeline)?;
    // Each face's quality is judged with its embedding (or read with it).
    let c = collect(&pipeline, &opts, &dir, (!a.no_quality).then_some(&assessor))?;
    let s = &c.scores;
    let eer = s.eer().ok_or_else(|| {
        BadInput(format!(
            "{}: {} genuine and {} impostor pairs; both are needed",
            dir.display(),
            s.genuine.len(),
            s.impostor.len()
        ))
    })?;
    let bar = TermProgress::new();
    let cancel = ctrl_c_flag();
    let report = |p: Progress| bar.update(p);
    let cv = evaluate::cross_validate(s, a.folds, a.data.seed, a.bins, Ctl::new(&report, &cancel));
    bar.finish();
    let (cv, fold_pics) = cv.map_err(cli_error)?;
    let (calibration, calibration_note) = match given {
        Some(cal) => (Some(cal), None),
        None => match Calibration::default_for(&pipeline.model) {
            Ok(cal) => (Some(cal), None),
            Err(e) => (None, Some(format!("built-in calibration not checked: {e}"))),
        },
    };
    // Time spent on likelihood ratios alone, for the line at the end.
    let mut t_lr = 0.0;
    let lr = if a.no_lr {
        None
    } else {
        let t = Instant::now();
        let lr = evaluate_lrs(
            s,
            c.data_ref(),
            a.data.seed,
            calibration.as_ref(),
            Some(&fold_pics),
            Ctl::none(),
        )
        .map_err(cli_error)?;
        t_lr += t.elapsed().as_secs_f64();
        Some(lr)
    };
    let quality = if a.no_quality {
        None
    } else {
        let cllr_of = calibration.as_ref().filter(|_| !a.no_lr);
        Some(quality_split(&assessor, &c, cllr_of))
    };
    let checked = calibration.map(|cal| CheckedCalibration {
        check: evaluate::check_calibration(&cal.file.fitted, s),
        name: cal.name,
        sha256: cal.sha256,
    });
    let out_dir = a
        .out_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("eval-{}", c.info.name)));
    std::fs::create_dir_all(&out_dir).map_err(|e| {
        BadInput(format!(
            "{}: cannot create the folder: {e}",
            out_dir.display()
        ))
    })?;
    let mut files = draw_plots(&out_dir, s, eer.eer, eer.at.threshold, &cv).map_err(cli_error)?;
    if let Some(lr) = &lr {
        let t = Instant::now();
        super::lr_report::draw(&out_dir, lr, plots::text_available(), &mut files)
            .map_err(cli_error)?;
        t_lr += t.elapsed().as_secs_f64();
    }
    let summary = Summary {
        schema: EVAL_SCHEMA,
        tool: Tool::default(),
        model: pipeline.model.clone(),
        dataset: c.info.clone(),
        pairs: c.pairs.clone(),
        eer: EerSummary {
            eer: eer.eer,
            threshold: eer.at.threshold,
            fmr: eer.at.fmr,
            fnmr: eer.at.fnmr,
        },
        auc: s.auc().unwrap_or(f64::NAN),
        fnmr_at_fmr: evaluate::fnmr_at_fmrs(s, &evaluate::FMR_TARGETS),
        cross_validation: cv,
        calibration: checked,
        calibration_note,
        likelihood_ratio: lr,
        quality,
        plots: files,
        models: super::models::eval_side_by_side(&pipeline, s, &a.data, &dir)?,
    };
    let path = out_dir.join("summary.json");
    let text = serde_json::to_string_pretty(&summary)? + "\n";
    std::fs::write(&path, text)
        .map_err(|e| BadInput(format!("{}: cannot write: {e}", path.display())))?;
    print_summary(&summary);
    let total = t0.elapsed().as_secs_f64();
    let lr_part = match &summary.likelihood_ratio {
        Some(_) => format!(
            "likelihood-ratio validation and plots {t_lr:.2} s of it: {:.2}× the rest",
            total / (total - t_lr)
        ),
        None => "likelihood ratios left out".into(),
    };
    println!(
        "summary and plots written to {} in {total:.2} s ({lr_part})",
        out_dir.display(),
    );
    Ok(())
}

/// The quality verdicts of the images the pairs use (judged with their
/// embeddings) and the error rates split by the pairs' verdict.
fn quality_split(
    assessor: &crate::quality::Assessor,
    c: &crate::calibration::fit::Collected,
    calibration: Option<&Calibration>,
) -> QualitySummary {
    let pairs: Vec<_> = c.scored.iter().map(|(p, _)| *p).collect();
    let used = images_of(&pairs);
    let verdicts: Vec<Option<Verdict>> = (0..c.quality.len())
        .map(|i| c.quality[i].filter(|_| used.contains(&i)))
        .collect();
    let index: std::collections::HashMap<&str, usize> = c
        .dataset
        .images
        .iter()
        .enumerate()
        .map(|(i, im)| (im.rel.as_str(), i))
        .collect();
    let not_assessed = c
        .quality_failed
        .iter()
        .filter(|s| index.get(s.path.as_str()).is_some_and(|i| used.contains(i)))
        .cloned()
        .collect();
    let count = |x: Verdict| verdicts.iter().filter(|v| **v == Some(x)).count();
    let images = [Verdict::Fit, Verdict::Limited, Verdict::Unfit]
        .into_iter()
        .map(|x| (x.as_str().to_string(), count(x)))
        .collect();
    QualitySummary {
        thresholds: assessor.thresholds.identity.clone(),
        images,
        not_assessed,
        cllr_of: calibration.map(|c| c.name.clone()),
        groups: evaluate::split_by_quality(&c.scored, &verdicts, calibration),
    }
}

fn draw_plots(
    dir: &Path,
    s: &crate::calibration::fit::ScoreSet,
    eer: f64,
    threshold: f64,
    cv: &CrossValidation,
) -> crate::calibration::Result<BTreeMap<String, String>> {
    let text = plots::text_available();
    if !text {
        eprintln!(
            "note: no TrueType font found ({}…); plots are drawn without text",
            plots::FONT_CANDIDATES[0]
        );
    }
    let mut files = BTreeMap::new();
    let mut out = |kind: &str, name: &str| {
        files.insert(kind.to_string(), name.to_string());
        dir.join(name)
    };
    plots::det_curve(
        &out("det", "det.png"),
        &s.operating_points(),
        eer,
        s.genuine.len(),
        s.impostor.len(),
        text,
    )?;
    plots::score_histograms(&out("scores", "scores.png"), s, threshold, 100, text)?;
    plots::reliability_diagram(
        &out("reliability_c_score", "reliability-c-score.png"),
        "C-Score (k-fold)",
        &cv.c_score.reliability_balanced,
        text,
    )?;
    plots::reliability_diagram(
        &out("reliability_pic", "reliability-pic.png"),
        "PIC-Score (k-fold)",
        &cv.pic.reliability_balanced,
        text,
    )?;
    Ok(files)
}

fn print_summary(s: &Summary) {
    println!(
        "EER {:.3} % at threshold {:.4}; AUC {:.5}",
        s.eer.eer * 100.0,
        s.eer.threshold,
        s.auc
    );
    for f in &s.fnmr_at_fmr {
        match (f.fnmr, &f.note) {
            (Some(v), _) => println!("FNMR at FMR {} %: {:.3} %", f.fmr_target * 100.0, v * 100.0),
            (None, Some(n)) => println!("FNMR at FMR {} %: {n}", f.fmr_target * 100.0),
            (None, None) => println!(
                "FNMR at FMR {} %: no threshold reaches it",
                f.fmr_target * 100.0
            ),
        }
    }
    let cv = &s.cross_validation;
    println!(
        "{}-fold cross-validated ECE (class-balanced / over pairs): C-Score {:.4} / {:.4}, PIC-Score {:.4} / {:.4}",
        cv.folds,
        cv.c_score.ece_balanced,
        cv.c_score.ece_pairs,
        cv.pic.ece_balanced,
        cv.pic.ece_pairs
    );
    if let Some(c) = &s.calibration {
        println!(
            "calibration {}: threshold {:.4} gives FMR {:.5}, FNMR {:.5} here; ECE C-Score {:.4}, PIC-Score {:.4} (balanced)",
            c.name,
            c.check.threshold,
            c.check.fmr,
            c.check.fnmr,
            c.check.c_score.ece_balanced,
            c.check.pic.ece_balanced
        );
    }
    if let Some(n) = &s.calibration_note {
        println!("{n}");
    }
    for line in s
        .likelihood_ratio
        .iter()
        .flat_map(super::lr_report::eval_lines)
    {
        println!("{line}");
    }
    for line in s.quality.iter().flat_map(quality_lines) {
        println!("{line}");
    }
}

/// The quality split as text: images per verdict, then each pair group.
fn quality_lines(q: &QualitySummary) -> Vec<String> {
    let mut lines = vec![format!(
        "image quality ({}): {} fit, {} limited, {} unfit, {} not assessed; a pair takes its worse face's verdict",
        q.thresholds,
        q.images["fit"],
        q.images["limited"],
        q.images["unfit"],
        q.not_assessed.len()
    )];
    for g in &q.groups {
        let mut l = format!(
            "  {}: {} pairs ({} genuine, {} impostor)",
            g.group,
            g.pairs(),
            g.genuine,
            g.impostor
        );
        match g.eer {
            Some(e) => l += &format!("; EER {:.3} %", e * 100.0),
            None => l += "; EER not measurable (needs genuine and impostor pairs)",
        }
        for f in &g.fnmr_at_fmr {
            l += &match f.fnmr {
                Some(v) => format!("; FNMR@FMR {} % {:.3} %", f.fmr_target * 100.0, v * 100.0),
                None => format!("; FNMR@FMR {} % not measurable", f.fmr_target * 100.0),
            };
        }
        if let Some(c) = g.cllr {
            l += &format!("; Cllr {c:.4}");
        }
        lines.push(l);
    }
    if let Some(c) = &q.cllr_of {
        lines.push(format!("  (Cllr of calibration {c}'s bounded LRs)"));
    }
    lines
}
