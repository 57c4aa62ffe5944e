//! `facexplain chat-eval`: ask every question of a question set about each
//! analysis, score the answers against the analysis' facts, and print the
//! per-type table and the latency per question (the chat benchmark).

use super::ask::load_engine;
use crate::chat::eval::{EvalReport, QuestionSet, evaluate};
use crate::record::Analysis;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct ChatEvalArgs {
    /// Question sets (JSON, schema facexplain.chat-questions/1; repeatable;
    /// default: the tuning, held-out, fresh, unseen, blind and sealed sets of the test suite).
    #[arg(long)]
    pub questions: Vec<PathBuf>,
    /// Analyses to ask about (repeatable; default: the match and non-match fixtures of the test suite).
    #[arg(long)]
    pub analysis: Vec<PathBuf>,
    /// A Hugging Face BertForQuestionAnswering folder (see `facexplain ask --help`).
    #[arg(long)]
    pub qa_model: Option<PathBuf>,
    /// Print every wrong answer.
    #[arg(long)]
    pub failures: bool,
}

pub fn run(a: ChatEvalArgs) -> anyhow::Result<()> {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let set_paths = if a.questions.is_empty() {
        [
            "chat_questions.json",
            "chat_questions_heldout.json",
            "chat_questions_fresh.json",
            "chat_questions_unseen.json",
            "chat_questions_blind.json",
            "chat_questions_sealed.json",
        ]
        .map(|f| tests.join(f))
        .to_vec()
    } else {
        a.questions.clone()
    };
    let paths = if a.analysis.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/chat_fixtures");
        vec![dir.join("match.json"), dir.join("non_match.json")]
    } else {
        a.analysis.clone()
    };
    let analyses = paths
        .iter()
        .map(|p| Ok((p.display().to_string(), Analysis::read(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let t0 = Instant::now();
    let mut engine = load_engine(a.qa_model.as_deref())?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let answerer = if engine.qa_model().is_some() {
        "BERT-QA + sub-context"
    } else {
        "intent retrieval (default)"
    };
    println!("answerer: {answerer}; {} analyses", analyses.len());
    let mut latencies = Vec::new();
    for path in &set_paths {
        let set = QuestionSet::read(path)?;
        let report = evaluate(&mut engine, &analyses, &set)?;
        println!(
            "\n{} ({} questions)",
            path.display(),
            set.types.values().map(Vec::len).sum::<usize>()
        );
        print!("{}", report.table());
        print_failures(&report, a.failures);
        latencies.extend(report.latencies_ms);
    }
    let report = EvalReport {
        latencies_ms: latencies,
        ..EvalReport::default()
    };
    println!(
        "latency per question after loading ({} asks): median {:.1} ms, p95 {:.1} ms, max {:.1} ms; model loading {:.0} ms",
        report.latencies_ms.len(),
        report.latency_percentile(50.0),
        report.latency_percentile(95.0),
        report.latency_percentile(100.0),
        load_ms
    );
    Ok(())
}

fn print_failures(report: &EvalReport, all: bool) {
    if all {
        for f in &report.failures {
            println!(
                "WRONG [{}] {} | {:?}\n  -> {} ({}, {:.3})\n  because it {}; matched {}",
                f.qtype,
                f.analysis,
                f.question,
                f.answer.text,
                f.answer.path.as_str(),
                f.answer.confidence,
                f.reason,
                f.matched
            );
        }
    } else if !report.failures.is_empty() {
        println!("{} wrong answers (see --failures)", report.failures.len());
    }
}
