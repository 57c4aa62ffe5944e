//! The analysis record (`schema: "facexplain.analysis/1"`): everything a
//! comparison found, written as JSON by `compare --json`, read by `ask`,
//! `report` and the chat. Later layers fill the optional parts: the pipeline
//! builds the basic record (`Analysis::new` in `pipeline`), the calibration
//! layer adds confidences (`Analysis::of_pair` in `calibration`), `explain`
//! adds maps, tables and their parameters.

use super::check::FieldError;
use super::error::RecordError;
use super::explanation::ExplanationRecord;
use super::face::{Decision, Face, ModelRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest analysis file read, bytes (a real one is a few tens of kilobytes).
pub const MAX_ANALYSIS_BYTES: u64 = 64 << 20;

/// Schema identifier of analysis files this build writes and reads.
pub const ANALYSIS_SCHEMA: &str = "facexplain.analysis/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Software {
    pub name: String,
    pub version: String,
}

impl Default for Software {
    fn default() -> Self {
        Software {
            name: crate::SOFTWARE_NAME.into(),
            version: crate::SOFTWARE_VERSION.into(),
        }
    }
}

/// One input image and the face used from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub path: String,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub file_size: u64,
    pub faces_found: usize,
    /// Index of the face used (0 = largest).
    pub face_index: usize,
    pub face: Face,
    /// Fitness of the face for comparison (`None` when not assessed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<super::quality::FaceQuality>,
}

/// Which calibration produced the confidences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRef {
    pub name: String,
    pub sha256: String,
}

/// Calibrated confidences (C-Score of Knoche et al., PIC-Score of Neto et al.).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    pub c_score: f64,
    pub pic_score: f64,
    /// Probability that this decision is right (PIC for a match, 1−PIC otherwise).
    pub decision_confidence: f64,
    /// Prior probability of a genuine pair behind the PIC-Score (0.5 = equal priors).
    #[serde(default = "equal_prior")]
    pub pic_prior: f64,
    pub calibration: CalibrationRef,
}

fn equal_prior() -> f64 {
    0.5
}

/// One region's row of an explainability table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub region: String,
    /// Level per method, 1 = most important … 5 = least.
    pub levels: BTreeMap<String, u8>,
    pub mean: f64,
    pub ratio_of_ones: f64,
}

/// The explainability table: regions ranked by lowest mean level, ties by ratio of 1s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainabilityTable {
    pub methods: Vec<String>,
    pub rows: Vec<TableRow>,
}

/// One saliency map written by `compare --explain`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapRecord {
    /// e.g. "xmap-I", "S0-", "AVG".
    pub name: String,
    /// Which face (0 = first image, 1 = second).
    pub image: usize,
    /// Files written, by kind ("npy", "blend", "overlay").
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// SHA-256 of each file written, by the same kinds: the files can be
    /// checked against the analysis later.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sha256: BTreeMap<String, String>,
}

/// Everything one comparison found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub schema: String,
    pub software: Software,
    pub model: ModelRef,
    pub images: Vec<ImageRecord>,
    pub similarity: f32,
    pub threshold: f32,
    /// Where the threshold came from (calibration file, manifest default, user).
    pub threshold_source: String,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// The likelihood ratio for Hp vs Hd, bounded, with its verbal equivalent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explainability_table: Option<ExplainabilityTable>,
    /// The same table built from the X-Maps (similar / dissimilar regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmap_table: Option<ExplainabilityTable>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maps: Vec<MapRecord>,
    /// The explanation's files and the parameters of every method run.
    #[serde(default, skip_serializing_if = "ExplanationRecord::is_empty")]
    pub parameters: ExplanationRecord,
    /// Wall time per stage in milliseconds.
    #[serde(default)]
    pub timings_ms: BTreeMap<String, f64>,
    /// Every recogniser's verdict when several were run (`compare --models`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<super::ModelVerdict>,
}

impl Analysis {
    /// The record of a basic comparison: both images, the similarity, the
    /// threshold with its source, and the decision they give.
    pub fn from_parts(
        model: ModelRef,
        images: [ImageRecord; 2],
        similarity: f32,
        threshold: f32,
        threshold_source: &str,
    ) -> Analysis {
        Analysis {
            schema: ANALYSIS_SCHEMA.into(),
            software: Software::default(),
            model,
            images: images.into(),
            similarity,
            threshold,
            threshold_source: threshold_source.into(),
            decision: Decision::at(similarity, threshold),
            confidence: None,
            evidence: None,
            explainability_table: None,
            xmap_table: None,
            maps: Vec::new(),
            parameters: ExplanationRecord::default(),
            timings_ms: BTreeMap::new(),
            models: Vec::new(),
        }
    }

    /// Read an analysis file; a malformed, foreign, oversized or out-of-bounds
    /// file is a clear error naming the file (and the field).
    pub fn read(path: &Path) -> Result<Analysis, RecordError> {
        let bad = |reason: String| RecordError::BadFile {
            path: PathBuf::from(path),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| bad(format!("cannot read the analysis file: {e}")))?
            .len();
        if size > MAX_ANALYSIS_BYTES {
            return Err(bad(format!(
                "{size} bytes is too large for an analysis file (at most {MAX_ANALYSIS_BYTES})"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read the analysis file: {e}")))?;
        let a: Analysis = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not a valid analysis JSON: {e}")))?;
        if a.schema != ANALYSIS_SCHEMA {
            return Err(bad(format!(
                "schema is {:?}, expected {ANALYSIS_SCHEMA:?}",
                a.schema
            )));
        }
        a.check().map_err(|e| RecordError::BadField {
            path: PathBuf::from(path),
            field: e.field,
            reason: e.reason,
        })?;
        Ok(a)
    }

    /// Check every value later code trusts against the image it refers to
    /// and sane limits ([`super::check`]); [`Analysis::read`] does.
    pub fn check(&self) -> Result<(), FieldError> {
        super::check::check(self)
    }

    /// Write as pretty JSON, safely (temporary file + rename).
    pub fn write(&self, path: &Path) -> Result<(), RecordError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| RecordError::BadFile {
            path: path.into(),
            reason: e.to_string(),
        })?;
        super::safe_write::write_atomic(path, (text + "\n").as_bytes()).map_err(|e| {
            RecordError::BadFile {
                path: path.into(),
                reason: format!("cannot write: {e}"),
            }
        })
    }
}
