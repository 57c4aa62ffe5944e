//! facexplain: compare two face photographs and explain the decision.
//!
//! Layers, lowest first (a layer imports only those below it; see
//! `ARCHITECTURE.md`, checked by `tests/layers.rs`):
//! - [`record`]: the typed analysis record, read and written; the leaf.
//! - [`progress`]: progress events and the cancel flag long work takes.
//! - [`resources`]: where models, data, assets and ONNX Runtime are found;
//!   the verified model store.
//! - [`pipeline`]: image loading, detection, alignment, embedding, comparison.
//!   No UI; long work takes a [`progress::Ctl`].
//! - [`quality`]: fitness of each face for comparison (ISO/IEC 29794-5 measures, verdict).
//! - [`calibration`]: scores → threshold, C-Score, PIC-Score at run time;
//!   fitting and metrics apart in [`calibration::fit`].
//! - [`explain`]: occlusion engine, X-Maps, Mery maps, regions and table.
//! - [`chat`]: context text and question answering over an [`record::Analysis`]
//!   (imports only record, resources, progress).
//! - [`session`]: the app's state without egui, changed by commands and worker events.
//! - [`report`]: the printable HTML report of an analysis.
//! - [`app`]: the egui desktop app (panels draw state, one worker runs jobs).
//! - [`cli`]: thin subcommands over the same library calls.

pub mod app;
pub mod calibration;
pub mod chat;
pub mod cli;
pub mod explain;
pub mod explore;
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
