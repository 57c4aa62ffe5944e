//! The calibration layer's errors, naming the file or data at fault.

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
    /// A score-to-LR calibrator that cannot be fitted on these scores.
    #[error("likelihood-ratio fit: {0}")]
    LrFit(String),
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("plot {path}: {reason}")]
    Plot { path: PathBuf, reason: String },
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
        !matches!(
            self,
            CalibrationError::Fit(_)
                | CalibrationError::LrFit(_)
                | CalibrationError::Plot { .. }
                | CalibrationError::Cancelled
        )
    }
}

pub type Result<T, E = CalibrationError> = std::result::Result<T, E>;
