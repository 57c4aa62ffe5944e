//! `facexplain`: no arguments → the desktop app; a subcommand → the CLI.

use clap::Parser;
use facexplain::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread exists: ONNX Runtime must never phone home.
    facexplain::pipeline::runtime::disable_telemetry();
    let args = Cli::parse();
    cli::init_logging(args.verbose);
    let result = match args.command {
        None => facexplain::app::run(facexplain::app::AppOptions {
            frame_stats: args.frame_stats,
            drive: args.drive,
        }),
        Some(cmd) => cli::run(cmd, Some(facexplain::app::explorer_bench::scroll_frames)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::exit_code(&e))
        }
    }
}
