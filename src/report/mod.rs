//! The examiner's report (SPEC §Report): one self-contained, printable HTML
//! file with an analysis's facts, parameters and hashes, the two photographs,
//! the aligned crops and every map embedded as `data:` URIs. No scripts, no
//! external resources. It reproduces the analysis record and recomputes
//! nothing; the only varying content is the optional time stamp.
//!
//! - [`gather`]: reads and checks every file the report embeds (paths probed,
//!   SHA-256 compared, PNGs decoded) before anything is written;
//! - [`draw`]: the pixels (thumbnail with the face box);
//! - `page`: the HTML, a maud template, with `assets/report/report.css`;
//! - [`html`]: `data:` URIs and the UTC time stamp.
//!
//! May call: `record`, `pipeline` (image decoding, SHA-256).

pub mod draw;
pub mod gather;
pub mod html;
mod page;

pub use page::case::CaseReport;

use crate::record::Analysis;
use std::path::{Path, PathBuf};

/// Longest side of the embedded thumbnails of the original photographs, pixels.
pub const THUMBNAIL_SIDE: u32 = 480;

/// Errors of the report: each names the file or the record at fault.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file the analysis refers to is missing, unreadable or altered.
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// The analysis record itself is inconsistent.
    #[error("the analysis record is inconsistent: {0}")]
    Record(String),
}

/// How to make the report.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// Date and time of the report as printed; `None` prints none, so the same
    /// inputs give a byte-identical file.
    pub timestamp: Option<String>,
    /// Folder holding the crops and maps, when they no longer are where the
    /// analysis says (default: found from the recorded crop paths).
    pub maps_dir: Option<PathBuf>,
    /// The analysis file the report is made from: path as given and SHA-256.
    pub source: Option<(String, String)>,
    /// The case the report is made for (its header, notes, conclusions and audit trail).
    pub case: Option<CaseReport>,
}

/// Make the report of `analysis`. `base_dir` is the analysis file's folder
/// (where map folders are looked for when not at their recorded paths).
/// A referenced crop or map that is missing or not a valid PNG of the crop's
/// size is an error naming the file; absent parts are stated as absent.
pub fn render(
    analysis: &Analysis,
    base_dir: &Path,
    opts: &ReportOptions,
) -> Result<String, ReportError> {
    let gathered = gather::gather(analysis, base_dir, opts)?;
    Ok(page::page(analysis, &gathered, opts).into_string())
}
