//! Chat: turns an analysis into context sentences and answers questions about
//! it (Pixels-to-Words §2.3). Reads an [`crate::record::Analysis`]; never
//! recomputes it. May call: `record`, `progress`, `resources` (to
//! find and verify the MiniLM files).
//!
//! - [`context`]: the analysis as plain-text sentences, one fact each.
//! - [`embed`]: MiniLM sentence embeddings (candle); [`cache`]: the examples'
//!   embeddings cached on disk.
//! - [`qa`]: extractive QA with any Hugging Face `BertForQuestionAnswering`.
//! - [`intents`]: the intents as data (`assets/chat/intents.json`), [`slots`]
//!   (regions, methods, faces), [`classify`] (a softmax [`head`] over MiniLM
//!   embeddings and [`lexical`] wordpiece features, nearest-neighbour votes,
//!   the out-of-scope class and a calibrated threshold), [`conversation`] (follow-ups),
//!   [`values`] (what templates read from the analysis), [`answerer`].
//! - [`engine`]: what the GUI and CLI call — `ChatEngine::ask`.
//! - [`eval`]: the per-question-type evaluation.

pub mod answerer;
mod bert;
pub mod cache;
pub mod classify;
pub mod context;
pub mod conversation;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub mod head;
pub mod intents;
pub mod lexical;
pub mod numbers;
pub mod qa;
pub mod slots;
pub mod values;

pub use answerer::{Answer, AnswerPath};
pub use engine::ChatEngine;
pub use error::ChatError;

/// The questions the Pixels-to-Words evaluation asks (its Table 2), offered
/// as suggestions by the app's chat pane and the terminal chat.
pub const SUGGESTED_QUESTIONS: [&str; 7] = [
    "What is the decision?",
    "How did you come to this decision?",
    "How sure are you about the decision?",
    "What is the most important feature of this decision?",
    "What is the least important feature of this decision?",
    "What is explainable AI?",
    "What are these output images?",
];

/// Questions the X-Map table answers (beyond the paper's types), suggested
/// when an analysis has X-Maps.
pub const XMAP_QUESTIONS: [&str; 2] = [
    "Which region makes the faces look most alike?",
    "Where do the two faces differ the most?",
];

/// The questions to suggest for an analysis: the paper's, then the X-Map
/// ones when it has an X-Map table.
pub fn suggestions(has_xmap_table: bool) -> Vec<&'static str> {
    let xmap = if has_xmap_table {
        &XMAP_QUESTIONS[..]
    } else {
        &[]
    };
    SUGGESTED_QUESTIONS.iter().chain(xmap).copied().collect()
}
