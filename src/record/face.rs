//! The small typed facts every record shares: a detected face, the
//! verification decision and a model's identity.

use serde::{Deserialize, Serialize};

/// One detected face in image pixel coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// `[x, y, width, height]` of the box.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// Image-left eye, image-right eye, nose, left and right mouth corners.
    pub landmarks5: [[f32; 2]; 5],
    pub score: f32,
}

/// The verification decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    #[serde(rename = "match")]
    Match,
    #[serde(rename = "non-match")]
    NonMatch,
}

impl Decision {
    /// Match if `similarity ≥ threshold`.
    pub fn at(similarity: f32, threshold: f32) -> Decision {
        if similarity >= threshold {
            Decision::Match
        } else {
            Decision::NonMatch
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::NonMatch => "non-match",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Model identity as written into analyses and calibrations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    pub name: String,
    pub sha256: String,
}
