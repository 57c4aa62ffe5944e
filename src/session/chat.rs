//! The conversation about the current pair: each question with its answer
//! once the worker has sent it (the input line belongs to the chat pane).

use crate::chat::Answer;

/// One question and its answer (once it has arrived).
pub struct Turn {
    pub generation: u64,
    pub question: String,
    pub answer: Option<Result<Answer, String>>,
}

/// The conversation about the current pair.
#[derive(Default)]
pub struct ChatLog {
    pub turns: Vec<Turn>,
    /// The chat was started over: the next question tells the engine to forget the conversation.
    pub start_over_pending: bool,
}

impl ChatLog {
    pub fn asked(&mut self, generation: u64, question: &str) {
        self.turns.push(Turn {
            generation,
            question: question.into(),
            answer: None,
        });
    }

    pub fn answered(&mut self, generation: u64, result: Result<Answer, String>) {
        if let Some(t) = self.turns.iter_mut().find(|t| t.generation == generation) {
            t.answer = Some(result);
        }
    }

    pub fn cancelled(&mut self, generation: u64) {
        if let Some(t) = self
            .turns
            .iter_mut()
            .find(|t| t.generation == generation && t.answer.is_none())
        {
            t.answer = Some(Err("cancelled".into()));
        }
    }

    /// A new pair: the conversation was about the old one.
    pub fn clear(&mut self) {
        self.turns.clear();
    }

    /// "Start over": the history goes and the next question is read on its own.
    pub fn start_over(&mut self) {
        self.turns.clear();
        self.start_over_pending = true;
    }

    pub fn waiting(&self) -> bool {
        self.turns.iter().any(|t| t.answer.is_none())
    }
}
