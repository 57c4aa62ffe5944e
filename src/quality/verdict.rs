//! Thresholds (read from `assets/quality/thresholds.json` or a user's
//! copy), the 0–100 score of each measure, and the verdict with its reasons.

use super::QualityError;
use super::measures::RawMeasures;
use crate::record::{FaceQuality, Measure, Verdict};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Schema of thresholds files.
pub const THRESHOLDS_SCHEMA: &str = "facexplain.quality-thresholds/1";
/// The built-in thresholds.
pub const BUILTIN_THRESHOLDS: &str = include_str!("../../assets/quality/thresholds.json");
const BUILTIN_PATH: &str = "assets/quality/thresholds.json";

/// Which side of a threshold is bad.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Values below the threshold are bad.
    Min,
    /// Values above the threshold are bad.
    Max,
    /// Magnitudes above the threshold are bad (angles).
    AbsMax,
}

/// One measure's thresholds and where they come from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Rule {
    pub measure: String,
    pub kind: Kind,
    #[serde(default)]
    pub limited: Option<f64>,
    #[serde(default)]
    pub unfit: Option<f64>,
    pub source: String,
}

#[derive(Deserialize)]
struct File {
    schema: String,
    rules: Vec<Rule>,
}

/// A set of thresholds with its identity ("name sha256:…").
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    pub rules: Vec<Rule>,
    pub identity: String,
}

/// Every measure this build computes, by its ISO/IEC 29794-5 / OFIQ name.
pub const MEASURES: [&str; 13] = [
    "InterEyeDistance",
    "HeadPoseYaw",
    "HeadPosePitch",
    "HeadPoseRoll",
    "Sharpness",
    "UnderExposurePrevention",
    "OverExposurePrevention",
    "DynamicRange",
    "FaceCrop",
    "RelativeFaceSize",
    "FaceDetectionConfidence",
    "FacePresence",
    "CompressionArtifacts",
];

impl Thresholds {
    /// The built-in thresholds.
    pub fn builtin() -> Thresholds {
        // The built-in file is part of the build and checked by a unit test.
        Self::parse(BUILTIN_THRESHOLDS, Path::new(BUILTIN_PATH))
            .unwrap_or_else(|e| panic!("built-in quality thresholds: {e}"))
    }

    /// Read a thresholds file; a malformed one is an error naming it.
    pub fn read(path: &Path) -> Result<Thresholds, QualityError> {
        let text = std::fs::read_to_string(path).map_err(|e| QualityError::Thresholds {
            path: path.into(),
            reason: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// The thresholds of `path`, or the built-in ones.
    pub fn from_option(path: Option<&Path>) -> Result<Thresholds, QualityError> {
        path.map_or_else(|| Ok(Self::builtin()), Self::read)
    }

    fn parse(text: &str, path: &Path) -> Result<Thresholds, QualityError> {
        let bad = |reason: String| QualityError::Thresholds {
            path: PathBuf::from(path),
            reason,
        };
        let f: File =
            serde_json::from_str(text).map_err(|e| bad(format!("not a thresholds JSON: {e}")))?;
        if f.schema != THRESHOLDS_SCHEMA {
            return Err(bad(format!(
                "schema is {:?}, expected {THRESHOLDS_SCHEMA:?}",
                f.schema
            )));
        }
        for r in &f.rules {
            if !MEASURES.contains(&r.measure.as_str()) {
                return Err(bad(format!(
                    "unknown measure {:?} (known: {})",
                    r.measure,
                    MEASURES.join(", ")
                )));
            }
            let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
            if !finite(r.limited) || !finite(r.unfit) {
                return Err(bad(format!("{}: thresholds must be numbers", r.measure)));
            }
        }
        let digest = hex::encode(Sha256::digest(text.as_bytes()));
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        Ok(Thresholds {
            rules: f.rules,
            identity: format!("{name} sha256:{}", &digest[..16]),
        })
    }

    fn rule(&self, measure: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.measure == measure)
    }
}

/// Whether `v` is past threshold `t` on the bad side of `kind`.
fn beyond(kind: Kind, v: f64, t: f64) -> bool {
    match kind {
        Kind::Min => v < t,
        Kind::Max => v > t,
        Kind::AbsMax => v.abs() > t,
    }
}

fn pct(v: f64) -> String {
    format!("{:.0} %", 100.0 * v)
}

/// The reason in words for measure `name` with raw value `v` past threshold `t`.
fn reason(name: &str, v: f64, t: f64, raw: &RawMeasures, unfit: bool) -> String {
    let side = |pos: &str, neg: &str| if v >= 0.0 { pos } else { neg }.to_string();
    match name {
        "InterEyeDistance" => format!(
            "eyes {v:.0} px apart: below the {t:.0} px {} for comparison",
            if unfit { "minimum" } else { "recommended" }
        ),
        "HeadPoseYaw" => format!(
            "head turned {:.0}° to the subject's {} (beyond ±{t:.0}°)",
            v.abs(),
            side("left", "right")
        ),
        "HeadPosePitch" => format!(
            "head tilted {:.0}° {} (beyond ±{t:.0}°)",
            v.abs(),
            side("up", "down")
        ),
        "HeadPoseRoll" => format!(
            "head rolled {:.0}° {} in the image (beyond ±{t:.0}°)",
            v.abs(),
            side("clockwise", "anticlockwise")
        ),
        "Sharpness" => format!("face blurred: sharpness {v:.0}, below {t:.0}"),
        "UnderExposurePrevention" => format!(
            "face under-exposed: {} of its pixels near black (over {})",
            pct(v),
            pct(t)
        ),
        "OverExposurePrevention" => format!(
            "face over-exposed: {} of its pixels near white (over {})",
            pct(v),
            pct(t)
        ),
        "DynamicRange" => {
            format!("low contrast: {v:.1} bits of grey levels on the face, below {t:.1}")
        }
        "FaceCrop" => format!(
            "face cut by the image border ({}): {} of the face outside the image",
            raw.cut_sides.join(", "),
            pct(v)
        ),
        "RelativeFaceSize" => format!("face is {} of the image height", pct(v)),
        "FaceDetectionConfidence" => {
            format!("weak detection: face detector score {v:.2}, below {t:.2}")
        }
        "FacePresence" => format!("not a human face (face-presence {v:.2}, below {t:.2})"),
        "CompressionArtifacts" => format!(
            "compression artefacts: 8×8 block edges {v:.2}× as strong as inside blocks (over {t:.2}×)"
        ),
        _ => format!("{name} {v}"),
    }
}

/// Raw value, unit and 0–100 score of each measure. Scores: eye distance
/// rises linearly to 100 at 90 px (ISO/IEC 19794-5's recommended full-frontal
/// eye distance); angles score 100·cos θ; sharpness 100·(1 − e^(−v/100));
/// exposure and crop fractions 100·(1 − f); dynamic range 100·bits/8;
/// relative face size rises to 100 at a face half the image height;
/// detector score and face presence are probabilities ×100; compression
/// artefacts score 100 at a block-edge ratio of 1 (no blocks), 0 at 3.
pub fn scored(raw: &RawMeasures) -> Vec<(&'static str, f64, &'static str, f64)> {
    let cos = |deg: f64| deg.to_radians().cos().max(0.0);
    vec![
        (
            "InterEyeDistance",
            raw.inter_eye_px,
            "px",
            raw.inter_eye_px / 90.0,
        ),
        ("HeadPoseYaw", raw.yaw_deg, "deg", cos(raw.yaw_deg)),
        ("HeadPosePitch", raw.pitch_deg, "deg", cos(raw.pitch_deg)),
        ("HeadPoseRoll", raw.roll_deg, "deg", cos(raw.roll_deg)),
        (
            "Sharpness",
            raw.sharpness,
            "laplacian variance",
            1.0 - (-raw.sharpness / 100.0).exp(),
        ),
        (
            "UnderExposurePrevention",
            raw.dark_fraction,
            "fraction",
            1.0 - raw.dark_fraction,
        ),
        (
            "OverExposurePrevention",
            raw.bright_fraction,
            "fraction",
            1.0 - raw.bright_fraction,
        ),
        (
            "DynamicRange",
            raw.dynamic_range_bits,
            "bits",
            raw.dynamic_range_bits / 8.0,
        ),
        (
            "FaceCrop",
            raw.crop_fraction,
            "fraction",
            1.0 - raw.crop_fraction,
        ),
        (
            "RelativeFaceSize",
            raw.face_height_ratio,
            "ratio",
            raw.face_height_ratio / 0.5,
        ),
        (
            "FaceDetectionConfidence",
            raw.detector_score,
            "probability",
            raw.detector_score,
        ),
        (
            "FacePresence",
            raw.face_presence,
            "probability",
            raw.face_presence,
        ),
        (
            "CompressionArtifacts",
            raw.blockiness,
            "block-edge ratio",
            (3.0 - raw.blockiness) / 2.0,
        ),
    ]
}

/// The quality record of one face: every measure scored and judged, the
/// verdict (the worst measure's) and the reasons, unfit ones first and
/// "not a human face" first of those.
pub fn judge(raw: &RawMeasures, thresholds: &Thresholds) -> FaceQuality {
    let mut measures = Vec::new();
    let mut reasons: Vec<(Verdict, &str, String)> = Vec::new();
    for (name, v, unit, s) in scored(raw) {
        let mut verdict = Verdict::Fit;
        if let Some(rule) = thresholds.rule(name) {
            let hit = [
                (rule.unfit, Verdict::Unfit),
                (rule.limited, Verdict::Limited),
            ]
            .into_iter()
            .find_map(|(t, level)| t.filter(|&t| beyond(rule.kind, v, t)).map(|t| (t, level)));
            if let Some((t, level)) = hit {
                verdict = level;
                reasons.push((
                    level,
                    name,
                    reason(name, v, t, raw, level == Verdict::Unfit),
                ));
            }
        }
        measures.push(Measure {
            name: name.into(),
            raw: v,
            unit: unit.into(),
            score: (100.0 * s).round().clamp(0.0, 100.0) as u8,
            verdict,
        });
    }
    // Stable: unfit reasons first, "not a human face" first of all (the
    // other measures mean little then), each group in measure order.
    reasons.sort_by_key(|(level, name, _)| (std::cmp::Reverse(*level), *name != "FacePresence"));
    FaceQuality {
        verdict: measures
            .iter()
            .map(|m| m.verdict)
            .max()
            .unwrap_or(Verdict::Fit),
        reasons: reasons.into_iter().map(|(_, _, r)| r).collect(),
        measures,
        thresholds: thresholds.identity.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawMeasures {
        RawMeasures {
            inter_eye_px: 80.0,
            yaw_deg: 3.0,
            pitch_deg: -2.0,
            roll_deg: 1.0,
            sharpness: 300.0,
            dark_fraction: 0.0,
            bright_fraction: 0.01,
            dynamic_range_bits: 7.0,
            crop_fraction: 0.0,
            cut_sides: Vec::new(),
            face_height_ratio: 0.4,
            detector_score: 0.95,
            face_presence: 0.99,
            blockiness: 1.02,
        }
    }

    #[test]
    fn builtin_thresholds_parse_and_name_known_measures() {
        let t = Thresholds::builtin();
        assert!(t.rules.len() >= 10);
        assert!(t.identity.starts_with("thresholds.json sha256:"));
    }

    #[test]
    fn verdict_is_the_worst_measure_with_reasons_in_words() {
        let t = Thresholds::builtin();
        let q = judge(&raw(), &t);
        assert_eq!(q.verdict, Verdict::Fit, "{:?}", q.reasons);
        assert!(q.reasons.is_empty());
        let mut r = raw();
        r.inter_eye_px = 18.0;
        r.yaw_deg = 25.0;
        let q = judge(&r, &t);
        assert_eq!(q.verdict, Verdict::Unfit);
        assert_eq!(
            q.reasons[0],
            "eyes 18 px apart: below the 32 px minimum for comparison"
        );
        assert!(q.reasons[1].starts_with("head turned 25° to the subject's left"));
        assert_eq!(
            q.measure("HeadPoseYaw").map(|m| m.verdict),
            Some(Verdict::Limited)
        );
    }

    #[test]
    fn a_bad_thresholds_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        std::fs::write(&p, r#"{"schema":"facexplain.quality-thresholds/1","rules":[{"measure":"Nose","kind":"min","source":""}]}"#).unwrap();
        let e = Thresholds::read(&p).unwrap_err().to_string();
        assert!(e.contains("t.json") && e.contains("unknown measure"), "{e}");
    }
}
