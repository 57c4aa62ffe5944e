//! `facexplain chat --analysis A.json`: an interactive conversation on the
//! terminal; follow-ups ("why?", "and the nose?") refer to the last answer,
//! "start over" forgets it.

use super::ask::{load_engine, print_answer};
use crate::chat::ChatError;
use crate::record::Analysis;
use clap::Args;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The analysis JSON written by `facexplain compare --json`.
    #[arg(long)]
    pub analysis: PathBuf,
    /// A Hugging Face BertForQuestionAnswering folder (see `facexplain ask --help`).
    #[arg(long)]
    pub qa_model: Option<PathBuf>,
}

pub fn run(a: ChatArgs) -> anyhow::Result<()> {
    let analysis = Analysis::read(&a.analysis)?;
    let mut engine = load_engine(a.qa_model.as_deref())?;
    println!(
        "Ask about {} (follow-ups refer to the last answer; `start over` forgets it; empty line, `quit` or Ctrl-D to leave). For example:",
        a.analysis.display()
    );
    for q in crate::chat::suggestions(analysis.xmap_table.is_some()) {
        println!("  {q}");
    }
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        print!("> ");
        std::io::stdout().flush()?;
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let q = line.trim();
        if q.is_empty() || q.eq_ignore_ascii_case("quit") || q.eq_ignore_ascii_case("exit") {
            break;
        }
        match engine.ask(&analysis, q) {
            Ok(ans) => print_answer(&ans),
            Err(ChatError::EmptyQuestion) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
