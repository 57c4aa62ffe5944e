//! Comparison: cosine similarity of two embeddings and the decision at a threshold.

use serde::{Deserialize, Serialize};

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

/// Similarity, the threshold it was compared with, and the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub similarity: f32,
    pub threshold: f32,
    pub decision: Decision,
}

impl Comparison {
    pub fn new(similarity: f32, threshold: f32) -> Comparison {
        Comparison {
            similarity,
            threshold,
            decision: Decision::at(similarity, threshold),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn threshold_is_inclusive() {
        assert_eq!(Decision::at(0.5, 0.5), Decision::Match);
        assert_eq!(Decision::at(0.4999, 0.5), Decision::NonMatch);
        assert_eq!(
            serde_json::to_string(&Decision::NonMatch).unwrap(),
            "\"non-match\""
        );
    }
}
