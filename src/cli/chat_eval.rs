//! `facexplain chat-eval`: ask every question of a question set about each
//! analysis, score the answers strictly (the expected intent's answer with
//! its facts, see `chat::eval`), and print the per-type table, the follow-ups
//! row and the latency per question (the chat benchmark).

use super::ask::load_engine;
use crate::chat::eval::{EvalReport, QuestionSet, evaluate};
use crate::record::Analysis;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The never-tuned set: written by someone else before the final engine and run
/// once on it; no change is made from its results. Reported apart, and only
/// when present (it is added after the engine is final).
pub const SEALED_SET: &str = "tests/chat_sets/sealed_2026_12e.json";
/// The tuning sets (looked at while building the engine; sealed-2026-12,
/// sealed-2026-12b, sealed-2026-12c and sealed-2026-12d were never-tuned sets
/// until their failures were used to improve the engine).
pub const TUNING_SETS: [&str; 5] = [
    "tests/chat_sets/tuning.json",
    "tests/chat_sets/sealed_2026_12.json",
    "tests/chat_sets/sealed_2026_12b.json",
    "tests/chat_sets/sealed_2026_12c.json",
    "tests/chat_sets/sealed_2026_12d.json",
];
/// Analyses made by the real CLI from data/ images.
pub const REAL_ANALYSES: [&str; 5] = [
    "tests/chat_fixtures/real/plain_match.json",
    "tests/chat_fixtures/real/plain_non_match.json",
    "tests/chat_fixtures/real/match_mery.json",
    "tests/chat_fixtures/real/non_match_xmap.json",
    "tests/chat_fixtures/real/unfit_face.json",
];

#[derive(Args, Debug)]
pub struct ChatEvalArgs {
    /// Question sets (JSON, schema facexplain.chat-questions/2 or /1; repeatable;
    /// default: the tuning sets, then the never-tuned set when present, reported apart;
    /// paths in the source checkout, relative to the current folder).
    #[arg(long)]
    pub questions: Vec<PathBuf>,
    /// Analyses to ask about (repeatable; default: the real comparisons of the
    /// test suite, relative to the current folder).
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
    // The defaults are the test suite's files, relative to the current
    // folder: chat-eval is a developer's command run in the source checkout.
    let set_paths = if a.questions.is_empty() {
        let sealed = Path::new(SEALED_SET);
        if !sealed.is_file() {
            println!("never-tuned set {SEALED_SET}: not present yet; the tuning sets only");
        }
        TUNING_SETS
            .iter()
            .map(PathBuf::from)
            .chain(sealed.is_file().then(|| sealed.to_path_buf()))
            .collect()
    } else {
        a.questions.clone()
    };
    let paths = if a.analysis.is_empty() {
        REAL_ANALYSES.iter().map(PathBuf::from).collect()
    } else {
        a.analysis.clone()
    };
    if let Some(missing) = set_paths.iter().chain(&paths).find(|p| !p.is_file()) {
        return Err(super::BadInput(format!(
            "{}: not found; the default question sets and analyses are the test suite's, \
             so run `facexplain chat-eval` from the source checkout or pass --questions and --analysis",
            missing.display()
        ))
        .into());
    }
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
        "intents (softmax head + nearest neighbours over MiniLM) + templates (default)"
    };
    let c = &engine.answerer().classifier;
    println!(
        "answerer: {answerer}; {} analyses; head weight {:.2} against neighbours' votes ({} of {} held-back examples right); out-of-scope weight {:.2}; refusal threshold {:.3} (held-back examples: {} wrong, {} needless refusals of {})",
        analyses.len(),
        c.blend,
        c.held_back_right.0,
        c.held_back_right.1,
        c.out_weight,
        c.min_score,
        c.calibration.0,
        c.calibration.1,
        c.calibration.2
    );
    let tried: Vec<String> = c
        .blends_tried
        .iter()
        .map(|(b, n)| format!("{b:.2}: {n}"))
        .collect();
    println!(
        "held-back examples right by head weight: {}",
        tried.join(", ")
    );
    let mut latencies = Vec::new();
    for path in &set_paths {
        let set = QuestionSet::read(path)?;
        let report = evaluate(&mut engine, &analyses, &set)?;
        println!(
            "\n{} — {} ({} questions, {} follow-up conversations)",
            path.display(),
            if set.name.is_empty() {
                "unnamed"
            } else {
                &set.name
            },
            set.types.values().map(Vec::len).sum::<usize>(),
            set.follow_ups.len()
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
        "latency per question after loading ({} asks): median {:.1} ms, p95 {:.1} ms, max {:.1} ms; loading {:.0} ms",
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
                "WRONG [{}] {} | {:?}\n  -> {} ({}, intent {}, {:.3})\n  because it {}",
                f.qtype,
                f.analysis,
                f.question,
                f.answer.text,
                f.answer.path.as_str(),
                f.answer.intent,
                f.answer.confidence,
                f.reason,
            );
        }
    } else if !report.failures.is_empty() {
        println!("{} wrong answers (see --failures)", report.failures.len());
    }
}
