//! Fitting and measuring calibrations over labelled datasets; only
//! `calibrate`, `eval` and the explorer (`explore/`) use this. An analysis at run time needs only the
//! calibration file and its score lookups (the parent module).
//!
//! - [`dataset`]: scanning a dataset folder; [`pairs_list`]: reading a
//!   pairs list (LFW `pairs.txt` or CSV `a,b[,label]`);
//! - [`embedding`]: embedding its images, with an on-disk cache, on
//!   [`image_workers`] side by side, or from [`embedding_files`] made
//!   elsewhere ([`shard`]s of the data set);
//! - [`pairs`]: forming genuine/impostor pairs and scoring them;
//! - [`calibrate`]: choosing the threshold and fitting the C-Score sigmoid
//!   ([`cscore`]) and the PIC densities ([`pic`], [`kde`]);
//! - [`metrics`], [`evaluate`], [`plots`]: error rates, cross-validated
//!   evaluation and the figures `eval` draws;
//! - [`lr_fit`], [`lr_eval`], [`logreg`], [`pav`], [`elub`], [`cllr`],
//!   [`lr_plots`]: the likelihood-ratio calibrators, their validation and
//!   plots; [`ranked`] and [`order`]: the one sort of a set of LRs they share.
//!
//! May call: `record`, `resources`, `progress`, `pipeline`, `quality` and
//! the runtime part of `calibration`.

pub mod calibrate;
pub mod cllr;
pub mod cscore;
pub mod dataset;
pub mod elub;
pub mod embedding;
pub mod embedding_files;
pub mod evaluate;
pub mod image_workers;
pub mod kde;
pub mod logreg;
pub mod lr_eval;
pub mod lr_fit;
pub mod lr_plots;
pub mod metrics;
pub mod order;
pub mod pairs;
pub mod pairs_list;
pub mod pav;
pub mod pic;
pub mod plots;
pub mod ranked;
pub mod shard;

pub use calibrate::{CollectOptions, Collected, ThresholdRule, calibrate, calibrate_sets, collect};
pub use metrics::ScoreSet;

use crate::calibration::CalibrationError;
use crate::pipeline::PipelineError;
use crate::resources::ResourceError;

/// What fitting a calibration over a dataset can fail with: a calibration
/// problem (bad dataset or pairs list, too few pairs, a failed fit) or a
/// pipeline one (a missing or broken model).
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// An embeddings file that cannot be used (unreadable, damaged, other models).
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
}

impl From<ResourceError> for FitError {
    fn from(e: ResourceError) -> Self {
        FitError::Pipeline(e.into())
    }
}

impl From<crate::progress::Cancelled> for FitError {
    fn from(c: crate::progress::Cancelled) -> Self {
        FitError::Calibration(c.into())
    }
}

impl FitError {
    /// True when the user's input (a file, a dataset, an option) is at fault.
    pub fn is_bad_input(&self) -> bool {
        match self {
            FitError::Calibration(e) => e.is_bad_input(),
            FitError::Pipeline(e) => e.is_bad_input(),
            FitError::Record(e) => e.is_bad_input(),
        }
    }
}
