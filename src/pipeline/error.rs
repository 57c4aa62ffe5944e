//! Errors of the pipeline layer: each names the file and the problem.

use crate::resources::ResourceError;
use std::path::PathBuf;

/// Everything that can go wrong between a file on disk and a similarity score.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{path}: cannot read the file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty (0 bytes)")]
    Empty { path: PathBuf },
    #[error("{path}: not a supported image (JPEG, PNG, WebP, BMP, TIFF, PGM/PPM): {reason}")]
    NotAnImage { path: PathBuf, reason: String },
    #[error("{path}: the image is corrupt or truncated: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path}: the image is too large ({detail}); the limits are {limit} pixels per side and {max_mb} MB decoded"
    )]
    TooLarge {
        path: PathBuf,
        detail: String,
        limit: u32,
        max_mb: u64,
    },
    /// `hint`: empty, or a sentence (with its leading space) on a likely cause.
    #[error("{path}: no face was found in the image{hint}")]
    NoFace { path: PathBuf, hint: String },
    #[error("{path}: face #{index} was asked for, but only {found} face(s) were found")]
    FaceIndex {
        path: PathBuf,
        index: usize,
        found: usize,
    },
    #[error(
        "model file {file} is missing (expected sha256 {expected}); run `{fix}` to fetch the models"
    )]
    ModelMissing {
        file: PathBuf,
        expected: String,
        fix: String,
    },
    #[error(
        "model file {file} has sha256 {actual}, expected {expected}: the file is altered or corrupt; run `{fix}` to fetch it again"
    )]
    ModelHash {
        file: PathBuf,
        expected: String,
        actual: String,
        fix: String,
    },
    #[error("model manifest {file}: {reason}")]
    Manifest { file: PathBuf, reason: String },
    #[error("ONNX Runtime library: {0}")]
    Runtime(String),
    #[error("model {model}: inference failed: {reason}")]
    Inference { model: String, reason: String },
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("no face recogniser called {name:?} (known: {known}; `facexplain models list`)")]
    UnknownModel { name: String, known: String },
    #[error("cancelled")]
    Cancelled,
}

impl From<crate::progress::Cancelled> for PipelineError {
    fn from(_: crate::progress::Cancelled) -> Self {
        PipelineError::Cancelled
    }
}

/// A model problem keeps its own variant, so callers match it as before.
impl From<ResourceError> for PipelineError {
    fn from(e: ResourceError) -> Self {
        match e {
            ResourceError::ModelMissing {
                file,
                expected,
                fix,
            } => PipelineError::ModelMissing {
                file,
                expected,
                fix,
            },
            ResourceError::ModelHash {
                file,
                expected,
                actual,
                fix,
            } => PipelineError::ModelHash {
                file,
                expected,
                actual,
                fix,
            },
            ResourceError::Manifest { file, reason } => PipelineError::Manifest { file, reason },
        }
    }
}

impl PipelineError {
    /// True when the user's input (an image, a parameter, a data file) is at
    /// fault rather than the installation: the CLI exits with 2 for these.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            PipelineError::Read { .. }
                | PipelineError::Empty { .. }
                | PipelineError::NotAnImage { .. }
                | PipelineError::Corrupt { .. }
                | PipelineError::TooLarge { .. }
                | PipelineError::NoFace { .. }
                | PipelineError::FaceIndex { .. }
                | PipelineError::BadFile { .. }
                | PipelineError::UnknownModel { .. }
        )
    }
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
