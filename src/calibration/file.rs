//! The calibration file (`schema: "facexplain.calibration/2"`): which model
//! and data it came from, the threshold, the C-Score sigmoid, the PIC
//! densities and (new in 2) the likelihood-ratio calibrators with their ELUB
//! bounds. Files of schema 1 still load; they give no likelihood ratio. One
//! for SFace on ORL is compiled in as the default.

use super::{CalibrationError, Fitted, Result};
use crate::record::{CalibrationRef, Confidence, Decision, Evidence, ModelRef};
use crate::resources::hash::sha256_hex;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Schema identifier of calibration files this build writes and reads.
pub const CALIBRATION_SCHEMA: &str = "facexplain.calibration/2";
/// The previous schema, still read (no likelihood ratios).
pub const CALIBRATION_SCHEMA_1: &str = "facexplain.calibration/1";
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
    "likelihood_ratio",
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
        let v2 = match obj.get("schema").and_then(|s| s.as_str()) {
            Some(CALIBRATION_SCHEMA) => true,
            Some(CALIBRATION_SCHEMA_1) => false,
            Some(other) => {
                return Err(bad(format!(
                    "schema is {other:?}, this build reads {CALIBRATION_SCHEMA:?} and {CALIBRATION_SCHEMA_1:?}"
                )));
            }
            None => {
                return Err(bad(format!(
                    "no \"schema\" field; expected {CALIBRATION_SCHEMA:?}"
                )));
            }
        };
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!("unknown field {k:?}")));
        }
        let file: CalibrationFile = serde_json::from_value(value)
            .map_err(|e| bad(format!("not a valid calibration: {e}")))?;
        file.fitted.pic.check().map_err(bad)?;
        match (&file.fitted.likelihood_ratio, v2) {
            (Some(lr), true) => lr.check().map_err(bad)?,
            (None, true) => {
                return Err(bad(format!(
                    "schema {CALIBRATION_SCHEMA:?} needs a \"likelihood_ratio\" field"
                )));
            }
            (Some(_), false) => {
                return Err(bad(format!(
                    "\"likelihood_ratio\" needs schema {CALIBRATION_SCHEMA:?}"
                )));
            }
            (None, false) => {}
        }
        let p = &file.pairs;
        if p.genuine == 0 || p.impostor == 0 {
            return Err(bad(format!(
                "pairs: {} genuine and {} impostor — a calibration needs both classes",
                p.genuine, p.impostor
            )));
        }
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

    /// The default calibration, refused unless it was made for `model`: the
    /// built-in one, else the first `calibration/*.json` of the assets folder
    /// or of the user models folder made for this model file (by its SHA-256).
    pub fn default_for(model: &ModelRef) -> Result<Calibration> {
        let c = Self::builtin()?;
        match c.check_model(model) {
            Ok(()) => Ok(c),
            Err(e) => Self::shipped_for(model).ok_or(e),
        }
    }

    /// A calibration file shipped or added for `model` (see [`Self::default_for`]).
    fn shipped_for(model: &ModelRef) -> Option<Calibration> {
        let mut dirs: Vec<PathBuf> =
            crate::resources::locate::search_dirs(crate::resources::Kind::Assets)
                .into_iter()
                .map(|d| d.join("calibration"))
                .collect();
        dirs.push(crate::resources::user_models::user_models_dir().join("calibration"));
        dirs.iter().find_map(|d| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(d)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            files.iter().find_map(|f| {
                let c = Self::read(f).ok()?;
                (c.file.model.sha256 == model.sha256).then_some(c)
            })
        })
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

    /// Where the threshold came from, for the analysis record: the data
    /// set(s), their size, the rule, and the FMR and FNMR it gives there.
    pub fn threshold_source(&self) -> String {
        let t = &self.file.fitted.threshold;
        let sets = match &self.file.fitted.likelihood_ratio {
            Some(lr) => lr
                .data
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(" + "),
            None => self.file.dataset.name.clone(),
        };
        format!(
            "calibration {}: {} on {sets} ({} genuine / {} impostor pairs), where FMR {:.4} % and FNMR {:.4} %",
            self.name,
            t.rule,
            self.file.pairs.genuine,
            self.file.pairs.impostor,
            t.fmr * 100.0,
            t.fnmr * 100.0
        )
    }

    /// Which calibration this is, for records.
    pub fn reference(&self) -> CalibrationRef {
        CalibrationRef {
            name: self.name.clone(),
            sha256: self.sha256.clone(),
        }
    }

    /// The likelihood ratio of a similarity under the default calibrator at
    /// even prior odds (`None` for a schema-1 file, which has none).
    pub fn evidence(&self, similarity: f32) -> Option<Evidence> {
        self.evidence_with(similarity, None, super::lr::DEFAULT_PRIOR_HP)
    }

    /// The same under calibrator `calibrator` (default if `None`) at prior P(Hp) = `prior_hp`.
    pub fn evidence_with(
        &self,
        similarity: f32,
        calibrator: Option<&str>,
        prior_hp: f64,
    ) -> Option<Evidence> {
        let f = &self.file.fitted;
        f.likelihood_ratio.as_ref()?.evidence(
            &f.pic,
            similarity as f64,
            calibrator,
            prior_hp,
            self.reference(),
        )
    }

    /// C-Score, PIC-Score and the probability that `decision` is right:
    /// from the bounded LR at the evidence's prior when the file has LRs
    /// (never 1), else from the PIC-Score.
    pub fn confidence(&self, similarity: f32, decision: Decision) -> Confidence {
        let s = self.file.fitted.scores(similarity as f64, decision);
        let decision_confidence = match (self.evidence(similarity), decision) {
            (Some(e), Decision::Match) => e.posterior_hp,
            (Some(e), Decision::NonMatch) => 1.0 - e.posterior_hp,
            (None, _) => s.decision_confidence,
        };
        Confidence {
            c_score: s.c_score,
            pic_score: s.pic_score,
            decision_confidence,
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
            // From the bounded LR at even prior odds: never certain.
            let post = c.evidence(s).unwrap().posterior_hp;
            let want = if d == Decision::Match {
                post
            } else {
                1.0 - post
            };
            assert_eq!(conf.decision_confidence, want);
            assert!(conf.decision_confidence < 1.0 && conf.decision_confidence > 0.0);
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

    /// Write `v` to a temporary file and read it back as a calibration.
    fn read_value(v: &serde_json::Value) -> (Result<Calibration>, PathBuf) {
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("edited-calibration.json");
        std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
        (Calibration::read(&path), path)
    }

    fn refused(edit: impl Fn(&mut serde_json::Value), want: &str) {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        edit(&mut v);
        let (r, path) = read_value(&v);
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains(&path.display().to_string()) && e.contains(want),
            "{want:?} not in {e}"
        );
    }

    #[test]
    fn bad_likelihood_ratio_sections_are_refused_naming_the_file_and_field() {
        refused(|v| v["pairs"]["genuine"] = 0.into(), "both classes");
        refused(
            |v| v["likelihood_ratio"]["data"][0]["impostor_pairs"] = 0.into(),
            "both classes are needed",
        );
        refused(
            |v| v["likelihood_ratio"]["data"][0]["genuine_pairs"] = 2.into(),
            "too few",
        );
        refused(
            |v| v["likelihood_ratio"]["data"] = serde_json::json!([]),
            "likelihood_ratio.data",
        );
        refused(
            |v| v["likelihood_ratio"]["default"] = "svm".into(),
            "likelihood_ratio.default",
        );
        refused(
            |v| v["likelihood_ratio"]["calibrators"]["logistic"]["log10_lower_bound"] = 0.5.into(),
            "likelihood_ratio.calibrators.logistic: bounds",
        );
        refused(
            |v| {
                let s = &mut v["likelihood_ratio"]["calibrators"]["pav"]["similarity"];
                let a = s.as_array_mut().unwrap();
                a.swap(0, 1);
            },
            "likelihood_ratio.calibrators.pav: pav similarities",
        );
        refused(
            |v| v["likelihood_ratio"]["calibrators"]["pav"]["prob_hp"][0] = 1.0.into(),
            "prob_hp",
        );
        // A non-finite number is not JSON: refused by the parser, still naming the file.
        refused(
            |v| v["pic"]["genuine"]["values"][3] = "NaN".into(),
            "not a valid calibration",
        );
        refused(
            |v| {
                v.as_object_mut().unwrap().remove("likelihood_ratio");
            },
            "needs a \"likelihood_ratio\" field",
        );
        refused(|v| v["pic"]["genuine"]["step"] = 0.0.into(), "density grid");
    }

    #[test]
    fn schema_1_files_still_load_without_likelihood_ratios() {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        v.as_object_mut().unwrap().remove("likelihood_ratio");
        v["schema"] = CALIBRATION_SCHEMA_1.into();
        let (r, _) = read_value(&v);
        let c = r.unwrap();
        let t = c.threshold();
        assert!(c.evidence(t + 0.2).is_none());
        // Its decision confidence is the PIC-based one it always was.
        let conf = c.confidence(t + 0.2, Decision::Match);
        assert_eq!(conf.decision_confidence, conf.pic_score);
    }

    #[test]
    fn the_built_in_lr_is_bounded_monotone_and_worded_consistently() {
        let c = Calibration::builtin().unwrap();
        let lr = c.file.fitted.likelihood_ratio.as_ref().unwrap();
        assert_eq!(lr.data[0].name, "orl");
        let mut last = f64::NEG_INFINITY;
        for i in 0..=200 {
            let s = -1.0 + i as f32 / 100.0;
            let e = c.evidence(s).unwrap();
            assert!(e.log10_lr.is_finite() && e.lr > 0.0);
            assert!(e.log10_lr >= e.log10_lower_bound && e.log10_lr <= e.log10_upper_bound);
            assert!(e.log10_lr >= last - 1e-12, "LR falls at similarity {s}");
            last = e.log10_lr;
            assert!(e.posterior_hp < 1.0 && e.posterior_hp > 0.0);
            let (w, _) = super::super::verbal::Scale::enfsi().words(e.log10_lr);
            assert_eq!(e.verbal_band, w);
            assert_eq!(e.clipped, e.log10_lr != e.log10_lr_unbounded);
        }
        // Every calibrator is bounded by at most what 1,800 / 78,000 pairs support.
        for cal in lr.calibrators.values() {
            assert!(cal.log10_upper_bound <= (78_001f64).log10() + 0.01);
            assert!(cal.log10_lower_bound >= -(1_801f64).log10() - 0.01);
        }
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
