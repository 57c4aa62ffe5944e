//! Calibrated confidence for verification decisions: the C-Score of Knoche
//! et al. ([`cscore`]) and the PIC-Score of Neto et al. ([`pic`]), fitted on
//! genuine/impostor score sets of a labelled dataset ([`dataset`]), stored in
//! a calibration file ([`file`]), and measured ([`metrics`], [`evaluate`],
//! [`plots`], all under [`fit`]). May call: `record`, `pipeline`, `progress`.

pub mod assess;
pub mod cscore;
pub mod file;
pub mod fit;
pub mod kde;
pub mod pic;

pub use fit::{dataset, evaluate, metrics, plots};

pub use file::{CALIBRATION_SCHEMA, Calibration, CalibrationFile};
pub use metrics::ScoreSet;

use crate::pipeline::{Decision, PipelineError};
use cscore::SigmoidFit;
use pic::PicModel;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything that can go wrong while calibrating or using a calibration.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("calibration file {path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error(
        "calibration {name} was made for model {calibrated_model} with sha256 {calibrated_sha256}, but the loaded model {model} has sha256 {model_sha256}; run `facexplain calibrate` for this model or pick a matching --calibration"
    )]
    ModelMismatch {
        name: String,
        calibrated_model: String,
        calibrated_sha256: String,
        model: String,
        model_sha256: String,
    },
    #[error("dataset {path}: {reason}")]
    Dataset { path: PathBuf, reason: String },
    #[error("pairs file {path}, line {line}: {reason}")]
    Pairs {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("not enough pairs: {0}")]
    TooFewPairs(String),
    #[error("{0}")]
    NotMeasurable(String),
    #[error("C-Score fit: {0}")]
    Fit(String),
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("plot {path}: {reason}")]
    Plot { path: PathBuf, reason: String },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("cancelled")]
    Cancelled,
}

impl From<crate::progress::Cancelled> for CalibrationError {
    fn from(_: crate::progress::Cancelled) -> Self {
        CalibrationError::Cancelled
    }
}

impl CalibrationError {
    /// True when the user's input (a file, a dataset, an option) is at fault.
    pub fn is_bad_input(&self) -> bool {
        match self {
            CalibrationError::Pipeline(p) => p.is_bad_input(),
            CalibrationError::Fit(_)
            | CalibrationError::Plot { .. }
            | CalibrationError::Cancelled => false,
            _ => true,
        }
    }
}

pub type Result<T, E = CalibrationError> = std::result::Result<T, E>;

/// How the decision threshold is chosen from the scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThresholdRule {
    /// At the equal error rate.
    Eer,
    /// The lowest threshold whose false match rate is at most this.
    Fmr(f64),
}

/// The decision threshold and the error rates it gives on the calibration data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// On cosine similarity (match if similarity ≥ this).
    pub similarity: f64,
    /// The same on cosine distance 1 − similarity (match if distance ≤ this).
    pub distance: f64,
    /// "eer" or "fmr<=X".
    pub rule: String,
    pub fmr: f64,
    pub fnmr: f64,
    /// The equal error rate of the calibration scores.
    pub eer: f64,
}

/// The C-Score calibration: histogram bins and the fitted sigmoid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CScoreModel {
    pub bins: usize,
    pub fit: SigmoidFit,
}

/// A fitted calibration: threshold, C-Score sigmoid, PIC densities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fitted {
    pub threshold: Threshold,
    pub c_score: CScoreModel,
    pub pic: PicModel,
}

/// The confidences of one decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Knoche's C-Score: probability that the decision is right.
    pub c_score: f64,
    /// Neto's PIC-Score: probability that the pair is genuine.
    pub pic_score: f64,
    /// PIC for a match, 1 − PIC for a non-match.
    pub decision_confidence: f64,
}

impl Fitted {
    /// Choose the threshold, fit the C-Score sigmoid and the PIC densities.
    pub fn fit(scores: &ScoreSet, rule: ThresholdRule, bins: usize) -> Result<Fitted> {
        let (ng, ni) = (scores.genuine.len(), scores.impostor.len());
        if ng < 2 || ni < 2 {
            return Err(CalibrationError::TooFewPairs(format!(
                "{ng} genuine and {ni} impostor pairs; at least two of each are needed"
            )));
        }
        let eer = scores
            .eer()
            .ok_or_else(|| CalibrationError::TooFewPairs("no EER without both classes".into()))?;
        let (at, rule_name) = match rule {
            ThresholdRule::Eer => (eer.at, "eer".to_string()),
            ThresholdRule::Fmr(target) => {
                if !scores.fmr_measurable(target) {
                    return Err(CalibrationError::NotMeasurable(format!(
                        "--fmr {target}: the dataset has {ni} impostor pairs; an FMR of {target} needs at least {:.0}",
                        (1.0 / target).ceil()
                    )));
                }
                let p = scores.at_fmr(target).ok_or_else(|| {
                    CalibrationError::NotMeasurable(format!("no threshold reaches FMR {target}"))
                })?;
                (p, format!("fmr<={target}"))
            }
        };
        let threshold = Threshold {
            similarity: at.threshold,
            distance: 1.0 - at.threshold,
            rule: rule_name,
            fmr: at.fmr,
            fnmr: at.fnmr,
            eer: eer.eer,
        };
        let dist = |v: &[f64]| v.iter().map(|s| 1.0 - s).collect::<Vec<f64>>();
        let fit = cscore::fit_cscore(
            &dist(&scores.genuine),
            &dist(&scores.impostor),
            threshold.distance,
            bins,
        )?;
        let pic = PicModel::fit(&scores.genuine, &scores.impostor)?;
        Ok(Fitted {
            threshold,
            c_score: CScoreModel { bins, fit },
            pic,
        })
    }

    /// The decision this calibration's threshold gives (in `f32`, as `compare` decides).
    pub fn decide(&self, similarity: f64) -> Decision {
        Decision::at(similarity as f32, self.threshold.similarity as f32)
    }

    /// C-Score, PIC-Score and decision confidence for a score and the decision taken.
    pub fn scores(&self, similarity: f64, decision: Decision) -> Scores {
        let c_score = self.c_score.fit.params.c_score(1.0 - similarity, decision);
        let pic_score = self.pic.pic(similarity);
        let decision_confidence = match decision {
            Decision::Match => pic_score,
            Decision::NonMatch => 1.0 - pic_score,
        };
        Scores {
            c_score,
            pic_score,
            decision_confidence,
        }
    }
}

/// A dataset scanned, embedded and turned into genuine/impostor scores.
pub struct Collected {
    pub dataset: dataset::Dataset,
    pub info: file::DatasetInfo,
    pub pairs: dataset::PairInfo,
    pub scores: ScoreSet,
    pub cache_hits: usize,
}

/// Options for [`collect`].
#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// An LFW-style pairs list instead of all pairs.
    pub pairs_file: Option<PathBuf>,
    pub max_impostors: usize,
    pub seed: u64,
    pub cache: dataset::EmbeddingCache,
}

/// Scan `dir`, embed every image needed (cached), form the pairs and score them.
pub fn collect(
    pipeline: &crate::pipeline::Pipeline,
    dir: &std::path::Path,
    opts: &CollectOptions,
    ctl: crate::progress::Ctl,
) -> Result<Collected> {
    let ds = dataset::Dataset::scan(dir, ctl)?;
    let list = opts
        .pairs_file
        .as_deref()
        .map(|p| dataset::read_pairs(p, &ds))
        .transpose()?;
    let wanted = match &list {
        Some(l) => dataset::images_of(&l.pairs),
        None => (0..ds.images.len()).collect(),
    };
    let embedded = dataset::embed_images(pipeline, &ds, &wanted, &opts.cache, ctl)?;
    let (pairs, pair_info) = match &list {
        Some(l) => dataset::listed_pairs(l, &embedded),
        None => dataset::all_pairs(&ds, &embedded, opts.max_impostors, opts.seed),
    };
    let scores = dataset::score_pairs(&pairs, &embedded);
    let info = file::DatasetInfo {
        name: ds.name.clone(),
        sha256: ds.sha256.clone(),
        identities: ds.identities.len(),
        images: ds.images.len(),
        images_used: embedded.embeddings.iter().filter(|e| e.is_some()).count(),
        pairs_file: list.as_ref().map(|l| file::PairsFileInfo {
            name: l.name.clone(),
            sha256: l.sha256.clone(),
        }),
        skipped: embedded.skipped.clone(),
    };
    Ok(Collected {
        dataset: ds,
        info,
        pairs: pair_info,
        scores,
        cache_hits: embedded.cache_hits,
    })
}

/// The calibration file for collected scores: threshold by `rule`, C-Score
/// sigmoid on `bins` histogram bins, PIC densities.
pub fn calibrate(
    pipeline: &crate::pipeline::Pipeline,
    c: &Collected,
    rule: ThresholdRule,
    bins: usize,
) -> Result<CalibrationFile> {
    let fitted = Fitted::fit(&c.scores, rule, bins)?;
    let detector = pipeline
        .store
        .manifest
        .entry("yunet")
        .map(|e| crate::pipeline::ModelRef {
            name: e.name.clone(),
            sha256: e.sha256.clone(),
        })?;
    Ok(CalibrationFile {
        schema: CALIBRATION_SCHEMA.into(),
        tool: file::Tool::default(),
        model: pipeline.model.clone(),
        detector,
        dataset: c.info.clone(),
        pairs: c.pairs.clone(),
        fitted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[test]
    fn threshold_rules_and_their_limits() {
        let s = ScoreSet::new(linspace(0.3, 1.0, 500), linspace(-0.3, 0.5, 5000));
        let eer = Fitted::fit(&s, ThresholdRule::Eer, 400).unwrap();
        assert_eq!(eer.threshold.similarity, s.eer().unwrap().at.threshold);
        assert_eq!(eer.threshold.rule, "eer");
        let f = Fitted::fit(&s, ThresholdRule::Fmr(0.01), 400).unwrap();
        // 1 % of 5000 impostors: the 50 highest are accepted, the 51st is not.
        let imp = &s.impostor;
        assert!(f.threshold.similarity > imp[4949] && f.threshold.similarity <= imp[4950]);
        assert_eq!(f.threshold.fmr, 0.01);
        assert_eq!(f.threshold.rule, "fmr<=0.01");
        assert!((f.threshold.distance - (1.0 - f.threshold.similarity)).abs() < 1e-15);
        let e = Fitted::fit(&s, ThresholdRule::Fmr(1e-5), 400).unwrap_err();
        assert!(
            matches!(e, CalibrationError::NotMeasurable(_)) && e.to_string().contains("100000"),
            "{e}"
        );
        let tiny = ScoreSet::new(vec![0.9], vec![0.1, 0.2]);
        assert!(matches!(
            Fitted::fit(&tiny, ThresholdRule::Eer, 400),
            Err(CalibrationError::TooFewPairs(_))
        ));
    }

    #[test]
    fn confidences_are_high_far_from_the_threshold_and_follow_the_decision() {
        let s = ScoreSet::new(linspace(0.3, 1.0, 500), linspace(-0.3, 0.5, 5000));
        let f = Fitted::fit(&s, ThresholdRule::Eer, 400).unwrap();
        let hi = f.scores(0.95, f.decide(0.95));
        let lo = f.scores(-0.2, f.decide(-0.2));
        assert_eq!(f.decide(0.95), Decision::Match);
        assert!(hi.c_score > 0.95 && hi.decision_confidence > 0.95, "{hi:?}");
        assert!(
            lo.c_score > 0.95 && lo.decision_confidence > 0.95 && lo.pic_score < 0.05,
            "{lo:?}"
        );
        // Near the threshold the classes overlap: neither score is sure.
        let t = f.threshold.similarity;
        let mid = f.scores(t, f.decide(t));
        assert!(
            mid.c_score < 0.9 && mid.decision_confidence < 0.9,
            "{mid:?}"
        );
    }
}
