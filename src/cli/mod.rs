//! Command-line interface: thin subcommands over the library. Errors are
//! printed once here and mapped to exit codes: 0 ok, 2 bad input, 1 internal.

mod ask;
mod bench;
mod bench_explain;
mod bench_incremental;
mod bench_models;
mod bench_whatif;
mod calibrate;
mod case;
mod chat;
mod chat_eval;
mod compare;
mod embed;
mod eval;
mod explain_run;
mod explore;
mod faces;
mod faithfulness;
mod lr_report;
mod models;
pub mod progress;
mod quality;
mod report;

use crate::explore::bench::FrameProbe;
use crate::pipeline::PipelineError;
use clap::{Parser, Subcommand};

/// facexplain — compare two face photographs and explain the decision, offline.
///
/// Without a subcommand the desktop app opens on a built-in sample pair.
#[derive(Parser, Debug)]
#[command(name = "facexplain", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// GUI only: print frame-time p50/p99 to stderr every few seconds.
    #[arg(long)]
    pub frame_stats: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compare the faces of two images: similarity, threshold, decision.
    Compare(compare::CompareArgs),
    /// List the faces detected in an image (largest first).
    Faces(faces::FacesArgs),
    /// Measure per-stage speed (load, detect, align, embed, compare) and print medians.
    Bench(bench::BenchArgs),
    /// Measure the explanations: X-Map passes and time against bare passes, Mery maps, memory.
    BenchExplain(bench_explain::BenchExplainArgs),
    /// The face recognisers side by side: load, pass, compare and full X-Map times, with ratios to the first.
    BenchModels(bench_models::BenchModelsArgs),
    /// Calibrate confidences on a labelled dataset: threshold, C-Score sigmoid, PIC-Score densities → JSON.
    Calibrate(calibrate::CalibrateArgs),
    /// Measure a dataset: EER, FNMR@FMR, AUC, k-fold ECE of C-Score and PIC-Score, DET/histogram/reliability plots.
    Eval(eval::EvalArgs),
    /// Every pair of a dataset in one table: similarity, decision, C-Score, PIC-Score, LR; summary, CSV/JSON.
    Explore(explore::ExploreArgs),
    /// Embed a dataset (or one shard of it, --shard K/N) into a portable embeddings file (--out),
    /// for `explore`/`eval`/`calibrate --embeddings FILE...` to merge.
    Embed(embed::EmbedArgs),
    /// Answer a question about an analysis JSON: answer, confidence, source sentence(s), path.
    Ask(ask::AskArgs),
    /// Ask questions about an analysis JSON interactively on the terminal.
    Chat(chat::ChatArgs),
    /// Score the chat on a question set per question type and measure its latency.
    ChatEval(chat_eval::ChatEvalArgs),
    /// Fitness for comparison of every face in the images: ISO/IEC 29794-5 measures and a verdict.
    Quality(quality::QualityArgs),
    /// Write the self-contained, printable HTML report of an analysis JSON (images and maps embedded).
    Report(report::ReportArgs),
    /// Case files: new (compare and record), show, note, conclude, verify (re-run and compare every number).
    Case(case::CaseArgs),
    /// Face recognisers: list them, add your own (hash-pinned), probe a model's input conventions.
    Models(models::ModelsArgs),
    /// Deletion/insertion faithfulness of the greedy deletion map (and X-Maps, Mery) over genuine pairs: distribution.
    Faithfulness(faithfulness::FaithfulnessArgs),
    /// What-if occlusion latency: mask → new similarity, p50/p99 per fill.
    BenchWhatif(bench_whatif::BenchWhatifArgs),
}

/// A problem with what the user gave us (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for an error: 2 when the user's input is at fault, 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<case::Differs>() {
            return 3;
        }
        if let Some(p) = cause.downcast_ref::<PipelineError>() {
            return if p.is_bad_input() { 2 } else { 1 };
        }
        if cause.is::<BadInput>() || cause.is::<crate::record::RecordError>() {
            return 2;
        }
        if let Some(q) = cause.downcast_ref::<crate::quality::QualityError>() {
            return if q.is_bad_input() { 2 } else { 1 };
        }
        if let Some(c) = cause.downcast_ref::<crate::chat::ChatError>() {
            return if c.is_bad_input() { 2 } else { 1 };
        }
    }
    1
}

/// Set up logging on stderr: quiet by default.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FACEXPLAIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("facexplain={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Run one subcommand. `frames` times the app's explorer page for
/// `explore --bench` (the app is a layer above this one: `main.rs` hands it in).
pub fn run(command: Command, frames: Option<FrameProbe>) -> anyhow::Result<()> {
    match command {
        Command::Compare(a) => compare::run(a),
        Command::Faces(a) => faces::run(a),
        Command::Bench(a) => bench::run(a),
        Command::BenchExplain(a) => bench_explain::run(a),
        Command::BenchModels(a) => bench_models::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Explore(a) => explore::run(a, frames),
        Command::Embed(a) => embed::run(a),
        Command::Ask(a) => ask::run(a),
        Command::Chat(a) => chat::run(a),
        Command::ChatEval(a) => chat_eval::run(a),
        Command::Report(a) => report::run(a),
        Command::Quality(a) => quality::run(a),
        Command::Case(a) => case::run(a),
        Command::Models(a) => models::run(a),
        Command::Faithfulness(a) => faithfulness::run(a),
        Command::BenchWhatif(a) => bench_whatif::run(a),
    }
}
