//! `facexplain report --analysis A.json [--out report.html]`: the examiner's
//! self-contained, printable HTML report of an analysis; `--case C.fxcase`
//! reports a case's analysis with its case sections (header, notes, both
//! conclusions, audit trail and its status) and logs the export in the case.

use super::BadInput;
use crate::record::case::now_utc;
use crate::record::{Analysis, Case};
use crate::report::{self, CaseReport, ReportOptions, html::utc_date_time};
use crate::resources::hash::{sha256_file, sha256_hex};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The analysis JSON written by `facexplain compare --json` (with `--explain`
    /// its crops and maps are embedded too).
    #[arg(long, required_unless_present = "case", conflicts_with = "case")]
    pub analysis: Option<PathBuf>,
    /// A case file (.fxcase): report its analysis with the case's sections;
    /// the export is appended to its audit trail (unless the trail is broken).
    #[arg(long, value_name = "FILE")]
    pub case: Option<PathBuf>,
    /// Where to write the HTML report [default: the analysis file's name with .html].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print no report date and time, so the same inputs give a byte-identical file.
    #[arg(long, conflicts_with = "timestamp")]
    pub no_timestamp: bool,
    /// Print this as the report's date and time instead of the current UTC time.
    #[arg(long, value_name = "TEXT")]
    pub timestamp: Option<String>,
    /// Folder holding the aligned crops and maps, when moved away from where
    /// the analysis says they are.
    #[arg(long, value_name = "DIR")]
    pub maps_dir: Option<PathBuf>,
}

pub fn run(a: ReportArgs) -> anyhow::Result<()> {
    let input = match (&a.case, &a.analysis) {
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) => return Err(BadInput("give --analysis or --case".into()).into()),
    };
    let sha = sha256_file(&input)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", input.display())))?;
    let (analysis, case) = match &a.case {
        Some(_) => {
            let opened = Case::read(&input)?;
            let mut analysis = opened.case.analysis.clone();
            let before = analysis.maps.len();
            analysis.maps.retain(|m| !m.files.is_empty());
            let case = CaseReport {
                maps_not_exported: before - analysis.maps.len(),
                opened,
                source: (input.display().to_string(), sha.clone()),
            };
            (analysis, Some(case))
        }
        None => (Analysis::read(&input)?, None),
    };
    let timestamp = match (a.no_timestamp, a.timestamp) {
        (true, _) => None,
        (false, Some(t)) => Some(t),
        (false, None) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            Some(utc_date_time(now))
        }
    };
    let options = ReportOptions {
        timestamp,
        maps_dir: a.maps_dir,
        source: case.is_none().then(|| (input.display().to_string(), sha)),
        case,
    };
    let base_dir = input.parent().unwrap_or(Path::new(""));
    let html = report::render(&analysis, base_dir, &options).map_err(|e| {
        BadInput(format!(
            "cannot make the report of {}: {e}",
            input.display()
        ))
    })?;
    let out = a.out.unwrap_or_else(|| input.with_extension("html"));
    if out
        .canonicalize()
        .ok()
        .is_some_and(|o| input.canonicalize().ok() == Some(o))
    {
        return Err(BadInput(format!(
            "{}: --out is the analysis file itself; choose another file for the report",
            out.display()
        ))
        .into());
    }
    crate::record::safe_write::write_atomic(&out, html.as_bytes())
        .map_err(|e| BadInput(format!("{}: cannot write the report: {e}", out.display())))?;
    println!("report written to {}", out.display());
    if let Some(r) = &options.case {
        log_export(&input, r, &out, &html)?;
    }
    Ok(())
}

/// Append "report exported" (the report's file and SHA-256) to the case's
/// audit trail; a broken trail is left as it is, and said so.
fn log_export(path: &Path, r: &CaseReport, out: &Path, html: &str) -> anyhow::Result<()> {
    if let Some(w) = r.opened.warning() {
        eprintln!("{}: {w}; the export is not logged in it", path.display());
        return Ok(());
    }
    let mut case = r.opened.case.clone();
    let hashes = [("report".to_string(), sha256_hex(html.as_bytes()))].into();
    let details = format!("HTML report written to {}", out.display());
    case.log(&now_utc(), "report exported", &details, hashes);
    case.write(path)?;
    println!("export logged in the audit trail of {}", path.display());
    Ok(())
}
