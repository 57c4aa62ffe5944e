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
use super::intents::{CUE_PARENTS, CUES, EXAMPLES, FOCUS_CUES, Intent};
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
    /// A question whose best example similarity is below this is refused
    /// unless it contains a cue word of the intent it matched.
    pub min_similarity: f32,
    /// A question whose best example similarity is below this is always refused.
    pub floor_similarity: f32,
    /// A question matched below this similarity and without a cue word of its
    /// intent is refused when it has a cue word of an out-of-scope intent
    /// ("Is the person left-handed?" is about the person, not about sides).
    pub weak_similarity: f32,
    /// Softmax temperature turning intent scores into the confidence.
    pub temperature: f32,
    /// Score added per cue word of an intent found in the question.
    pub cue_weight: f32,
    /// At most this many cue words count per intent.
    pub max_cues: usize,
}

impl Default for RetrievalSettings {
    fn default() -> Self {
        RetrievalSettings {
            min_similarity: 0.40,
            floor_similarity: 0.25,
            weak_similarity: 0.65,
            temperature: 0.05,
            cue_weight: 0.1,
            max_cues: 5,
        }
    }
}

/// The intent a question was matched to, with its best example similarity,
/// the number of its cue words in the question, and the softmax confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Classified {
    pub intent: Intent,
    pub similarity: f32,
    pub cues: usize,
    pub confidence: f32,
    /// Whether an out-of-scope intent has a cue word in the question.
    pub out_of_scope_cue: bool,
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
    /// question (at most `settings.max_cues`); confidence is the softmax (temperature
    /// `settings.temperature`) of those scores over intents.
    pub fn classify(&self, question: &str, q: &[f32]) -> Classified {
        let words = normalise_words(question);
        // (intent, best similarity, cue words, score)
        let mut best: Vec<(Intent, f32, usize, f32)> = Vec::new();
        for (intent, v) in &self.examples {
            let s = dot(q, v);
            match best.iter_mut().find(|b| b.0 == *intent) {
                Some(b) => b.1 = b.1.max(s),
                None => best.push((*intent, s, 0, 0.0)),
            }
        }
        for b in &mut best {
            b.2 = cue_hits(b.0, &words).min(self.settings.max_cues);
            b.3 = b.1 + self.settings.cue_weight * b.2 as f32;
        }
        let top = best
            .iter()
            .copied()
            .fold(best[0], |a, b| if b.3 > a.3 { b } else { a });
        let t = self.settings.temperature;
        let z: f32 = best.iter().map(|b| ((b.3 - top.3) / t).exp()).sum();
        Classified {
            intent: top.0,
            similarity: top.1,
            cues: top.2,
            confidence: 1.0 / z,
            out_of_scope_cue: best.iter().any(|b| b.0.out_of_scope() && b.2 > 0),
        }
    }

    /// Answer from the context sentences, or refuse.
    pub fn answer(&self, ctx: &Context, question: &str, q: &[f32]) -> Answer {
        let c = self.classify(question, q);
        let s = &self.settings;
        let weak = c.cues == 0
            && (c.similarity < s.min_similarity
                || (c.similarity < s.weak_similarity && c.out_of_scope_cue));
        if c.intent.out_of_scope() || weak || c.similarity < s.floor_similarity {
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
    // Questions on how alike regions are go to the X-Map table when there is one.
    if ctx.has(&FactKey::XmapMostSimilar)
        && XMAP_CUES.iter().any(|c| words.contains(c))
        && (matches!(
            intent,
            Intent::Importance | Intent::Region | Intent::Table | Intent::XMaps
        ) || (intent == Intent::Score && !regions.is_empty()))
    {
        if !regions.is_empty() {
            return regions.into_iter().map(FactKey::XmapRegion).collect();
        }
        let least = LEAST_ALIKE_CUES.iter().any(|c| words.contains(c))
            || importance_key(&words) == FactKey::LeastImportant;
        return vec![if least {
            FactKey::XmapLeastSimilar
        } else {
            FactKey::XmapMostSimilar
        }];
    }
    // A region's "score" is its row of the table.
    if !regions.is_empty() && intent == Intent::Score {
        return regions
            .into_iter()
            .map(|r| table(FactKey::Region(r)))
            .collect();
    }
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
/// word beginnings: the cue "decid" matches "decide" and "decided"); when it
/// has one, its parent intent's cues count too (see [`CUE_PARENTS`]). The
/// focus word (the first word after "what"/"which", skipping "is the…") names
/// what is asked for and counts three times more when it is a cue or a focus cue:
/// in "Which model produced the similarity?" it is "model".
fn cue_hits(intent: Intent, words: &str) -> usize {
    let find = |table: &[(Intent, &'static [&'static str])], i: Intent| {
        table
            .iter()
            .find(|(c, _)| *c == i)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    };
    let in_text = |c: &&&str| words.contains(&format!(" {c}"));
    let own = find(CUES, intent);
    let own_hits = own.iter().filter(in_text).count();
    let parent: Vec<&str> = CUE_PARENTS
        .iter()
        .filter(|(child, _)| *child == intent && own_hits > 0)
        .flat_map(|(_, p)| find(CUES, *p).iter().copied())
        .collect();
    // "Above what score…" and "Which value must it exceed?" ask for a bound
    // of the score: the threshold.
    let bound = BOUND_WORDS
        .iter()
        .any(|b| words.contains(&format!(" {b} what ")) || words.contains(&format!(" {b} which ")))
        || BOUND_VERBS.iter().any(|v| words.contains(&format!(" {v}")));
    let focus = focus_word(words).filter(|_| !bound || intent == Intent::Threshold);
    let in_focus = focus.is_some_and(|f| {
        own.iter()
            .chain(&parent)
            .chain(find(FOCUS_CUES, intent))
            .any(|c| f.starts_with(c) || c.split(' ').next() == Some(f))
    });
    own_hits + parent.iter().filter(in_text).count() + 3 * usize::from(in_focus)
}

/// Prepositions that make "… what X" ask for a bound of X.
const BOUND_WORDS: &[&str] = &["above", "below", "over", "under", "from", "beyond"];

/// Verbs (and word beginnings) that make a question ask for a bound.
const BOUND_VERBS: &[&str] = &["exceed", "surpass"];

/// The word naming what a question asks for: the first content word after "what"/"which".
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

/// Words (with their spaces, as in [`normalise_words`]) that ask how alike
/// the faces are at a region: the X-Maps' subject.
const XMAP_CUES: &[&str] = &[
    " x map",
    " xmap",
    " similar ",
    " dissimilar ",
    " alike ",
    " resembl",
    " differ",
    " apart ",
    " in common ",
    " match best ",
    " match worst ",
    " unlike ",
];

/// Words that ask for the region making the faces look least alike, beyond
/// the least-important polarity cues ("least", "less", "worst") that
/// [`importance_key`] reads.
const LEAST_ALIKE_CUES: &[&str] = &[
    " dissimilar ",
    " differ",
    " apart ",
    " unlike ",
    " not similar ",
    " not alike ",
];

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
    "ignore",
    "ignored",
    "ignores",
    "ignoring",
    "overlook",
    "overlooked",
    "disregard",
    "disregarded",
    "neglect",
    "neglected",
    "lowest ranked",
    "worst",
    "fewest",
    "poorest",
    "minor",
    "not help",
];

/// Words that deny the importance word after them ("barely mattered", "had no influence").
const NEGATORS: &[&str] = &[
    "not", "no", "never", "barely", "hardly", "scarcely", "little", "without", "nothing", "didnt",
    "doesnt", "dont", "wasnt", "isnt", "werent", "arent",
];

/// Beginnings of the words that say a region mattered.
const IMPORTANCE_WORDS: &[&str] = &[
    "matter",
    "influen",
    "import",
    "relevan",
    "contribut",
    "effect",
    "impact",
    "role",
    "weight",
    "count",
    "help",
    "signific",
    "useful",
    "affect",
    "drove",
    "driv",
    "decisive",
];

/// Most or least important: least when a polarity cue is present or an
/// importance word is denied by a negator at most three words before it.
fn importance_key(words: &str) -> FactKey {
    let tokens: Vec<&str> = words.split_whitespace().collect();
    let denied = tokens.iter().enumerate().any(|(i, t)| {
        IMPORTANCE_WORDS.iter().any(|w| t.starts_with(w))
            && tokens[i.saturating_sub(3)..i]
                .iter()
                .any(|n| NEGATORS.contains(n))
    });
    if denied || LEAST_CUES.iter().any(|c| words.contains(&format!(" {c} "))) {
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
        assert_eq!(
            focus_word(&normalise_words("Above what score is it a match?")),
            Some("score")
        );
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
