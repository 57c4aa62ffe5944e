//! The explorer's table written as CSV (one row per pair, header first,
//! sampling and quality thresholds stated in `#` lines above it) and as
//! JSON (sampling, quality thresholds, summary, rows). Besides the table's
//! columns each row has its pair quality verdict (the worse face's).

use super::{Row, Table};
use crate::calibration::fit::FitError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Schema of the explorer's JSON export.
pub const EXPLORE_SCHEMA: &str = "facexplain.explore/2";

/// What building or writing the explorer's table can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The data set, pairs list, calibration or a model is at fault.
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
}

impl ExploreError {
    /// True when the user's input (a file, a data set, an option) is at fault.
    pub fn is_bad_input(&self) -> bool {
        match self {
            ExploreError::Fit(e) => e.is_bad_input(),
            ExploreError::Write { .. } => true,
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

#[derive(Serialize)]
struct Export<'a> {
    schema: &'static str,
    dataset: &'a crate::calibration::file::DatasetInfo,
    pairs: &'a crate::calibration::file::PairInfo,
    threshold_source: &'a str,
    calibration: Option<&'a str>,
    /// The thresholds behind the quality verdicts (`None`: not assessed).
    quality_thresholds: Option<&'a str>,
    summary: super::Summary,
    rows: Vec<JsonRow<'a>>,
}

/// A row and its pair quality verdict.
#[derive(Serialize)]
struct JsonRow<'a> {
    #[serde(flatten)]
    row: &'a Row,
    quality: Option<crate::record::Verdict>,
}

fn write(path: &Path, text: &str) -> Result<(), ExploreError> {
    std::fs::write(path, text).map_err(|e| ExploreError::Write {
        path: path.into(),
        reason: e.to_string(),
    })
}

impl Table {
    /// How the pairs were chosen, in one line (for the CLI and the exports).
    pub fn sampling(&self) -> String {
        let p = &self.pairs;
        let mut s = format!(
            "{} genuine and {} impostor pairs ({} of {} impostor pairs available",
            p.genuine, p.impostor, p.selection, p.impostor_available
        );
        if let Some(seed) = p.seed {
            s.push_str(&format!(", seed {seed}"));
        }
        if p.dropped > 0 {
            s.push_str(&format!(
                ", {} listed pairs without a score: an image missing or failed",
                p.dropped
            ));
        }
        s.push(')');
        s
    }

    /// How the quality verdicts were decided, in one line.
    pub fn quality_source(&self) -> String {
        match &self.quality {
            Some(t) => format!("quality verdicts by thresholds {t}"),
            None => "no quality verdicts (FaceMesh not available)".into(),
        }
    }

    /// The rows as CSV, the sampling, threshold and quality thresholds
    /// stated in `#` lines first.
    pub fn csv(&self, rows: &[&Row]) -> String {
        let mut out = format!(
            "# facexplain explore: {}, {}\n# threshold {} ({})\n# {}\n",
            self.dataset.name,
            self.sampling(),
            self.threshold,
            self.threshold_source,
            self.quality_source()
        );
        let names: Vec<&str> = super::Column::ALL.iter().map(|c| c.name()).collect();
        out.push_str(&names.join(","));
        out.push_str(",quality,verbal,failed\n");
        let verdict = |v: Option<crate::record::Verdict>| v.map_or("", |v| v.as_str()).to_string();
        for r in rows {
            let cells = [
                r.id.to_string(),
                field(&r.file_a),
                field(&r.file_b),
                field(&r.identity_a),
                field(&r.identity_b),
                r.label().to_string(),
                verdict(r.quality_a),
                verdict(r.quality_b),
                num(r.similarity),
                r.decision.map_or("", |d| d.as_str()).to_string(),
                r.correct.map_or(String::new(), |c| c.to_string()),
                num(r.c_score),
                num(r.pic_score),
                num(r.log10_lr),
                verdict(r.quality()),
                field(r.verbal.as_deref().unwrap_or("")),
                field(r.failed.as_deref().unwrap_or("")),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// The sampling, summary and rows as pretty JSON.
    pub fn json(&self, rows: &[&Row]) -> String {
        let e = Export {
            schema: EXPLORE_SCHEMA,
            dataset: &self.dataset,
            pairs: &self.pairs,
            threshold_source: &self.threshold_source,
            calibration: self.calibration.as_ref().map(|c| c.name.as_str()),
            quality_thresholds: self.quality.as_deref(),
            summary: self.summary(),
            rows: rows
                .iter()
                .map(|&row| JsonRow {
                    row,
                    quality: row.quality(),
                })
                .collect(),
        };
        // Plain data (strings, finite numbers): serialisation cannot fail.
        serde_json::to_string_pretty(&e).unwrap_or_default()
    }

    pub fn write_csv(&self, rows: &[&Row], path: &Path) -> Result<(), ExploreError> {
        write(path, &self.csv(rows))
    }

    pub fn write_json(&self, rows: &[&Row], path: &Path) -> Result<(), ExploreError> {
        write(path, &self.json(rows))
    }
}
