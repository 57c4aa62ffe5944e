//! Errors of the chat layer: each names the file or model and the problem.

use std::path::PathBuf;

/// Everything that can go wrong between a question and its answer.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// A verified model file (MiniLM) is missing or altered.
    #[error(transparent)]
    Model(#[from] crate::resources::ResourceError),
    #[error("{file}: cannot read the file: {reason}")]
    Read { file: PathBuf, reason: String },
    #[error("{file}: not a usable BERT config.json: {reason}")]
    Config { file: PathBuf, reason: String },
    #[error("{file}: cannot load the tokenizer: {reason}")]
    Tokenizer { file: PathBuf, reason: String },
    #[error("{dir}: cannot load the model weights: {reason}")]
    Weights { dir: PathBuf, reason: String },
    #[error("{model}: inference failed: {reason}")]
    Inference { model: String, reason: String },
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("{file}: not a valid chat intents file: {reason}")]
    Intents { file: PathBuf, reason: String },
    #[error("{file}: not a valid chat question set: {reason}")]
    QuestionSet { file: PathBuf, reason: String },
}

impl ChatError {
    /// True when the user's input (a question, a question-set file, a QA model
    /// folder they pointed at) is at fault: the CLI exits with 2 for these.
    pub fn is_bad_input(&self) -> bool {
        match self {
            ChatError::Model(p) => p.is_bad_input(),
            ChatError::EmptyQuestion
            | ChatError::QuestionSet { .. }
            | ChatError::Intents { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = ChatError> = std::result::Result<T, E>;
