//! facexplain: compare two face photographs and explain the decision.
//!
//! Layers (data flows one way, top to bottom; see `ARCHITECTURE.md`):
//! - [`record`]: the typed analysis record, read and written; the leaf.
//! - [`pipeline`]: image loading, detection, alignment, embedding, comparison.
//!   No UI; long work takes a [`progress::Ctl`].
//! - [`quality`]: fitness of each face for comparison (ISO/IEC 29794-5 measures, verdict).
//! - [`calibration`]: scores → threshold, C-Score, PIC-Score; fitting apart.
//! - [`explain`]: occlusion engine, X-Maps, Mery maps, regions and table.
//! - [`chat`]: context text and question answering over an [`record::Analysis`].
//! - [`session`]: the app's state without egui, changed by commands and worker events.
//! - [`app`]: the egui desktop app (panels draw state, one worker runs jobs).
//! - [`cli`]: thin subcommands over the same library calls.

pub mod app;
pub mod calibration;
pub mod chat;
pub mod cli;
pub mod explain;
pub mod pipeline;
pub mod progress;
pub mod quality;
pub mod record;
pub mod report;
pub mod resources;
pub mod session;

/// Software name and version written into every analysis and report.
pub const SOFTWARE_NAME: &str = env!("CARGO_PKG_NAME");
/// Version of this build.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");
