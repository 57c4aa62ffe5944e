//! The worker's part of File → Export report…: the explanation's crops and
//! maps written beside the report (as `compare --explain` writes them), then
//! the report made by the same library call as `facexplain report`
//! ([`report::render`]) and written through a temporary file.

use crate::record::OpenedCase;
use crate::report::{self, CaseReport, ReportOptions};
use crate::resources::hash::sha256_hex;
use crate::session::ReportJob;
use std::path::{Path, PathBuf};

/// Write the report of `job`: its file and the SHA-256 of its bytes.
pub fn write(job: ReportJob) -> Result<(PathBuf, String), String> {
    let ReportJob {
        path,
        mut analysis,
        explanation,
        case,
        timestamp,
    } = job;
    if let Some((ex, [a, b])) = &explanation {
        let dir = crate::explain::output::default_dir(Some(&path), [a, b]);
        analysis.maps.clear();
        analysis.timings_ms.clear();
        crate::explain::output::write(&dir, ex, &mut analysis).map_err(|e| e.to_string())?;
    }
    let case = case.map(|c| CaseReport {
        opened: OpenedCase {
            broken: c.case.check_audit(),
            case: c.case,
        },
        source: c.source,
        maps_not_exported: 0,
    });
    let options = ReportOptions {
        timestamp,
        maps_dir: None,
        source: None,
        case,
    };
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let html = report::render(&analysis, base_dir, &options).map_err(|e| e.to_string())?;
    crate::record::safe_write::write_atomic(&path, html.as_bytes())
        .map_err(|e| format!("{}: cannot write the report: {e}", path.display()))?;
    Ok((path, sha256_hex(html.as_bytes())))
}
