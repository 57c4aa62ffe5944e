//! ONNX Runtime, loaded dynamically from the library the set-up unpacked
//! (PyPI `onnxruntime==1.31.1`), found by [`crate::resources::locate::ort_library`].

use super::error::{PipelineError, Result};
use crate::resources::ModelStore;
use crate::resources::locate::ort_library;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use std::sync::OnceLock;

/// File name of the ONNX Runtime shared library this build expects.
pub const ORT_LIB: &str = "libonnxruntime.so.1.31.1";

static ENV: OnceLock<std::result::Result<ort::environment::Environment, String>> = OnceLock::new();

/// The environment variable that turns ONNX Runtime's POSIX telemetry
/// (1DS: a persistent device id, an uploader thread that resolves
/// `mobile.events.data.microsoft.com`) off entirely; it is read once, when
/// the library initialises. `DisableTelemetryEvents` (`with_telemetry(false)`)
/// only mutes some events: with it alone, `compare --explain` still sent DNS
/// queries (tests/no_network.rs).
pub const TELEMETRY_OFF_VAR: &str = "ORT_DISABLE_TELEMETRY";

/// Set [`TELEMETRY_OFF_VAR`] for this process. `main` calls it first thing,
/// while the process has one thread; [`environment`] calls it again before
/// loading the library, for library users such as the tests.
pub fn disable_telemetry() {
    if std::env::var_os(TELEMETRY_OFF_VAR).is_none_or(|v| v != "1") {
        // SAFETY: called before ONNX Runtime is loaded; Rust's own readers of
        // the environment are serialised by std's lock, and in the binary
        // this runs before any other thread exists.
        unsafe { std::env::set_var(TELEMETRY_OFF_VAR, "1") };
    }
}

/// The process-wide ONNX Runtime environment (loaded once).
pub fn environment() -> Result<&'static ort::environment::Environment> {
    ENV.get_or_init(|| {
        disable_telemetry();
        let tried = ort_library(ORT_LIB);
        let lib = tried.iter().find(|p| p.is_file()).ok_or_else(|| {
            format!(
                "{ORT_LIB} not found (looked at: {}); run `scripts/setup.sh` or set ORT_DYLIB_PATH",
                tried
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        ort::init_from(lib)
            .map_err(|e| format!("{}: cannot load: {e}", lib.display()))?
            .with_name("facexplain")
            // ONNX Runtime's telemetry resolves a Microsoft host name (DNS
            // over UDP) during inference: an offline forensic tool must not.
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("{}: cannot start: {e}", lib.display()))
    })
    .as_ref()
    .map_err(|e| PipelineError::Runtime(e.clone()))
}

/// Number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A session for the model `id` of `store`, its file checked against the
/// manifest, with one intra-op thread per core.
pub fn session(store: &ModelStore, id: &str) -> Result<Session> {
    session_threads(store, id, cores())
}

/// As [`session`] with `threads` intra-op threads (1: no thread pool).
pub fn session_threads(store: &ModelStore, id: &str, threads: usize) -> Result<Session> {
    let (_entry, bytes) = store.read_verified(id)?;
    session_from_bytes(id, &bytes, threads)
}

/// ONNX Runtime's graph optimisation levels by number: 0 none, 1 basic,
/// 2 extended, 3 all (layout transformations included; the default here).
pub const OPT_LEVELS: [GraphOptimizationLevel; 4] = [
    GraphOptimizationLevel::Disable,
    GraphOptimizationLevel::Level1,
    GraphOptimizationLevel::Level2,
    GraphOptimizationLevel::Level3,
];

/// The level every session is built with unless a benchmark asks for
/// another: 3, all optimisations (about 1.5× faster than 0–2 for SFace).
pub const DEFAULT_OPT_LEVEL: usize = 3;

/// A session over ONNX `bytes` with `threads` intra-op threads (1: the
/// calling thread runs every operator, no thread pool), fully optimised.
pub fn session_from_bytes(id: &str, bytes: &[u8], threads: usize) -> Result<Session> {
    session_tuned(id, bytes, threads, DEFAULT_OPT_LEVEL)
}

/// As [`session_from_bytes`] at graph optimisation level `level` (see [`OPT_LEVELS`]).
pub fn session_tuned(id: &str, bytes: &[u8], threads: usize, level: usize) -> Result<Session> {
    let env = environment()?;
    let err = |e: String| PipelineError::Inference {
        model: id.to_string(),
        reason: e,
    };
    let level = OPT_LEVELS
        .get(level)
        .copied()
        .ok_or_else(|| err(format!("graph optimisation level {level} (0 to 3)")))?;
    Session::builder(env)
        .map_err(|e| err(e.to_string()))?
        .with_optimization_level(level)
        .map_err(|e| err(e.to_string()))?
        .with_intra_threads(threads.max(1))
        .map_err(|e| err(e.to_string()))?
        .commit_from_memory(bytes)
        .map_err(|e| err(e.to_string()))
}
