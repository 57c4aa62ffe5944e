//! Terminal progress bars (indicatif) driven by pipeline progress events, and
//! Ctrl-C wired to the cancel flag.

use crate::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A terminal progress bar that follows [`Progress`] events (hidden when
/// stderr is not a terminal).
pub struct TermProgress {
    bar: ProgressBar,
    stage: Mutex<String>,
}

impl Default for TermProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl TermProgress {
    pub fn new() -> TermProgress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>14} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        TermProgress {
            bar,
            stage: Mutex::new(String::new()),
        }
    }

    /// Update from one event.
    pub fn update(&self, p: Progress) {
        let mut stage = self.stage.lock().unwrap_or_else(|e| e.into_inner());
        if *stage != p.stage {
            *stage = p.stage.clone();
            self.bar.reset();
            self.bar.set_message(p.stage);
        }
        self.bar.set_length(p.total as u64);
        self.bar.set_position(p.done as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A cancel flag set by Ctrl-C (the first press cancels; a second exits).
pub fn ctrl_c_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ncancelling…");
        });
        flag
    })
    .clone()
}
