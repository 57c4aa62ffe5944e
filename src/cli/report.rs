//! `facexplain report --analysis A.json [--out report.html]`: the examiner's
//! self-contained, printable HTML report of an analysis.

use super::BadInput;
use crate::record::Analysis;
use crate::report::{self, ReportOptions, html::utc_date_time};
use crate::resources::hash::sha256_file;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The analysis JSON written by `facexplain compare --json` (with `--explain`
    /// its crops and maps are embedded too).
    #[arg(long)]
    pub analysis: PathBuf,
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
    let analysis = Analysis::read(&a.analysis)?;
    let sha = sha256_file(&a.analysis)
        .map_err(|e| BadInput(format!("{}: cannot read: {e}", a.analysis.display())))?;
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
        source: Some((a.analysis.display().to_string(), sha)),
    };
    let base_dir = a.analysis.parent().unwrap_or(Path::new(""));
    let html = report::render(&analysis, base_dir, &options).map_err(|e| {
        BadInput(format!(
            "cannot make the report of {}: {e}",
            a.analysis.display()
        ))
    })?;
    let out = a.out.unwrap_or_else(|| a.analysis.with_extension("html"));
    if out
        .canonicalize()
        .ok()
        .is_some_and(|o| a.analysis.canonicalize().ok() == Some(o))
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
    Ok(())
}
