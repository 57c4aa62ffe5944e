//! Progress reporting and cancellation for long work (shared by every layer).

use std::sync::atomic::{AtomicBool, Ordering};

/// One progress event: the stage being worked on and how far it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub stage: String,
    pub done: usize,
    pub total: usize,
}

/// The job was cancelled by the user; no partial result is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// What long work receives from its caller: a progress callback and a cancel
/// flag, checked between batches.
#[derive(Clone, Copy)]
pub struct Ctl<'a> {
    progress: &'a (dyn Fn(Progress) + Sync),
    cancel: &'a AtomicBool,
}

static NEVER: AtomicBool = AtomicBool::new(false);

impl<'a> Ctl<'a> {
    pub fn new(progress: &'a (dyn Fn(Progress) + Sync), cancel: &'a AtomicBool) -> Self {
        Self { progress, cancel }
    }

    /// No progress reporting, never cancelled.
    pub fn none() -> Ctl<'static> {
        Ctl {
            progress: &|_| {},
            cancel: &NEVER,
        }
    }

    /// Report that `done` of `total` units of `stage` are finished.
    pub fn report(&self, stage: &str, done: usize, total: usize) {
        (self.progress)(Progress {
            stage: stage.to_string(),
            done,
            total,
        });
    }

    /// `Err(Cancelled)` once the caller has asked to stop.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
