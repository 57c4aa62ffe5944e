//! The chat's intents as data: `assets/chat/intents.json` holds, per intent,
//! its example phrasings (the classifier's memory), the part of the analysis
//! it answers from, its answer template (or its refusal), and the synonyms of
//! the slots. Loaded and checked at start-up; the slot names themselves come
//! from the enums that define them ([`Region`], [`MeryMethod`], [`XMapMethod`],
//! the two faces), so the file can only add synonyms, never invent a region.

use super::error::{ChatError, Result};
use crate::record::Region;
use crate::record::params::{MeryMethod, XMapMethod};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Schema of the intents file.
pub const INTENTS_SCHEMA: &str = "facexplain.chat-intents/1";
/// The built-in intents file (compiled in, so the binary needs no assets folder).
pub const BUILTIN_JSON: &str = include_str!("../../assets/chat/intents.json");
/// Where the built-in file lives in the repository (named in errors).
pub const BUILTIN_PATH: &str = "assets/chat/intents.json";
/// The two faces of an analysis, as the chat names them.
pub const FACES: [&str; 2] = ["A", "B"];

/// Settings of the classifier's training (a softmax head over MiniLM embeddings).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSettings {
    /// Full-batch gradient steps.
    pub epochs: usize,
    pub learning_rate: f32,
    pub momentum: f32,
    /// L2 penalty on the weights.
    pub l2: f32,
    /// Every n-th example of each intent is held back to calibrate the refusal rule.
    pub held_out_every: usize,
    /// Neighbours that vote in the nearest-neighbour part of the classifier.
    #[serde(default = "default_neighbours")]
    pub neighbours: usize,
    /// Softness of the neighbours' votes: a neighbour weighs exp((cosine − best cosine) / temperature).
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    /// Weights of the head tried against the neighbours' votes (1 = head only); the one
    /// with the most right answers on the held-back examples is used.
    #[serde(default = "default_blends")]
    pub blends: Vec<f32>,
    /// A question at least this similar (cosine) to one example phrasing is
    /// that phrasing: the neighbours' votes weigh at least half.
    #[serde(default = "default_same_phrasing")]
    pub same_phrasing: f32,
    /// How far the head's loss is balanced between intents: an example of an
    /// intent with n examples weighs n^-balance (1 = every intent the same,
    /// 0 = every example the same).
    #[serde(default = "default_balance")]
    pub balance: f32,
    /// Length of a question's lexical feature vector (tf-idf over the
    /// examples' wordpieces) beside its unit-length embedding; 0 = embedding only.
    #[serde(default)]
    pub lexical_weight: f32,
}

fn default_balance() -> f32 {
    1.0
}

fn default_same_phrasing() -> f32 {
    0.98
}

fn default_neighbours() -> usize {
    7
}

fn default_temperature() -> f32 {
    0.05
}

fn default_blends() -> Vec<f32> {
    vec![1.0, 0.75, 0.5, 0.25, 0.0]
}

/// Which slot an intent's template is rendered once per value of.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Per {
    Region,
    Method,
    Face,
}

/// One intent of the data file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub name: String,
    /// The part of the analysis the answer comes from (shown with the answer).
    pub source: String,
    /// Answer template with `{value}` placeholders; none for refusals and follow-ups.
    #[serde(default)]
    pub answer: Option<String>,
    /// Said instead when the analysis lacks a value the template needs.
    #[serde(default)]
    pub missing: Option<String>,
    /// A refusal intent: this sentence is the answer.
    #[serde(default)]
    pub refuse: Option<String>,
    #[serde(default)]
    pub per: Option<Per>,
    /// A follow-up (why?, is that high?, and the other one?, start over): resolved against the last turn.
    #[serde(default)]
    pub follow_up: bool,
    /// The intent that answers "why?" after this one (default: this one).
    #[serde(default)]
    pub why: Option<String>,
    /// The intent that answers "is that high?" after this one (default: this one).
    #[serde(default)]
    pub high: Option<String>,
    /// The intent that answers "can I trust that?" after this one (default: this one).
    #[serde(default)]
    pub trust: Option<String>,
    pub examples: Vec<String>,
}

impl Intent {
    pub fn refused(&self) -> bool {
        self.refuse.is_some()
    }

    /// The intent this one names for a follow-up kind (`follow_why`,
    /// `follow_high`, `follow_trust`), if it names one.
    pub fn follow_target(&self, kind: &str) -> Option<&str> {
        match kind {
            "follow_why" => self.why.as_deref(),
            "follow_high" => self.high.as_deref(),
            "follow_trust" => self.trust.as_deref(),
            _ => None,
        }
    }
}

/// Slot synonyms of the data file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSynonyms {
    /// By the last word of a region's name (eye, eyebrow, …).
    pub region_parts: BTreeMap<String, Vec<String>>,
    /// Words naming the other side of the last region ("and the other cheek?").
    pub other_side: Vec<String>,
    /// Words standing for the last region's part after a side ("and the right one?").
    pub side_words: Vec<String>,
    /// By method name (S0-, …, xmap-III).
    pub methods: BTreeMap<String, Vec<String>>,
    /// By face (A, B).
    pub faces: BTreeMap<String, Vec<String>>,
    /// By face (A, B): words that name a face only after a turn that named
    /// one ("and the second?").
    #[serde(default)]
    pub face_ordinals: BTreeMap<String, Vec<String>>,
    /// Words that, with the other-side words, mean the other face than the
    /// last turn's ("and the other photo?").
    #[serde(default)]
    pub face_words: Vec<String>,
}

/// The whole intents file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentFile {
    pub schema: String,
    #[serde(default)]
    pub about: String,
    pub classifier: ClassifierSettings,
    pub slots: SlotSynonyms,
    pub intents: Vec<Intent>,
    /// SHA-256 of the file's text (keys the example cache, [`super::cache`]).
    #[serde(skip)]
    pub sha256: String,
}

/// Intents the engine refers to by name; the file must define them.
pub const REQUIRED: &[&str] = &[
    "region",
    "xmap_region",
    "xmap_alike",
    "xmap_unlike",
    "most_important",
    "least_important",
    "table",
    "reasoning",
    "follow_why",
    "follow_high",
    "follow_trust",
    "follow_slot",
    "start_over",
    "identity",
];

impl IntentFile {
    /// The built-in file.
    pub fn builtin() -> Result<IntentFile> {
        Self::parse(BUILTIN_JSON, Path::new(BUILTIN_PATH))
    }

    /// Read and check an intents file.
    pub fn read(path: &Path) -> Result<IntentFile> {
        let text = std::fs::read_to_string(path).map_err(|e| ChatError::Read {
            file: path.into(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parse and check: known schema, unique names, examples everywhere,
    /// slot synonyms only for slots the enums define, the intents the engine
    /// needs present.
    pub fn parse(text: &str, path: &Path) -> Result<IntentFile> {
        let bad = |reason: String| ChatError::Intents {
            file: PathBuf::from(path),
            reason,
        };
        let mut f: IntentFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        f.sha256 = crate::resources::sha256_hex(text.as_bytes());
        if f.schema != INTENTS_SCHEMA {
            return Err(bad(format!(
                "schema is {:?}, expected {INTENTS_SCHEMA:?}",
                f.schema
            )));
        }
        let c = &f.classifier;
        let ok = c.epochs > 0
            && c.neighbours > 0
            && c.temperature > 0.0
            && !c.blends.is_empty()
            && c.blends.iter().all(|b| (0.0..=1.0).contains(b))
            && c.held_out_every >= 2
            && c.learning_rate > 0.0
            && (0.0..1.0).contains(&c.momentum)
            && c.l2 >= 0.0
            && (0.0..=1.0).contains(&c.balance)
            && c.lexical_weight >= 0.0;
        if !ok {
            return Err(bad(
                "classifier needs epochs ≥ 1, held_out_every ≥ 2, learning_rate > 0, 0 ≤ momentum < 1, l2 ≥ 0, neighbours ≥ 1, temperature > 0, blends and balance in [0, 1], lexical_weight ≥ 0".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for i in &f.intents {
            if !seen.insert(i.name.as_str()) {
                return Err(bad(format!("intent {:?} is defined twice", i.name)));
            }
            if i.examples.len() < c.held_out_every || i.examples.iter().any(|e| e.trim().is_empty())
            {
                return Err(bad(format!(
                    "intent {:?} needs at least {} non-empty examples",
                    i.name, c.held_out_every
                )));
            }
            let kinds = [i.answer.is_some(), i.refused(), i.follow_up];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(bad(format!(
                    "intent {:?} needs exactly one of answer, refuse, follow_up",
                    i.name
                )));
            }
        }
        let targets = f
            .intents
            .iter()
            .flat_map(|i| i.why.iter().chain(&i.high).chain(&i.trust));
        if let Some(t) = targets.into_iter().find(|t| !seen.contains(t.as_str())) {
            return Err(bad(format!("follow-up target {t:?} is not an intent")));
        }
        if let Some(r) = REQUIRED.iter().find(|r| !seen.contains(**r)) {
            return Err(bad(format!("intent {r:?} is missing")));
        }
        let parts = region_parts();
        if let Some(p) = f.slots.region_parts.keys().find(|p| !parts.contains(p)) {
            return Err(bad(format!(
                "region part {p:?} is not a region; known: {}",
                parts.join(", ")
            )));
        }
        let methods = method_names();
        if let Some(m) = f.slots.methods.keys().find(|m| !methods.contains(m)) {
            return Err(bad(format!(
                "method {m:?} is not an explanation method; known: {}",
                methods.join(", ")
            )));
        }
        let face_keys = f.slots.faces.keys().chain(f.slots.face_ordinals.keys());
        if let Some(x) = face_keys.into_iter().find(|x| !FACES.contains(&x.as_str())) {
            return Err(bad(format!("face {x:?} is not one of A, B")));
        }
        Ok(f)
    }

    pub fn get(&self, name: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.name == name)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.intents.iter().position(|i| i.name == name)
    }
}

/// The last word of every region name (eye, eyebrow, nose, …), from [`Region::ALL`].
pub fn region_parts() -> Vec<String> {
    let mut v: Vec<String> = Region::ALL
        .iter()
        .filter_map(|r| r.name().split(' ').next_back().map(String::from))
        .collect();
    v.dedup();
    v.sort();
    v.dedup();
    v
}

/// Every explanation method's name, from [`MeryMethod::ALL`] and [`XMapMethod::ALL`].
pub fn method_names() -> Vec<String> {
    MeryMethod::ALL
        .iter()
        .map(|m| m.name().to_string())
        .chain(XMapMethod::ALL.iter().map(|m| m.name().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_file_loads_and_bad_files_are_named() {
        let f = IntentFile::builtin().expect("built-in intents");
        assert!(f.intents.len() > 20);
        let broken = BUILTIN_JSON.replacen("\"eyebrow\":", "\"ear\":", 1);
        let e = IntentFile::parse(&broken, Path::new("x.json")).unwrap_err();
        assert!(e.to_string().contains("x.json") && e.to_string().contains("\"ear\""));
        let e = IntentFile::parse("{", Path::new("y.json")).unwrap_err();
        assert!(e.to_string().contains("y.json"));
    }
}
