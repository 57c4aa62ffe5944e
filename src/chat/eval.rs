//! Chat evaluation (the quantitative analysis of Pixels-to-Words Table 2, done
//! automatically): every question of a question set is asked about every
//! analysis, each answer is checked against the analysis' facts (decision
//! word, score, percentage, region names…), and correctness is tabulated per
//! question type, with the latency of every `ask`.

use super::answerer::{Answer, AnswerPath};
use super::context::{fmt_percent, fmt_similarity, fmt_threshold, numbers_in, stated_numbers};
use super::engine::ChatEngine;
use super::error::{ChatError, Result};
use crate::pipeline::Decision;
use crate::record::Analysis;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Schema of question-set files.
pub const QUESTIONS_SCHEMA: &str = "facexplain.chat-questions/1";

/// The question types this evaluation can score, in report order.
pub const TYPES: &[&str] = &[
    "decision",
    "reasoning",
    "confidence",
    "most_important",
    "least_important",
    "xai",
    "output_images",
    "score",
    "threshold",
    "model",
    "unanswerable",
];

/// A question set: phrasings per question type.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSet {
    pub schema: String,
    pub types: BTreeMap<String, Vec<String>>,
}

impl QuestionSet {
    /// Read and check a question-set file (known types only, no empty questions).
    pub fn read(path: &Path) -> Result<QuestionSet> {
        let bad = |reason: String| ChatError::QuestionSet {
            file: path.into(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let set: QuestionSet = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if set.schema != QUESTIONS_SCHEMA {
            return Err(bad(format!(
                "schema is {:?}, expected {QUESTIONS_SCHEMA:?}",
                set.schema
            )));
        }
        for (t, qs) in &set.types {
            if !TYPES.contains(&t.as_str()) {
                return Err(bad(format!(
                    "unknown question type {t:?}; known: {}",
                    TYPES.join(", ")
                )));
            }
            if qs.iter().any(|q| q.trim().is_empty()) {
                return Err(bad(format!("type {t:?} has an empty question")));
            }
        }
        Ok(set)
    }
}

/// Why an answer is wrong for its question type, or `Ok` when it is right.
pub fn check(a: &Analysis, qtype: &str, ans: &Answer) -> std::result::Result<(), String> {
    let allowed = stated_numbers(a);
    if let Some(n) = numbers_in(&ans.text)
        .into_iter()
        .find(|n| !allowed.contains(n))
    {
        return Err(format!(
            "states the number {n}, which is not in the analysis"
        ));
    }
    if qtype == "unanswerable" {
        return if ans.path == AnswerPath::Refusal {
            Ok(())
        } else {
            Err("answered an unanswerable question".into())
        };
    }
    let rows = a
        .explainability_table
        .as_ref()
        .map(|t| t.rows.as_slice())
        .unwrap_or_default();
    let mut need: Vec<String> = Vec::new();
    let mut forbid: Vec<String> = Vec::new();
    let missing_data = match qtype {
        "decision" => {
            need.push(format!("is {}", a.decision));
            if a.decision == Decision::Match {
                forbid.push("non-match".into());
            }
            false
        }
        "reasoning" => {
            need.extend([
                fmt_similarity(a.similarity),
                fmt_threshold(a.threshold),
                a.decision.to_string(),
            ]);
            false
        }
        "confidence" => match &a.confidence {
            Some(c) => {
                need.push(fmt_percent(c.decision_confidence));
                false
            }
            None => true,
        },
        "most_important" | "least_important" => {
            let (row, other) = if qtype == "most_important" {
                (rows.first(), "least important")
            } else {
                (rows.last(), "most important")
            };
            match row {
                Some(r) => {
                    need.push(format!("the {}", r.region));
                    forbid.push(other.into());
                    false
                }
                None => true,
            }
        }
        "xai" => {
            need.push("Explainable artificial intelligence (XAI)".into());
            false
        }
        "output_images" => {
            need.push("saliency heatmaps".into());
            false
        }
        "score" => {
            need.push(fmt_similarity(a.similarity));
            false
        }
        "threshold" => {
            need.push(fmt_threshold(a.threshold));
            false
        }
        "model" => {
            need.push(a.model.name.clone());
            false
        }
        other => return Err(format!("unknown question type {other:?}")),
    };
    if missing_data {
        return if ans.path == AnswerPath::Refusal {
            Ok(())
        } else {
            Err("the analysis lacks this data but the answer did not refuse".into())
        };
    }
    if ans.path == AnswerPath::Refusal {
        return Err("refused an answerable question".into());
    }
    if let Some(n) = need.iter().find(|n| !ans.text.contains(n.as_str())) {
        return Err(format!("does not say {n:?}"));
    }
    if let Some(f) = forbid.iter().find(|f| ans.text.contains(f.as_str())) {
        return Err(format!("says {f:?}"));
    }
    Ok(())
}

/// One wrong answer.
#[derive(Clone, Debug)]
pub struct Failure {
    pub analysis: String,
    pub qtype: String,
    pub question: String,
    pub answer: Answer,
    pub reason: String,
    /// The intent the default answerer matched, with its similarity and confidence.
    pub matched: String,
}

/// Correct answers per question type, the failures, and every ask's latency.
#[derive(Clone, Debug, Default)]
pub struct EvalReport {
    pub per_type: BTreeMap<String, (usize, usize)>,
    pub failures: Vec<Failure>,
    pub latencies_ms: Vec<f64>,
}

impl EvalReport {
    /// Fraction correct for a type (`None` when the set has no such question).
    pub fn rate(&self, qtype: &str) -> Option<f64> {
        self.per_type
            .get(qtype)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| *c as f64 / *n as f64)
    }

    /// Latency percentile (0–100) in milliseconds, nearest rank.
    pub fn latency_percentile(&self, pct: f64) -> f64 {
        let mut v = self.latencies_ms.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return 0.0;
        }
        let rank = ((pct / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    /// The per-type table as Markdown.
    pub fn table(&self) -> String {
        let mut s =
            String::from("| question type | correct | asked | rate |\n|---|---:|---:|---:|\n");
        for t in TYPES {
            if let Some((c, n)) = self.per_type.get(*t) {
                s += &format!(
                    "| {t} | {c} | {n} | {:.1}% |\n",
                    100.0 * *c as f64 / (*n).max(1) as f64
                );
            }
        }
        s
    }
}

/// Ask every question about every analysis and score the answers.
pub fn evaluate(
    engine: &mut ChatEngine,
    analyses: &[(String, Analysis)],
    set: &QuestionSet,
) -> Result<EvalReport> {
    let mut report = EvalReport::default();
    for (name, a) in analyses {
        engine.context(a);
        for (qtype, questions) in &set.types {
            for q in questions {
                let t0 = Instant::now();
                let ans = engine.ask(a, q)?;
                report.latencies_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                let entry = report.per_type.entry(qtype.clone()).or_default();
                entry.1 += 1;
                match check(a, qtype, &ans) {
                    Ok(()) => entry.0 += 1,
                    Err(reason) => report.failures.push(Failure {
                        matched: {
                            let c = engine.classify(q)?;
                            format!(
                                "{:?} (similarity {:.3}, confidence {:.3})",
                                c.intent, c.similarity, c.confidence
                            )
                        },
                        analysis: name.clone(),
                        qtype: qtype.clone(),
                        question: q.clone(),
                        answer: ans,
                        reason,
                    }),
                }
            }
        }
    }
    Ok(report)
}
