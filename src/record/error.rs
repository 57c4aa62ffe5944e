//! Errors of the record layer: a record file that cannot be read or written.

use std::path::PathBuf;

/// A record file (analysis, later case files) that is unreadable, malformed,
/// foreign or out of bounds; the message names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    /// A value out of bounds: the file, the field (JSON path) and why.
    #[error("{path}: field {field}: {reason}")]
    BadField {
        path: PathBuf,
        field: String,
        reason: String,
    },
}

impl RecordError {
    /// Every record error is the input's fault (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        true
    }
}
