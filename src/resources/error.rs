//! Errors of the resources layer: a missing, altered or unreadable shipped
//! file, named with the fix.

use std::path::PathBuf;

/// A model or manifest that is missing, altered or unreadable.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
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
}

impl ResourceError {
    /// Always false: a broken installation is not the user's input.
    pub fn is_bad_input(&self) -> bool {
        false
    }
}

pub type Result<T, E = ResourceError> = std::result::Result<T, E>;
