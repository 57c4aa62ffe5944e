//! Chat evaluation (Pixels-to-Words Table 2, done automatically and strictly):
//! every question of a set is asked about every analysis; an answer is right
//! only if it is the expected intent's answer (by the intent it reports) AND
//! states the facts that answer must state AND none it must not (a decision
//! answer that also recites the threshold is the reasoning, not the decision).
//! Data the analysis lacks must be refused by the expected intent. Follow-up
//! pairs are asked in one conversation and scored on their last turn.

use super::answerer::{Answer, AnswerPath};
use super::context::{fmt_percent, fmt_similarity, fmt_threshold, numbers_in, stated_numbers};
use super::engine::ChatEngine;
use super::error::{ChatError, Result};
use super::intents::FACES;
use crate::record::{Analysis, Decision};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Schemas of question-set files: 1 = phrasings per type, 2 = also slots and follow-ups.
pub const QUESTIONS_SCHEMA: &str = "facexplain.chat-questions/1";
pub const QUESTIONS_SCHEMA_2: &str = "facexplain.chat-questions/2";

/// The question types this evaluation can score, in report order. Each is
/// the name of the intent that must answer it, except `unanswerable` (any refusal).
pub const TYPES: &[&str] = &[
    "decision",
    "reasoning",
    "confidence",
    "most_important",
    "least_important",
    "region",
    "xai",
    "output_images",
    "score",
    "threshold",
    "model",
    "images",
    "evidence_strength",
    "quality",
    "calibration",
    "faithfulness",
    "case_notes",
    "identity",
    "unanswerable",
];

/// Row label of the follow-up pairs in reports.
pub const FOLLOW_UPS: &str = "follow-ups";

/// One question with the slot it names (when its type needs one).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Question {
    Plain(String),
    Slotted {
        q: String,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        face: Option<usize>,
    },
}

/// What an answer must be.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expect {
    pub qtype: String,
    pub region: Option<String>,
    pub face: Option<usize>,
}

/// A conversation whose last answer is scored.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub turns: Vec<String>,
    #[serde(rename = "type")]
    pub qtype: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub face: Option<usize>,
}

/// A question set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSet {
    pub schema: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub note: String,
    pub types: BTreeMap<String, Vec<Question>>,
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
}

impl Question {
    pub fn expect(&self, qtype: &str) -> (&str, Expect) {
        match self {
            Question::Plain(q) => (
                q,
                Expect {
                    qtype: qtype.into(),
                    ..Expect::default()
                },
            ),
            Question::Slotted { q, region, face } => (
                q,
                Expect {
                    qtype: qtype.into(),
                    region: region.clone(),
                    face: *face,
                },
            ),
        }
    }
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
        if set.schema != QUESTIONS_SCHEMA && set.schema != QUESTIONS_SCHEMA_2 {
            return Err(bad(format!(
                "schema is {:?}, expected {QUESTIONS_SCHEMA_2:?}",
                set.schema
            )));
        }
        let known = |t: &str| TYPES.contains(&t);
        let types = set
            .types
            .keys()
            .chain(set.follow_ups.iter().map(|f| &f.qtype));
        for t in types {
            if !known(t) {
                return Err(bad(format!(
                    "unknown question type {t:?}; known: {}",
                    TYPES.join(", ")
                )));
            }
        }
        let empty = set
            .types
            .values()
            .flatten()
            .any(|q| q.expect("").0.trim().is_empty())
            || set
                .follow_ups
                .iter()
                .any(|f| f.turns.is_empty() || f.turns.iter().any(|t| t.trim().is_empty()));
        if empty {
            return Err(bad("a question is empty".into()));
        }
        Ok(set)
    }
}

/// Why an answer is wrong for what was expected, or `Ok` when it is right.
pub fn check(a: &Analysis, e: &Expect, ans: &Answer) -> std::result::Result<(), String> {
    let allowed = stated_numbers(a);
    if let Some(n) = numbers_in(&ans.text)
        .into_iter()
        .find(|n| !allowed.contains(n))
    {
        return Err(format!(
            "states the number {n}, which is not in the analysis"
        ));
    }
    let refused = ans.path == AnswerPath::Refusal;
    let qtype = e.qtype.as_str();
    if qtype == "unanswerable" {
        return if refused {
            Ok(())
        } else {
            Err("answered an unanswerable question".into())
        };
    }
    if ans.intent != qtype {
        return Err(format!("answered as {:?}", ans.intent));
    }
    let facts = expected_facts(a, e)?;
    let Some((need, forbid)) = facts else {
        return if refused {
            Ok(())
        } else {
            Err("the analysis lacks this data but the answer did not refuse".into())
        };
    };
    if refused {
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

type Facts = Option<(Vec<String>, Vec<String>)>;

/// (must say, must not say) for an expected answer; `None` when the analysis
/// lacks the data (then the intent must refuse).
fn expected_facts(a: &Analysis, e: &Expect) -> std::result::Result<Facts, String> {
    let sim = fmt_similarity(a.similarity);
    let thr = fmt_threshold(a.threshold);
    let rows = a
        .explainability_table
        .as_ref()
        .map(|t| t.rows.as_slice())
        .unwrap_or_default();
    let v = |need: Vec<String>, forbid: Vec<String>| Ok(Some((need, forbid)));
    match e.qtype.as_str() {
        "decision" => {
            let mut forbid = vec![thr];
            if a.decision == Decision::Match {
                forbid.push("non-match".into());
            }
            v(vec![format!("is {}", a.decision)], forbid)
        }
        "reasoning" => v(vec![sim, thr, a.decision.to_string()], vec![]),
        "confidence" => match &a.confidence {
            Some(c) => v(vec![fmt_percent(c.decision_confidence)], vec![thr]),
            None => Ok(None),
        },
        "most_important" => match rows.first() {
            Some(r) => v(vec![format!("the {}", r.region)], vec!["least".into()]),
            None => Ok(None),
        },
        "least_important" => match rows.last() {
            Some(r) => v(vec![format!("the {}", r.region)], vec!["most".into()]),
            None => Ok(None),
        },
        "region" => {
            let name = e
                .region
                .clone()
                .ok_or("a region question names no region")?;
            match rows.iter().position(|r| r.region == name) {
                Some(i) => {
                    let others = rows
                        .iter()
                        .filter(|r| r.region != name && !name.contains(&r.region))
                        .map(|r| format!("The {} ", r.region))
                        .collect();
                    v(vec![format!("The {name} is ranked {} of", i + 1)], others)
                }
                None => Ok(None),
            }
        }
        "xai" => v(
            vec!["Explainable artificial intelligence".into()],
            vec![sim],
        ),
        "output_images" => v(vec!["saliency heatmaps".into()], vec![sim]),
        "score" => v(vec![sim], vec![thr]),
        "threshold" => v(vec![thr], vec!["similarity score".into()]),
        "model" => v(vec![a.model.name.clone()], vec![a.model.sha256.clone()]),
        "images" => {
            let faces: Vec<usize> = e.face.map_or(vec![0, 1], |f| vec![f]);
            let paths = |keep: bool| {
                a.images
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| faces.contains(i) == keep)
                    .map(|(_, im)| im.path.clone())
                    .collect::<Vec<_>>()
            };
            let forbid = paths(false)
                .into_iter()
                .filter(|p| !paths(true).contains(p))
                .collect();
            v(paths(true), forbid)
        }
        "calibration" => match &a.confidence {
            Some(c) => v(vec![c.calibration.name.clone()], vec![sim]),
            None => Ok(None),
        },
        "quality" => {
            let faces: Vec<usize> = e.face.map_or(vec![0, 1], |f| vec![f]);
            let mut need = Vec::new();
            for f in faces {
                match a.images.get(f).and_then(|i| i.quality.as_ref()) {
                    Some(q) => need.push(format!("Face {} is {}", FACES[f], q.verdict)),
                    None => return Ok(None),
                }
            }
            v(need, vec![sim])
        }
        "evidence_strength" => match &a.evidence {
            Some(ev) => v(vec![ev.lr_text(), ev.verbal_band.clone()], vec![thr]),
            None => Ok(None),
        },
        // Refused unless the analysis records a faithfulness test or the method agreement.
        "faithfulness" => match super::values::faithfulness_text(a) {
            // The most faithful map's ratio, or the agreement sentence, must be said.
            Some(_) => match a
                .parameters
                .faithfulness
                .as_ref()
                .and_then(|f| f.most_faithful())
            {
                Some(m) => v(vec![format!("{} of face {}", m.name, m.face)], vec![thr]),
                None => v(vec!["The maps".into()], vec![thr]),
            },
            None => Ok(None),
        },
        // A field this build's analysis record does not have yet: it must be refused.
        "case_notes" => Ok(None),
        // Refused by the identity intent (checked above), with its reason.
        "identity" => Ok(None),
        other => Err(format!("unknown question type {other:?}")),
    }
}

/// One wrong answer.
#[derive(Clone, Debug)]
pub struct Failure {
    pub analysis: String,
    pub qtype: String,
    pub question: String,
    pub answer: Answer,
    pub reason: String,
}

/// Correct answers per question type (and for follow-ups), the failures, and every ask's latency.
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

    /// The per-type table (follow-ups last) as Markdown.
    pub fn table(&self) -> String {
        let mut s =
            String::from("| question type | correct | asked | rate |\n|---|---:|---:|---:|\n");
        for t in TYPES.iter().chain(&[FOLLOW_UPS]) {
            if let Some((c, n)) = self.per_type.get(*t) {
                s += &format!(
                    "| {t} | {c} | {n} | {:.1}% |\n",
                    100.0 * *c as f64 / (*n).max(1) as f64
                );
            }
        }
        s
    }

    fn score(&mut self, name: &str, row: &str, question: &str, result: (Answer, Result2)) {
        let entry = self.per_type.entry(row.into()).or_default();
        entry.1 += 1;
        match result.1 {
            Ok(()) => entry.0 += 1,
            Err(reason) => self.failures.push(Failure {
                analysis: name.into(),
                qtype: row.into(),
                question: question.into(),
                answer: result.0,
                reason,
            }),
        }
    }
}

type Result2 = std::result::Result<(), String>;

/// Ask every question (each on its own) and every follow-up conversation
/// about every analysis and score the answers.
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
                let (text, expect) = q.expect(qtype);
                engine.start_over();
                let t0 = Instant::now();
                let ans = engine.ask(a, text)?;
                report.latencies_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                let verdict = check(a, &expect, &ans);
                report.score(name, qtype, text, (ans, verdict));
            }
        }
        for f in &set.follow_ups {
            engine.start_over();
            let mut last = None;
            for t in &f.turns {
                let t0 = Instant::now();
                last = Some(engine.ask(a, t)?);
                report.latencies_ms.push(t0.elapsed().as_secs_f64() * 1e3);
            }
            let Some(ans) = last else { continue };
            let expect = Expect {
                qtype: f.qtype.clone(),
                region: f.region.clone(),
                face: f.face,
            };
            let verdict = check(a, &expect, &ans);
            report.score(name, FOLLOW_UPS, &f.turns.join(" → "), (ans, verdict));
        }
    }
    engine.start_over();
    Ok(report)
}
