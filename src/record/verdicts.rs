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

impl ModelVerdict {
    /// One recogniser's verdict as the analysis `a` records it (its own model's).
    pub fn of(id: &str, a: &super::Analysis) -> ModelVerdict {
        ModelVerdict {
            id: id.into(),
            model: a.model.clone(),
            similarity: a.similarity,
            threshold: a.threshold,
            threshold_source: a.threshold_source.clone(),
            decision: a.decision,
            confidence: a.confidence.clone(),
            evidence: a.evidence.clone(),
        }
    }

    /// The model's short name for people: the first word of its name
    /// ("SFace", "MobileFaceNet"), else its id.
    pub fn label(&self) -> &str {
        short_name(&self.model.name).unwrap_or(&self.id)
    }
}

/// The first word of a model's name ("SFace face recogniser 2021dec" → "SFace").
pub fn short_name(name: &str) -> Option<&str> {
    name.split_whitespace().next()
}

/// "sface: match; mobilefacenet: non-match" when the decisions differ,
/// `None` when every model agrees (or fewer than two were run).
pub fn disagreement(verdicts: &[ModelVerdict]) -> Option<String> {
    disagreement_by(verdicts, |v| &v.id)
}

/// The same naming each model by `name` ("SFace: match; MobileFaceNet:
/// non-match" with [`ModelVerdict::label`]).
pub fn disagreement_by<'a>(
    verdicts: &'a [ModelVerdict],
    name: impl Fn(&'a ModelVerdict) -> &'a str,
) -> Option<String> {
    let first = verdicts.first()?.decision;
    if verdicts.iter().all(|v| v.decision == first) {
        return None;
    }
    Some(
        verdicts
            .iter()
            .map(|v| format!("{}: {}", name(v), v.decision))
            .collect::<Vec<_>>()
            .join("; "),
    )
}
