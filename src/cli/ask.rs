//! `facexplain ask --analysis A.json "question"`: one answer about an analysis,
//! with its confidence, its source (the part of the analysis), the intent it
//! answers and the path that answered.

use crate::chat::{Answer, ChatEngine};
use crate::record::Analysis;
use crate::resources::ModelStore;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct AskArgs {
    /// The analysis JSON written by `facexplain compare --json`.
    #[arg(long)]
    pub analysis: PathBuf,
    /// The question, in plain English.
    pub question: String,
    /// Print the answer as JSON (question, answer, confidence, path, sources).
    #[arg(long)]
    pub json: bool,
    /// A Hugging Face BertForQuestionAnswering folder to answer with
    /// (default: $FACEXPLAIN_QA_MODEL, else models/qa/ when present, else the
    /// built-in intent-retrieval answerer).
    #[arg(long)]
    pub qa_model: Option<PathBuf>,
}

/// Load the chat models once (MiniLM verified by SHA-256, optional QA model).
pub(super) fn load_engine(qa_model: Option<&Path>) -> anyhow::Result<ChatEngine> {
    let store = ModelStore::locate()?;
    Ok(ChatEngine::load(&store, qa_model)?)
}

/// Print an answer for people: text, confidence and path, then its sources.
pub(super) fn print_answer(ans: &Answer) {
    println!("{}", ans.text);
    let intent = if ans.intent.is_empty() {
        String::new()
    } else {
        format!("  ·  intent: {}", ans.intent)
    };
    println!(
        "  confidence {:.1}%  ·  path: {}{intent}",
        ans.confidence * 100.0,
        ans.path.as_str()
    );
    for s in &ans.sources {
        println!("  source: {s}");
    }
}

pub fn run(a: AskArgs) -> anyhow::Result<()> {
    let analysis = Analysis::read(&a.analysis)?;
    let mut engine = load_engine(a.qa_model.as_deref())?;
    let ans = engine.ask(&analysis, &a.question)?;
    if a.json {
        let out = serde_json::json!({
            "question": a.question,
            "answer": ans.text,
            "confidence": ans.confidence,
            "path": ans.path,
            "intent": ans.intent,
            "sources": ans.sources,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_answer(&ans);
    }
    Ok(())
}
