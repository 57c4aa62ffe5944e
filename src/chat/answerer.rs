//! The default answerer (used when no extractive QA model is installed, and
//! always for refusals): the question is classified into an intent of
//! `assets/chat/intents.json` ([`super::classify`]), follow-ups are resolved
//! against the last turn ([`super::conversation`]), and the intent's template
//! is filled with values read from the analysis ([`super::values`]). One
//! answer answers one question: the sentence(s) of its own intent, naming the
//! part of the analysis they come from, with the classifier's confidence.

use super::classify::{Classifier, Verdict};
use super::conversation::{Conversation, Resolved, resolve};
use super::embed::SentenceEmbedder;
use super::error::Result;
use super::intents::IntentFile;
use super::slots;
use super::values::{self, Values, slot_values};
use crate::record::Analysis;
use serde::Serialize;

/// Which path produced an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerPath {
    /// Extractive QA over the whole context.
    Qa,
    /// Extractive QA over the sub-context of the most similar sentences.
    SubContext,
    /// The default answerer: an intent's template filled from the analysis.
    Retrieval,
    /// The analysis cannot answer the question (or it is not ours to answer).
    Refusal,
}

impl AnswerPath {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerPath::Qa => "qa",
            AnswerPath::SubContext => "sub-context",
            AnswerPath::Retrieval => "retrieval",
            AnswerPath::Refusal => "refusal",
        }
    }
}

/// An answer: its text, a confidence in [0,1], where in the analysis it came
/// from, the intent it answers, and its path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer {
    pub text: String,
    pub confidence: f32,
    /// The part(s) of the analysis (or the context sentences, on the QA path) the answer comes from.
    pub sources: Vec<String>,
    pub path: AnswerPath,
    /// The intent answered (empty on the QA paths).
    pub intent: String,
}

/// The sentence a refusal of an unrecognised question says.
pub const REFUSAL: &str = "I can't answer that from this analysis.";

/// Intent name of questions refused because no intent fits them.
pub const UNKNOWN: &str = "unknown";

/// A refusal, with the reason when there is one.
pub fn refusal(confidence: f32, reason: Option<String>) -> Answer {
    let text = match &reason {
        Some(r) => format!("{REFUSAL} {r}"),
        None => REFUSAL.into(),
    };
    Answer {
        text,
        confidence,
        sources: reason.into_iter().collect(),
        path: AnswerPath::Refusal,
        intent: UNKNOWN.into(),
    }
}

/// Intent classification, follow-ups and templates.
pub struct DefaultAnswerer {
    pub file: IntentFile,
    pub classifier: Classifier,
}

impl DefaultAnswerer {
    /// Load the intents (`$FACEXPLAIN_CHAT_INTENTS` when set, else the
    /// built-in `assets/chat/intents.json`) and embed their examples.
    pub fn new(embedder: &SentenceEmbedder) -> Result<DefaultAnswerer> {
        let file = match std::env::var_os("FACEXPLAIN_CHAT_INTENTS") {
            Some(p) => IntentFile::read(std::path::Path::new(&p))?,
            None => IntentFile::builtin()?,
        };
        Self::with_file(file, embedder)
    }

    pub fn with_file(file: IntentFile, embedder: &SentenceEmbedder) -> Result<DefaultAnswerer> {
        let classifier = Classifier::new(&file, embedder)?;
        Ok(DefaultAnswerer { file, classifier })
    }

    /// Answer a question (embedded as `q`, its wordpieces `pieces`) in a conversation, or refuse.
    pub fn answer(
        &self,
        a: &Analysis,
        question: &str,
        (q, pieces): (&[f32], &[u32]),
        conv: &mut Conversation,
    ) -> Answer {
        let ranked = match self.classifier.judge(&self.classifier.rank(q, pieces)) {
            Verdict::InScope(r) => r,
            Verdict::OutOfScope(idx, mass) => {
                let text = self.file.intents[idx].refuse.as_deref().unwrap_or(REFUSAL);
                return self.said(idx, text, mass, AnswerPath::Refusal);
            }
            Verdict::Unsure(p) => return refusal(p, Some(scope_reason())),
        };
        let confidence = ranked.confidence;
        let found = slots::extract(question, &self.file.slots, conv.last_slots());
        let r = resolve(&self.file, &self.classifier, &ranked, found, conv);
        let Resolved::Intent(idx, slots) = r else {
            return match r {
                Resolved::StartOver(i) => {
                    conv.clear();
                    self.said(i, "Starting over: ask me anything about this comparison.", confidence, AnswerPath::Retrieval)
                }
                Resolved::NoContext(i) => self.said(
                    i,
                    "I'm not sure what that refers to: ask the whole question first (for example \"What is the decision?\").",
                    confidence,
                    AnswerPath::Refusal,
                ),
                _ => refusal(confidence, Some(scope_reason())),
            };
        };
        let intent = &self.file.intents[idx];
        if let Some(text) = &intent.refuse {
            return self.said(idx, text, confidence, AnswerPath::Refusal);
        }
        conv.record(idx, slots.clone());
        let template = intent.answer.as_deref().unwrap_or_default();
        let base = values::of(a);
        let rendered = match intent.per {
            None => fill(template, &base),
            Some(per) => {
                let vals = slot_values(per, &slots);
                if vals.is_empty() {
                    Err(String::new())
                } else {
                    vals.iter()
                        .map(|s| {
                            let mut v = base.clone();
                            values::of_slot(a, &mut v, s);
                            fill(template, &v)
                        })
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map(|v| v.join(" "))
                }
            }
        };
        match rendered {
            Ok(text) => self.said(idx, &text, confidence, AnswerPath::Retrieval),
            Err(_) => {
                let text = match &intent.missing {
                    Some(m) => fill(m, &base).unwrap_or_else(|_| m.clone()),
                    None => self.clarify(a, intent.per),
                };
                self.said(idx, &text, confidence, AnswerPath::Refusal)
            }
        }
    }

    /// An answer of intent `idx` saying `text`, naming the intent's source.
    fn said(&self, idx: usize, text: &str, confidence: f32, path: AnswerPath) -> Answer {
        let intent = &self.file.intents[idx];
        Answer {
            text: text.into(),
            confidence,
            sources: vec![intent.source.clone()],
            path,
            intent: intent.name.clone(),
        }
    }

    /// A per-slot question that named no slot value: say which there are.
    fn clarify(&self, a: &Analysis, per: Option<super::intents::Per>) -> String {
        let regions: Vec<String> = a
            .explainability_table
            .iter()
            .chain(a.xmap_table.iter())
            .flat_map(|t| t.rows.iter().map(|r| r.region.clone()))
            .take(9)
            .collect();
        match per {
            Some(super::intents::Per::Region) if !regions.is_empty() => format!(
                "Which region do you mean? The table ranks: {}.",
                regions.join(", ")
            ),
            _ => "Which one do you mean?".into(),
        }
    }
}

/// Why a question no intent fits is refused.
fn scope_reason() -> String {
    "I answer questions about this comparison: its decision, score, threshold, confidence, the regions that mattered, the maps and the record behind them.".into()
}

/// Fill `{name}` placeholders; `Err(name)` names the first value the analysis lacks.
pub fn fill(template: &str, v: &Values) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let key = &after[..close];
        match v.get(key) {
            Some(val) => out.push_str(val),
            None => return Err(key.to_string()),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_or_name_the_missing_value() {
        let mut v = Values::new();
        v.insert("x".into(), "1.5".into());
        assert_eq!(fill("x is {x}.", &v).unwrap(), "x is 1.5.");
        assert_eq!(fill("{x} and {y}", &v).unwrap_err(), "y");
    }
}
