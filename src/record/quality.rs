//! The quality sub-record of one face: the initial assessment of whether
//! an image is fit for a facial comparison (ENFSI best-practice manual),
//! with measures named after ISO/IEC 29794-5 as BSI's OFIQ implements it.

use serde::{Deserialize, Serialize};

/// Fitness of one face for comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Verdict {
    /// Every measure within the tolerance for comparison.
    #[serde(rename = "fit")]
    Fit,
    /// Comparable, but some measure lowers what the score can tell.
    #[serde(rename = "limited")]
    Limited,
    /// Not fit for comparison (a score may still be computed and shown).
    #[serde(rename = "unfit")]
    Unfit,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Fit => "fit",
            Verdict::Limited => "limited",
            Verdict::Unfit => "unfit",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One quality measure of a face.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// The measure's name in ISO/IEC 29794-5 / OFIQ (e.g. "InterEyeDistance").
    pub name: String,
    /// Raw value in `unit`.
    pub raw: f64,
    /// Unit of the raw value ("px", "deg", "ratio", "bits", …).
    pub unit: String,
    /// Quality score 0 (worst) … 100 (best).
    pub score: u8,
    /// The verdict this measure alone gives under the thresholds used.
    pub verdict: Verdict,
}

/// The quality assessment of one face.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaceQuality {
    pub verdict: Verdict,
    /// Why the verdict is not "fit", in words, worst first.
    pub reasons: Vec<String>,
    pub measures: Vec<Measure>,
    /// Which thresholds file decided the verdict (name and SHA-256).
    pub thresholds: String,
}

impl FaceQuality {
    /// The measure named `name`, if it was computed.
    pub fn measure(&self, name: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.name == name)
    }
}

/// The verdict of a pair: the worse of its two faces (`None` if either is unassessed).
pub fn pair_verdict(a: Option<&FaceQuality>, b: Option<&FaceQuality>) -> Option<Verdict> {
    Some(a?.verdict.max(b?.verdict))
}
