//! Each face recogniser's verdict on the same pair, when several were run
//! (`compare --models`): the analysis's own model comes first.

use super::{Confidence, Decision, Evidence, ModelRef};
use serde::{Deserialize, Serialize};

/// One recogniser's similarity, threshold, decision, confidences and LR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelVerdict {
    /// The name it is chosen by (`sface`, `mobilefacenet`, a user model's name).
    pub id: String,
    pub model: ModelRef,
    pub similarity: f32,
    pub threshold: f32,
    pub threshold_source: String,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// "SFace: match; MobileFaceNet: non-match" when the decisions differ,
/// `None` when every model agrees (or fewer than two were run).
pub fn disagreement(verdicts: &[ModelVerdict]) -> Option<String> {
    let first = verdicts.first()?.decision;
    if verdicts.iter().all(|v| v.decision == first) {
        return None;
    }
    Some(
        verdicts
            .iter()
            .map(|v| format!("{}: {}", v.id, v.decision))
            .collect::<Vec<_>>()
            .join("; "),
    )
}
