//! The default answerer, used when no extractive QA model is installed:
//! intent retrieval. The question's MiniLM embedding is matched to the closest
//! example phrasing of each intent (nearest neighbour, cosine); the intent
//! names the context sentences that answer it, and words in the question fill
//! the slots an embedding cannot tell apart (which region, which method,
//! most or least). Answers are whole context sentences, so every number in
//! them is copied from the analysis; out-of-scope or weakly matched questions
//! are refused.

use super::context::{Context, FactKey, method_slug};
use super::embed::{SentenceEmbedder, dot};
use super::error::Result;
use super::intents::{CUES, EXAMPLES, Intent};
use serde::Serialize;

/// Which path produced an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerPath {
    /// Extractive QA over the whole context.
    Qa,
    /// Extractive QA over the sub-context of the most similar sentences.
    SubContext,
    /// The default answerer: context sentences retrieved by intent.
    Retrieval,
    /// The analysis cannot answer the question.
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

/// An answer: its text, a confidence in [0,1], the context sentence(s) it came from, and its path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answer {
    pub text: String,
    pub confidence: f32,
    pub sources: Vec<String>,
    pub path: AnswerPath,
}

/// The sentence every refusal starts with.
pub const REFUSAL: &str = "I can't answer that from this analysis.";

/// Settings of the intent retrieval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetrievalSettings {
    /// A question whose best example similarity is below this is refused.
    pub min_similarity: f32,
    /// Softmax temperature turning intent scores into the confidence.
    pub temperature: f32,
    /// Score added per cue word of an intent found in the question.
    pub cue_weight: f32,
}

impl Default for RetrievalSettings {
    fn default() -> Self {
        RetrievalSettings {
            min_similarity: 0.40,
            temperature: 0.05,
            cue_weight: 0.1,
        }
    }
}

/// The intent a question was matched to, with its best example similarity and softmax confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Classified {
    pub intent: Intent,
    pub similarity: f32,
    pub confidence: f32,
}

/// Intent retrieval over embedded example phrasings.
pub struct DefaultAnswerer {
    examples: Vec<(Intent, Vec<f32>)>,
    pub settings: RetrievalSettings,
}

impl DefaultAnswerer {
    /// Embed every example phrasing once.
    pub fn new(embedder: &SentenceEmbedder) -> Result<DefaultAnswerer> {
        let texts: Vec<&str> = EXAMPLES
            .iter()
            .flat_map(|(_, ex)| ex.iter().copied())
            .collect();
        let vecs = embedder.embed(&texts)?;
        let intents = EXAMPLES
            .iter()
            .flat_map(|(i, ex)| std::iter::repeat_n(*i, ex.len()));
        Ok(DefaultAnswerer {
            examples: intents.zip(vecs).collect(),
            settings: RetrievalSettings::default(),
        })
    }

    /// The closest intent. Per intent: the best example similarity (MiniLM
    /// cosine) plus `settings.cue_weight` for each of its cue words in the
    /// question (at most two); confidence is the softmax (temperature
    /// `settings.temperature`) of those scores over intents.
    pub fn classify(&self, question: &str, q: &[f32]) -> Classified {
        let words = normalise_words(question);
        let mut best: Vec<(Intent, f32, f32)> = Vec::new();
        for (intent, v) in &self.examples {
            let s = dot(q, v);
            match best.iter_mut().find(|(i, _, _)| i == intent) {
                Some(b) => b.1 = b.1.max(s),
                None => best.push((*intent, s, 0.0)),
            }
        }
        for b in &mut best {
            b.2 = b.1 + self.settings.cue_weight * cue_hits(b.0, &words).min(2) as f32;
        }
        let top = best
            .iter()
            .copied()
            .fold(best[0], |a, b| if b.2 > a.2 { b } else { a });
        let t = self.settings.temperature;
        let z: f32 = best.iter().map(|b| ((b.2 - top.2) / t).exp()).sum();
        Classified {
            intent: top.0,
            similarity: top.1,
            confidence: 1.0 / z,
        }
    }

    /// Answer from the context sentences, or refuse.
    pub fn answer(&self, ctx: &Context, question: &str, q: &[f32]) -> Answer {
        let c = self.classify(question, q);
        if c.intent.out_of_scope() || c.similarity < self.settings.min_similarity {
            return refusal(c.confidence, None);
        }
        let keys = keys_for(ctx, question, c.intent);
        let facts: Vec<String> = keys
            .iter()
            .flat_map(|k| ctx.get(k))
            .map(|f| f.text.clone())
            .collect();
        let missing = keys
            .iter()
            .find(|k| matches!(k, FactKey::NoTable | FactKey::NoConfidence));
        if let Some(k) = missing {
            return refusal(c.confidence, ctx.get(k).first().map(|f| f.text.clone()));
        }
        if facts.is_empty() {
            return refusal(c.confidence, None);
        }
        Answer {
            text: facts.join(" "),
            confidence: c.confidence,
            sources: facts,
            path: AnswerPath::Retrieval,
        }
    }
}

/// A refusal, with the context sentence saying why when there is one.
pub fn refusal(confidence: f32, reason: Option<String>) -> Answer {
    match reason {
        Some(r) => Answer {
            text: format!("{REFUSAL} {r}"),
            confidence,
            sources: vec![r],
            path: AnswerPath::Refusal,
        },
        None => Answer {
            text: REFUSAL.into(),
            confidence,
            sources: Vec::new(),
            path: AnswerPath::Refusal,
        },
    }
}

/// The context sentences that answer an intent, with slots read from the question.
fn keys_for(ctx: &Context, question: &str, intent: Intent) -> Vec<FactKey> {
    let words = normalise_words(question);
    let regions = mentioned_regions(ctx, &words);
    let table = |k: FactKey| {
        if ctx.has(&FactKey::NoTable) {
            FactKey::NoTable
        } else {
            k
        }
    };
    let conf = |k: FactKey| {
        if ctx.has(&FactKey::NoConfidence) {
            FactKey::NoConfidence
        } else {
            k
        }
    };
    if !regions.is_empty()
        && matches!(
            intent,
            Intent::Importance
                | Intent::Region
                | Intent::Table
                | Intent::Reasoning
                | Intent::Decision
        )
    {
        let mut keys = Vec::new();
        if intent == Intent::Importance {
            keys.push(table(importance_key(&words)));
        }
        keys.extend(regions.into_iter().map(FactKey::Region));
        return keys;
    }
    if matches!(
        intent,
        Intent::Method | Intent::OutputImages | Intent::Colours | Intent::Table | Intent::XMaps
    ) {
        let methods = mentioned_methods(ctx, question);
        if !methods.is_empty() {
            return methods;
        }
    }
    match intent {
        // A decision is stated with its basis (score against threshold), and the
        // explanation of a decision starts by stating it (Pixels-to-Words found
        // users asking one while meaning the other).
        Intent::Decision => vec![FactKey::Decision, FactKey::Reasoning],
        Intent::Reasoning => vec![
            FactKey::Decision,
            FactKey::Reasoning,
            FactKey::RegionSummary,
        ],
        Intent::Confidence => vec![
            conf(FactKey::DecisionConfidence),
            FactKey::CScore,
            FactKey::PicScore,
        ],
        Intent::CScore => vec![conf(FactKey::CScore)],
        Intent::PicScore => vec![conf(FactKey::PicScore)],
        Intent::Importance => vec![table(importance_key(&words))],
        Intent::Region | Intent::Table => vec![table(FactKey::TableHow)],
        Intent::Xai => vec![FactKey::Xai],
        Intent::OutputImages | Intent::Method => {
            vec![FactKey::OutputImages, FactKey::HeatmapColours]
        }
        Intent::Colours => vec![FactKey::HeatmapColours],
        Intent::XMaps => vec![FactKey::XMaps],
        Intent::Score => vec![FactKey::Similarity],
        Intent::Threshold => vec![FactKey::Threshold],
        Intent::Model => vec![FactKey::Model],
        Intent::ModelHash => vec![FactKey::ModelHash],
        Intent::Images => vec![FactKey::Images],
        Intent::FaceRecognition => vec![FactKey::FaceRecognition],
        Intent::Limits => vec![FactKey::LimitsModel, FactKey::LimitsCalibration],
        Intent::LeftRight => vec![FactKey::LeftRight],
        Intent::OutPerson | Intent::OutPhoto | Intent::OutMetrics | Intent::OutOther => Vec::new(),
    }
}

/// Lower-case words with surrounding spaces (" the least important "), so
/// cues match whole words; "at least" is dropped because it is not a polarity.
fn normalise_words(q: &str) -> String {
    let lower = q.to_lowercase().replace(['’', '\''], "");
    let spaced: String = lower
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(" {} ", joined.replace("at least", " "))
}

/// How many of an intent's cue words the question contains (whole words or
/// word beginnings: the cue "decid" matches "decide" and "decided"). The
/// focus word (the first word after "what"/"which", skipping "is the…")
/// counts once more: in "Which model produced the similarity?" it is "model".
fn cue_hits(intent: Intent, words: &str) -> usize {
    let cues = CUES
        .iter()
        .find(|(i, _)| *i == intent)
        .map(|(_, c)| *c)
        .unwrap_or_default();
    let focus = focus_word(words);
    let in_text = cues
        .iter()
        .filter(|c| words.contains(&format!(" {c}")))
        .count();
    let in_focus = focus.is_some_and(|f| {
        cues.iter()
            .any(|c| f.starts_with(c) || c.split(' ').next() == Some(f))
    });
    in_text + usize::from(in_focus)
}

fn focus_word(words: &str) -> Option<&str> {
    const SKIP: &[&str] = &[
        "is", "was", "are", "were", "s", "the", "a", "an", "this", "these", "that", "of",
    ];
    let mut it = words
        .split_whitespace()
        .skip_while(|w| !matches!(*w, "what" | "which" | "whats"));
    it.next()?;
    it.find(|w| !SKIP.contains(w))
}

/// Words that turn an importance question into "least important".
const LEAST_CUES: &[&str] = &[
    "least",
    "lowest",
    "weakest",
    "smallest",
    "minimum",
    "minimal",
    "unimportant",
    "irrelevant",
    "not important",
    "not matter",
    "didnt matter",
    "doesnt matter",
    "not relevant",
    "not contribute",
    "no role",
    "little",
    "less",
    "bottom",
    "last",
    "negligible",
    "insignificant",
    "ignored",
    "lowest ranked",
    "worst",
    "fewest",
    "not help",
];

fn importance_key(words: &str) -> FactKey {
    if LEAST_CUES.iter().any(|c| words.contains(&format!(" {c} "))) {
        FactKey::LeastImportant
    } else {
        FactKey::MostImportant
    }
}

/// Region names of the table that the question mentions, by their last word
/// (eyebrow, eye, cheek, nose, chin, lips) or a synonym, narrowed by "left"/"right".
fn mentioned_regions(ctx: &Context, words: &str) -> Vec<String> {
    let has = |w: &str| words.contains(&format!(" {w} "));
    let (left, right) = (has("left"), has("right"));
    let mut out = Vec::new();
    for f in &ctx.facts {
        let FactKey::Region(name) = &f.key else {
            continue;
        };
        let lower = name.to_lowercase();
        let part = lower.split_whitespace().last().unwrap_or("");
        let synonyms: &[&str] = match part {
            "eyebrow" => &["eyebrow", "eyebrows", "brow", "brows"],
            "eye" => &["eye", "eyes"],
            "cheek" => &["cheek", "cheeks"],
            "nose" => &["nose", "nostrils"],
            "chin" => &["chin", "jaw"],
            "lips" | "lip" | "mouth" => &["lips", "lip", "mouth"],
            _ => &[],
        };
        if !(synonyms.iter().any(|s| has(s)) || has(&lower)) {
            continue;
        }
        let side_ok = match (lower.starts_with("left"), lower.starts_with("right")) {
            (true, _) => left || !right,
            (_, true) => right || !left,
            _ => true,
        };
        if side_ok {
            out.push(name.clone());
        }
    }
    out
}

/// Method facts whose method the question names ("S0-", "S0 minus", "greedy removal", "AVG"…).
fn mentioned_methods(ctx: &Context, question: &str) -> Vec<FactKey> {
    let compact = method_slug(question);
    let mut out = Vec::new();
    for f in &ctx.facts {
        let FactKey::Method(name) = &f.key else {
            continue;
        };
        let slug = method_slug(name);
        let aliases: &[&str] = match slug.as_str() {
            "s0-" => &["s0-", "s0minus", "singleremoval"],
            "s1-" => &["s1-", "s1minus", "greedyremoval"],
            "s0+" => &["s0+", "s0plus", "singleaggregation"],
            "s1+" => &["s1+", "s1plus", "greedyaggregation"],
            "avg" => &["avg", "averagemap", "averageof"],
            _ => &[],
        };
        if compact.contains(&slug) || aliases.iter().any(|a| compact.contains(a)) {
            out.push(f.key.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_word_follows_what_or_which() {
        assert_eq!(
            focus_word(&normalise_words("Which model produced the similarity?")),
            Some("model")
        );
        assert_eq!(
            focus_word(&normalise_words("So what's the cut-off?")),
            Some("cut")
        );
        assert_eq!(focus_word(&normalise_words("How sure are you?")), None);
    }

    #[test]
    fn polarity_cues_are_whole_words() {
        let w = normalise_words("Which region mattered the least?");
        assert_eq!(importance_key(&w), FactKey::LeastImportant);
        // "at least" is not a polarity; "lastly" is not "last".
        assert_eq!(
            importance_key(&normalise_words("Name at least the most important region")),
            FactKey::MostImportant
        );
        assert_eq!(
            importance_key(&normalise_words("Lastly, what mattered most?")),
            FactKey::MostImportant
        );
    }
}
