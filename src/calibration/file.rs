//! The calibration file (`schema: "facexplain.calibration/1"`): which model
//! and data it came from, the threshold, the C-Score sigmoid and the PIC
//! densities. One for SFace on ORL is compiled in as the default.

use super::{CalibrationError, Fitted, Result};
use crate::record::{CalibrationRef, Confidence, Decision, ModelRef};
use crate::resources::hash::sha256_hex;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Schema identifier of calibration files this build writes and reads.
pub const CALIBRATION_SCHEMA: &str = "facexplain.calibration/1";
/// The default calibration (SFace on ORL), compiled in.
pub const BUILTIN_JSON: &str = include_str!("../../assets/calibration/sface-orl.json");
/// Name of the compiled-in calibration.
pub const BUILTIN_NAME: &str = "sface-orl (built-in)";

/// The program that wrote a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: crate::SOFTWARE_NAME.into(),
            version: crate::SOFTWARE_VERSION.into(),
        }
    }
}

/// An image left out of the calibration and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedImage {
    pub path: String,
    pub reason: String,
}

/// How the pairs were formed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairInfo {
    pub genuine: usize,
    pub impostor: usize,
    /// Impostor pairs available before any sampling.
    pub impostor_available: u64,
    /// "all", "seeded random sample" or "pairs list".
    pub selection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Pairs of the list dropped because an image was skipped.
    #[serde(default)]
    pub dropped: usize,
}

/// A pairs list a calibration used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairsFileInfo {
    pub name: String,
    pub sha256: String,
}

/// The data a calibration came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetInfo {
    /// The dataset folder's name.
    pub name: String,
    /// SHA-256 over its sorted (relative path, file SHA-256) list.
    pub sha256: String,
    pub identities: usize,
    pub images: usize,
    /// Images with a face that were used.
    pub images_used: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs_file: Option<PairsFileInfo>,
    /// Images left out (no face, unreadable), with the reason.
    pub skipped: Vec<SkippedImage>,
}

/// Everything in a calibration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFile {
    pub schema: String,
    pub tool: Tool,
    /// The recogniser the scores came from.
    pub model: ModelRef,
    /// The face detector used to find and align the faces.
    pub detector: ModelRef,
    pub dataset: DatasetInfo,
    pub pairs: PairInfo,
    #[serde(flatten)]
    pub fitted: Fitted,
}

/// Top-level keys of a calibration file (anything else is refused).
const KEYS: &[&str] = &[
    "schema",
    "tool",
    "model",
    "detector",
    "dataset",
    "pairs",
    "threshold",
    "c_score",
    "pic",
];

impl CalibrationFile {
    /// Pretty JSON with a final newline: the exact bytes written to disk.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| CalibrationError::Fit(format!("cannot serialise the calibration: {e}")))
    }

    /// Parse and check a calibration; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<CalibrationFile> {
        let bad = |reason: String| CalibrationError::BadFile {
            path: origin.into(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| bad("expected a JSON object".into()))?;
        match obj.get("schema").and_then(|s| s.as_str()) {
            Some(CALIBRATION_SCHEMA) => {}
            Some(other) => {
                return Err(bad(format!(
                    "schema is {other:?}, this build reads {CALIBRATION_SCHEMA:?}"
                )));
            }
            None => {
                return Err(bad(format!(
                    "no \"schema\" field; expected {CALIBRATION_SCHEMA:?}"
                )));
            }
        }
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!("unknown field {k:?}")));
        }
        let file: CalibrationFile = serde_json::from_value(value)
            .map_err(|e| bad(format!("not a valid calibration: {e}")))?;
        file.fitted.pic.check().map_err(bad)?;
        let t = &file.fitted.threshold;
        if !(t.similarity.is_finite() && (-1.0..=1.0).contains(&t.similarity)) {
            return Err(bad(format!(
                "threshold.similarity is {}, expected a value in [-1, 1]",
                t.similarity
            )));
        }
        if !file
            .fitted
            .c_score
            .fit
            .params
            .to_array()
            .iter()
            .all(|v| v.is_finite())
        {
            return Err(bad("c_score parameters must be finite numbers".into()));
        }
        Ok(file)
    }
}

/// A calibration in use: its contents, name and the SHA-256 of its bytes.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub file: CalibrationFile,
    pub name: String,
    pub sha256: String,
}

impl Calibration {
    /// Read a calibration file; malformed or foreign files are a clear error.
    pub fn read(path: &Path) -> Result<Calibration> {
        let bytes = std::fs::read(path).map_err(|e| CalibrationError::BadFile {
            path: path.into(),
            reason: format!("cannot read: {e}"),
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CalibrationError::BadFile {
            path: path.into(),
            reason: "not UTF-8 text".into(),
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Calibration {
            file: CalibrationFile::parse(text, path)?,
            name,
            sha256: sha256_hex(&bytes),
        })
    }

    /// The compiled-in default calibration (SFace on ORL).
    pub fn builtin() -> Result<Calibration> {
        let file =
            CalibrationFile::parse(BUILTIN_JSON, Path::new("assets/calibration/sface-orl.json"))?;
        Ok(Calibration {
            file,
            name: BUILTIN_NAME.into(),
            sha256: sha256_hex(BUILTIN_JSON.as_bytes()),
        })
    }

    /// The default calibration, refused unless it was made for `model`.
    pub fn default_for(model: &ModelRef) -> Result<Calibration> {
        let c = Self::builtin()?;
        c.check_model(model)?;
        Ok(c)
    }

    /// `--calibration FILE` if given, else the default; either must match `model`.
    pub fn choose(path: Option<&Path>, model: &ModelRef) -> Result<Calibration> {
        let c = match path {
            Some(p) => Self::read(p)?,
            None => Self::builtin()?,
        };
        c.check_model(model)?;
        Ok(c)
    }

    /// Refuse a calibration made for another model file.
    pub fn check_model(&self, model: &ModelRef) -> Result<()> {
        if self.file.model.sha256 != model.sha256 {
            return Err(CalibrationError::ModelMismatch {
                name: self.name.clone(),
                calibrated_model: self.file.model.name.clone(),
                calibrated_sha256: self.file.model.sha256.clone(),
                model: model.name.clone(),
                model_sha256: model.sha256.clone(),
            });
        }
        Ok(())
    }

    /// The decision threshold on cosine similarity.
    pub fn threshold(&self) -> f32 {
        self.file.fitted.threshold.similarity as f32
    }

    /// Where the threshold came from, for the analysis record.
    pub fn threshold_source(&self) -> String {
        let t = &self.file.fitted.threshold;
        format!(
            "calibration {}: {} on dataset {}, FMR {:.4}, FNMR {:.4}",
            self.name, t.rule, self.file.dataset.name, t.fmr, t.fnmr
        )
    }

    /// C-Score, PIC-Score and the probability that `decision` is right.
    pub fn confidence(&self, similarity: f32, decision: Decision) -> Confidence {
        let s = self.file.fitted.scores(similarity as f64, decision);
        Confidence {
            c_score: s.c_score,
            pic_score: s.pic_score,
            decision_confidence: s.decision_confidence,
            pic_prior: self.file.fitted.pic.prior_genuine,
            calibration: CalibrationRef {
                name: self.name.clone(),
                sha256: self.sha256.clone(),
            },
        }
    }

    /// Write the file's exact bytes to `path`.
    pub fn write_file(file: &CalibrationFile, path: &Path) -> Result<String> {
        let text = file.to_json()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CalibrationError::Write {
                path: PathBuf::from(path),
                reason: e.to_string(),
            })?;
        }
        std::fs::write(path, &text).map_err(|e| CalibrationError::Write {
            path: path.into(),
            reason: e.to_string(),
        })?;
        Ok(sha256_hex(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ModelRef {
        let b = Calibration::builtin().unwrap();
        b.file.model.clone()
    }

    #[test]
    fn builtin_round_trips_to_the_same_bytes() {
        let b = Calibration::builtin().unwrap();
        assert_eq!(b.file.to_json().unwrap(), BUILTIN_JSON);
        assert_eq!(b.sha256, sha256_hex(BUILTIN_JSON.as_bytes()));
        assert_eq!(b.file.dataset.name, "orl");
    }

    #[test]
    fn default_for_refuses_another_model() {
        assert!(Calibration::default_for(&model()).is_ok());
        let other = ModelRef {
            name: "other".into(),
            sha256: "ab".repeat(32),
        };
        let e = Calibration::default_for(&other).unwrap_err();
        assert!(matches!(e, CalibrationError::ModelMismatch { .. }));
        assert!(
            e.to_string().contains(&"ab".repeat(32)) && e.is_bad_input(),
            "{e}"
        );
    }

    #[test]
    fn confidence_follows_the_decision() {
        let c = Calibration::builtin().unwrap();
        let t = c.threshold();
        for s in [t - 0.2, t - 0.01, t, t + 0.01, t + 0.3] {
            let d = Decision::at(s, t);
            let conf = c.confidence(s, d);
            let p = conf.pic_score;
            let want = if d == Decision::Match { p } else { 1.0 - p };
            assert_eq!(conf.decision_confidence, want);
            assert!((0.0..=1.0).contains(&conf.c_score) && (0.0..=1.0).contains(&p));
            assert_eq!(conf.pic_prior, 0.5);
        }
        // Far from the threshold both scores are sure; the PIC-Score rises with similarity.
        assert!(c.confidence(t + 0.3, Decision::Match).c_score > 0.99);
        assert!(
            c.confidence(t - 0.3, Decision::NonMatch)
                .decision_confidence
                > 0.99
        );
        assert!(
            c.confidence(t + 0.05, Decision::Match).pic_score
                >= c.confidence(t - 0.05, Decision::NonMatch).pic_score
        );
    }

    #[test]
    fn malformed_and_foreign_files_are_refused() {
        let p = Path::new("x.json");
        let cut = &BUILTIN_JSON[..BUILTIN_JSON.len() / 2];
        assert!(
            CalibrationFile::parse(cut, p)
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        v["extra"] = serde_json::Value::from(1);
        let e = CalibrationFile::parse(&v.to_string(), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field \"extra\""), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        v["pic"].as_object_mut().unwrap().remove("genuine");
        let e = CalibrationFile::parse(&v.to_string(), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("genuine"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        v["threshold"]["similarity"] = serde_json::Value::from(7.0);
        assert!(
            CalibrationFile::parse(&v.to_string(), p)
                .unwrap_err()
                .to_string()
                .contains("threshold.similarity")
        );
        assert!(
            CalibrationFile::parse("{}", p)
                .unwrap_err()
                .to_string()
                .contains("no \"schema\" field")
        );
    }
}
