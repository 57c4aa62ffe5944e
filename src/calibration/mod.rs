//! Calibrated confidence for verification decisions, at run time: the
//! calibration file ([`file`]) with its decision threshold, the C-Score of
//! Knoche et al. ([`cscore`]) and the PIC-Score of Neto et al. ([`pic`],
//! over tabulated densities, [`kde`]), and the analysis of a pair with them
//! ([`assess`]); likelihood ratios with their ELUB bounds ([`lr`]) and the
//! ENFSI verbal scale ([`verbal`]). Fitting a calibration on a labelled
//! dataset and measuring it live apart in [`fit`]; only `calibrate` and
//! `eval` use that.
//!
//! May call: `record`, `resources`, `progress`; [`assess`] and [`fit`] also
//! `pipeline` (they run the models). The rest never touches a model.

pub mod assess;
pub mod cscore;
pub mod error;
pub mod file;
pub mod fit;
pub mod kde;
pub mod lr;
pub mod pic;
pub mod verbal;

pub use error::{CalibrationError, Result};
pub use file::{CALIBRATION_SCHEMA, Calibration, CalibrationFile};

use crate::record::Decision;
use cscore::SigmoidFit;
use pic::PicModel;
use serde::{Deserialize, Serialize};

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

/// A fitted calibration: threshold, C-Score sigmoid, PIC densities, and
/// (schema 2) the likelihood-ratio calibrators with their bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fitted {
    pub threshold: Threshold,
    pub c_score: CScoreModel,
    pub pic: PicModel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likelihood_ratio: Option<lr::LrModel>,
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
