//! Comparison: cosine similarity of two embeddings and the decision at a threshold.

use serde::{Deserialize, Serialize};

pub use crate::record::Decision;

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
