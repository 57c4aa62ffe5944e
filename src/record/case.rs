//! The case record (`.fxcase`, `schema: "facexplain.case/1"`): one
//! examiner's case around one comparison — who, what files (path, SHA-256,
//! size, dimensions; never the image data), which faces, every parameter
//! with its source, the models and software with their SHA-256s, the typed
//! [`Analysis`], notes, the examiner's own conclusion, and an audit trail.
//!
//! The audit trail is hash-chained: each entry's `hash` is the SHA-256 of
//! the canonical serialisation of the entry without its `hash` (compact JSON,
//! fields in declaration order, `hashes` sorted by key), and that
//! serialisation includes `prev`, the hash of the entry before it (64 zeros
//! for the first). Each entry also seals the case content as it stood after
//! the action (`hashes["case"]`). Reading never fails on a broken chain: it
//! reports the first broken entry and marks the case read-only.

use super::analysis::{Analysis, CalibrationRef, Software};
use super::error::RecordError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Schema identifier of case files this build writes and reads.
pub const CASE_SCHEMA: &str = "facexplain.case/1";

/// Largest case file read, bytes.
pub const MAX_CASE_BYTES: u64 = 64 << 20;

/// `prev` of the first audit entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One input photograph as the case refers to it (no pixels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// The path as the examiner gave it.
    pub path: String,
    pub sha256: String,
    pub file_size: u64,
    pub width: u32,
    pub height: u32,
    /// The face used (0 = largest), as chosen or defaulted.
    pub face_index: usize,
    /// The examiner's notes on this image.
    #[serde(default)]
    pub notes: String,
}

/// Every setting the analysis ran with, and where the threshold came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseParameters {
    /// Faces asked for (`None` = the largest).
    pub face_a: Option<usize>,
    pub face_b: Option<usize>,
    /// Threshold given by the examiner (`None` = from the calibration or manifest).
    pub threshold: Option<f32>,
    /// Where the threshold used came from.
    pub threshold_source: String,
    /// Calibration file as given (`None` = the built-in one).
    pub calibration_path: Option<String>,
    /// The calibration used, by name and SHA-256.
    pub calibration: Option<CalibrationRef>,
    /// Quality thresholds file as given (`None` = the built-in one).
    pub quality_thresholds: Option<String>,
    /// Explanation methods run ("xmap", "mery"); their parameters are in
    /// the analysis (`analysis.parameters`).
    pub explain: Vec<String>,
}

/// One model file the analysis depends on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Manifest id ("sface", "yunet", …).
    pub id: String,
    pub file: String,
    pub sha256: String,
}

/// The examiner's own conclusion and when it was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conclusion {
    pub text: String,
    /// UTC time it was recorded.
    pub time: String,
}

/// One audit trail entry, hash-chained to the one before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// UTC time of the action.
    pub time: String,
    /// Software name and version that did it.
    pub software: String,
    /// What was done ("case created", "note edited", …).
    pub action: String,
    pub details: String,
    /// The relevant SHA-256s by name (inputs, models, `case` = the content after the action).
    pub hashes: BTreeMap<String, String>,
    /// `hash` of the previous entry ([`GENESIS`] for the first).
    pub prev: String,
    /// SHA-256 of this entry's canonical serialisation (see the module doc).
    pub hash: String,
}

/// The part of an entry its hash covers, in a fixed field order.
#[derive(Serialize)]
struct Sealed<'a> {
    seq: u64,
    time: &'a str,
    software: &'a str,
    action: &'a str,
    details: &'a str,
    hashes: &'a BTreeMap<String, String>,
    prev: &'a str,
}

impl AuditEntry {
    /// The SHA-256 this entry's `hash` must hold.
    pub fn compute_hash(&self) -> String {
        let sealed = Sealed {
            seq: self.seq,
            time: &self.time,
            software: &self.software,
            action: &self.action,
            details: &self.details,
            hashes: &self.hashes,
            prev: &self.prev,
        };
        // Serialising plain strings, integers and a string map cannot fail.
        let bytes = serde_json::to_vec(&sealed).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }
}

/// The current UTC time as cases record it (`YYYY-MM-DD HH:MM:SS UTC`).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    utc_date_time(secs)
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a UNIX time (proleptic Gregorian calendar).
pub fn utc_date_time(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Days since 1970-01-01 → civil date (era-based algorithm, eras of 400 years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The machine's decision in words, as a case records it beside the examiner's.
pub fn machine_decision_text(an: &Analysis) -> String {
    format!(
        "{}: similarity {} at threshold {} ({})",
        an.decision, an.similarity, an.threshold, an.threshold_source
    )
}

/// A whole case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub schema: String,
    pub case_id: String,
    pub title: String,
    pub examiner: String,
    /// UTC time the case was created.
    pub created: String,
    /// The two photographs, in comparison order (A, B).
    pub inputs: Vec<InputFile>,
    pub parameters: CaseParameters,
    /// The software that made the analysis.
    pub software: Software,
    /// Every model file the analysis used, with its SHA-256.
    pub models: Vec<ModelFile>,
    /// The machine's result, as typed in the analysis record.
    pub analysis: Analysis,
    /// Case notes (free text).
    #[serde(default)]
    pub notes: String,
    /// The examiner's conclusion, once recorded.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// Blind mode (ACE-V): the app hides the machine's decision, scores and
    /// maps until the examiner's own conclusion is recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blind: bool,
    /// The machine's decision in words and the UTC time it was recorded here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Conclusion>,
    /// UTC time the machine's result was first shown to the examiner (in
    /// blind mode: when the examiner's conclusion was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_shown: Option<String>,
    pub audit: Vec<AuditEntry>,
}

/// What reading found wrong with the audit trail (the first problem).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditBreak {
    /// Index (from 0) of the first entry that fails, or the trail's length
    /// when the entries hold but the content after them was changed.
    pub index: usize,
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {}: {}", self.index + 1, self.reason)
    }
}

/// A case as read: the record and whether its trail holds.
#[derive(Clone, Debug)]
pub struct OpenedCase {
    pub case: Case,
    /// The first break of the audit trail; `Some` opens the case read-only.
    pub broken: Option<AuditBreak>,
}

impl OpenedCase {
    /// True when the case must not be changed (its trail is broken).
    pub fn read_only(&self) -> bool {
        self.broken.is_some()
    }

    /// The warning to show for a broken trail.
    pub fn warning(&self) -> Option<String> {
        self.broken
            .as_ref()
            .map(|b| format!("the audit trail is broken at {b}; the case is opened read-only"))
    }
}

impl Case {
    /// SHA-256 of the case content (everything but the audit trail).
    pub fn content_hash(&self) -> String {
        let mut body = self.clone();
        body.audit.clear();
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    /// Append an audit entry for an action just done, at UTC `time`, with
    /// the relevant hashes; it seals the current content and chains to the
    /// last entry.
    pub fn log(
        &mut self,
        time: &str,
        action: &str,
        details: &str,
        mut hashes: BTreeMap<String, String>,
    ) {
        hashes.insert("case".into(), self.content_hash());
        let prev = self.audit.last().map_or(GENESIS.into(), |e| e.hash.clone());
        let mut entry = AuditEntry {
            seq: self.audit.len() as u64 + 1,
            time: time.into(),
            software: format!("{} {}", crate::SOFTWARE_NAME, crate::SOFTWARE_VERSION),
            action: action.into(),
            details: details.into(),
            hashes,
            prev,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        self.audit.push(entry);
    }

    /// The first break of the audit trail: an entry whose hash does not
    /// match its content (edited), whose `prev` or `seq` does not follow the
    /// entry before (removed, reordered or inserted), or content changed
    /// after the last entry sealed it. `None` when the trail holds.
    pub fn check_audit(&self) -> Option<AuditBreak> {
        let mut prev = GENESIS.to_string();
        for (i, e) in self.audit.iter().enumerate() {
            let brk = |reason: String| Some(AuditBreak { index: i, reason });
            if e.seq != i as u64 + 1 {
                return brk(format!(
                    "numbered {} where {} was expected: an entry was removed or inserted",
                    e.seq,
                    i + 1
                ));
            }
            if e.prev != prev {
                return brk(
                    "does not chain to the entry before it: an entry was removed, \
                     reordered or changed"
                        .into(),
                );
            }
            if e.compute_hash() != e.hash {
                return brk(format!(
                    "its content does not match its hash: the entry ({:?} at {}) was edited",
                    e.action, e.time
                ));
            }
            prev = e.hash.clone();
        }
        let Some(last) = self.audit.last() else {
            return Some(AuditBreak {
                index: 0,
                reason: "the audit trail is empty".into(),
            });
        };
        if last.hashes.get("case") != Some(&self.content_hash()) {
            return Some(AuditBreak {
                index: self.audit.len() - 1,
                reason: "the case content was changed after this last entry sealed it".into(),
            });
        }
        None
    }

    /// Read a case file. A malformed, foreign or oversized file is an error
    /// naming the file; a broken audit trail is not — it is reported in
    /// [`OpenedCase::broken`].
    pub fn read(path: &Path) -> Result<OpenedCase, RecordError> {
        let bad = |reason: String| RecordError::BadFile {
            path: PathBuf::from(path),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| bad(format!("cannot read the case file: {e}")))?
            .len();
        if size > MAX_CASE_BYTES {
            return Err(bad(format!(
                "{size} bytes is too large for a case file (at most {MAX_CASE_BYTES})"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read the case file: {e}")))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(CASE_SCHEMA) => {}
            other => {
                return Err(bad(format!(
                    "schema is {other:?}, expected {CASE_SCHEMA:?} (not a facexplain case file)"
                )));
            }
        }
        let case: Case = serde_json::from_value(value)
            .map_err(|e| bad(format!("not a valid case file: {e}")))?;
        if case.inputs.len() != 2 {
            return Err(RecordError::BadField {
                path: path.into(),
                field: "inputs".into(),
                reason: format!("{} input files, a case has 2", case.inputs.len()),
            });
        }
        case.analysis.check().map_err(|e| RecordError::BadField {
            path: path.into(),
            field: format!("analysis.{}", e.field),
            reason: e.reason,
        })?;
        let broken = case.check_audit();
        Ok(OpenedCase { case, broken })
    }

    /// Write as pretty JSON, safely ([`super::safe_write`]).
    pub fn write(&self, path: &Path) -> Result<(), RecordError> {
        self.write_with(path, || Ok(()))
    }

    /// [`Case::write`] with a hook run just before the new file replaces the
    /// old one (fault injection: an error there leaves the old file intact).
    pub fn write_with(
        &self,
        path: &Path,
        before_rename: impl FnOnce() -> std::io::Result<()>,
    ) -> Result<(), RecordError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| RecordError::BadFile {
            path: path.into(),
            reason: e.to_string(),
        })?;
        super::safe_write::write_atomic_with(path, (text + "\n").as_bytes(), before_rename).map_err(
            |e| RecordError::BadFile {
                path: path.into(),
                reason: format!("cannot write the case file: {e}"),
            },
        )
    }
}
