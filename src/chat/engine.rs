//! The chat engine the GUI worker and the CLI call: models loaded once,
//! `ask(analysis, question) -> Answer`. With a BERT-QA model installed it runs
//! the Pixels-to-Words §2.3 algorithm (QA on the whole context; below the
//! confidence threshold, QA again on the sub-context of the sentences most
//! similar to the question); without one, the default intent-retrieval
//! answerer. Both refuse questions the analysis cannot answer.

use super::answerer::{Answer, AnswerPath, DefaultAnswerer, refusal};
use super::context::Context;
use super::conversation::Conversation;
use super::embed::{SentenceEmbedder, dot};
use super::error::{ChatError, Result};
use super::qa::QaModel;
use crate::record::Analysis;
use crate::resources::ModelStore;
use std::path::{Path, PathBuf};

/// Settings of the QA path (Pixels-to-Words §2.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QaSettings {
    /// Whole-context answers below this probability are re-asked on the sub-context.
    pub threshold: f32,
    /// Sentences in the sub-context (most similar to the question first).
    pub sub_context_sentences: usize,
    /// Sub-context answers below this probability fall back to retrieval.
    pub floor: f32,
}

impl Default for QaSettings {
    fn default() -> Self {
        QaSettings {
            threshold: 0.5,
            sub_context_sentences: 3,
            floor: 0.1,
        }
    }
}

/// Where to look for an installed QA model when none is given: `$FACEXPLAIN_QA_MODEL`, else `<models>/qa/`.
pub fn default_qa_dir(store: &ModelStore) -> Option<PathBuf> {
    let dir = std::env::var_os("FACEXPLAIN_QA_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| store.dir.join("qa"));
    dir.join("config.json").is_file().then_some(dir)
}

/// Loaded chat models plus a cache of the last analysis' context.
pub struct ChatEngine {
    embedder: SentenceEmbedder,
    answerer: DefaultAnswerer,
    qa: Option<QaModel>,
    pub qa_settings: QaSettings,
    cache: Option<Prepared>,
    /// The conversation about the cached analysis (cleared when it changes).
    conversation: Conversation,
}

/// An analysis' context with its sentence embeddings (for the sub-context).
struct Prepared {
    context: Context,
    sentence_vecs: Option<Vec<Vec<f32>>>,
}

impl ChatEngine {
    /// Load MiniLM (SHA-256 verified) and, if given or installed, a QA model.
    pub fn load(store: &ModelStore, qa_dir: Option<&Path>) -> Result<ChatEngine> {
        let embedder = SentenceEmbedder::load(store)?;
        let qa_dir = qa_dir
            .map(Path::to_path_buf)
            .or_else(|| default_qa_dir(store));
        let qa = qa_dir.as_deref().map(QaModel::load).transpose()?;
        Self::from_parts(embedder, qa)
    }

    /// Build from already loaded models (tests, custom set-ups).
    pub fn from_parts(embedder: SentenceEmbedder, qa: Option<QaModel>) -> Result<ChatEngine> {
        let answerer = DefaultAnswerer::new(&embedder)?;
        // One single-sentence pass so the first question does not pay for
        // first-use allocations of the one-row shapes.
        embedder.embed_one("warm-up")?;
        Ok(ChatEngine {
            embedder,
            answerer,
            qa,
            qa_settings: QaSettings::default(),
            cache: None,
            conversation: Conversation::default(),
        })
    }

    /// The QA model in use, if any.
    pub fn qa_model(&self) -> Option<&QaModel> {
        self.qa.as_ref()
    }

    pub fn answerer(&self) -> &DefaultAnswerer {
        &self.answerer
    }

    pub fn embedder(&self) -> &SentenceEmbedder {
        &self.embedder
    }

    /// The context sentences of an analysis (cached for the last analysis asked about).
    pub fn context(&mut self, a: &Analysis) -> &Context {
        let context = Context::build(a);
        if self.cache.as_ref().is_none_or(|p| p.context != context) {
            self.conversation.clear();
            self.cache = Some(Prepared {
                context,
                sentence_vecs: None,
            });
        }
        &self.cache.as_ref().expect("set above").context
    }

    /// The intents ranked for a question (for diagnostics): (name, score) best first, and the confidence.
    pub fn classify(&self, question: &str) -> Result<(Vec<(String, f32)>, f32)> {
        let q = self.embedder.embed_one(question)?;
        let r = self
            .answerer
            .classifier
            .rank(&q, &self.embedder.pieces(question)?);
        let names = r
            .scores
            .iter()
            .map(|(i, s)| (self.answerer.file.intents[*i].name.clone(), *s))
            .collect();
        Ok((names, r.confidence))
    }

    /// Forget the conversation ("start over"): the next question is read on its own.
    pub fn start_over(&mut self) {
        self.conversation.clear();
    }

    /// True when a follow-up would refer to an earlier answer.
    pub fn in_conversation(&self) -> bool {
        self.conversation.last_intent().is_some()
    }

    /// Answer one question about an analysis, in the conversation so far
    /// (follow-ups refer to the last answered question about the same analysis).
    pub fn ask(&mut self, a: &Analysis, question: &str) -> Result<Answer> {
        let question = question.trim();
        if question.is_empty() {
            return Err(ChatError::EmptyQuestion);
        }
        self.context(a);
        let q = self.embedder.embed_one(question)?;
        let pieces = self.embedder.pieces(question)?;
        let context = &self.cache.as_ref().expect("set by context()").context;
        let retrieved = self
            .answerer
            .answer(a, question, (&q, &pieces), &mut self.conversation);
        if self.qa.is_none() || retrieved.path == AnswerPath::Refusal {
            return Ok(retrieved);
        }
        let context = context.clone();
        self.ask_qa(&context, question, &q, retrieved)
    }

    /// The paper's algorithm: whole context, then the sub-context, then retrieval.
    fn ask_qa(
        &mut self,
        context: &Context,
        question: &str,
        q: &[f32],
        retrieved: Answer,
    ) -> Result<Answer> {
        let Some(qa) = &self.qa else {
            return Ok(retrieved);
        };
        let s = self.qa_settings;
        let whole = context.text();
        if let Some(span) = qa.answer(question, &whole)?
            && span.probability >= s.threshold
        {
            return Ok(span_answer(
                context,
                &whole,
                span.start,
                span.end,
                span.text,
                span.probability,
                AnswerPath::Qa,
            ));
        }
        let sub = self.sub_context(q)?;
        let Some(qa) = &self.qa else {
            return Ok(retrieved);
        };
        let sub_ctx = Context { facts: sub };
        let sub_text = sub_ctx.text();
        match qa.answer(question, &sub_text)? {
            Some(span) if span.probability >= s.floor => Ok(span_answer(
                &sub_ctx,
                &sub_text,
                span.start,
                span.end,
                span.text,
                span.probability,
                AnswerPath::SubContext,
            )),
            _ => Ok(retrieved),
        }
    }

    /// The sentences most similar to the question (MiniLM cosine), in context order.
    fn sub_context(&mut self, q: &[f32]) -> Result<Vec<super::context::Fact>> {
        let k = self.qa_settings.sub_context_sentences;
        let Some(prep) = self.cache.as_mut() else {
            return Ok(Vec::new());
        };
        if prep.sentence_vecs.is_none() {
            let texts: Vec<&str> = prep.context.facts.iter().map(|f| f.text.as_str()).collect();
            prep.sentence_vecs = Some(self.embedder.embed(&texts)?);
        }
        let vecs = prep.sentence_vecs.as_ref().expect("set above");
        let mut order: Vec<usize> = (0..vecs.len()).collect();
        order.sort_by(|&i, &j| {
            dot(q, &vecs[j])
                .total_cmp(&dot(q, &vecs[i]))
                .then(i.cmp(&j))
        });
        let mut top: Vec<usize> = order.into_iter().take(k).collect();
        top.sort_unstable();
        Ok(top
            .into_iter()
            .map(|i| prep.context.facts[i].clone())
            .collect())
    }
}

/// A QA answer with the context sentence(s) its span lies in as sources.
fn span_answer(
    ctx: &Context,
    text: &str,
    start: usize,
    end: usize,
    span: String,
    p: f32,
    path: AnswerPath,
) -> Answer {
    let mut sources = Vec::new();
    let mut pos = 0;
    for f in &ctx.facts {
        let (s, e) = (pos, pos + f.text.len());
        if s < end && start < e {
            sources.push(f.text.clone());
        }
        pos = e + 1;
    }
    debug_assert!(pos >= text.len());
    if span.trim().is_empty() {
        return refusal(p, None);
    }
    Answer {
        text: span,
        confidence: p,
        sources,
        path,
        intent: String::new(),
    }
}
