//! Stepping a kittest harness of the app until the worker (which runs in real
//! time) has brought the state a test waits for. One file for the crate's unit
//! tests (`src/app/tests.rs`) and the integration tests (`tests/common/app.rs`),
//! which include it with `#[path]`; the includer has `FacexplainApp` in scope.

use super::FacexplainApp;
use egui_kittest::Harness;
use std::time::{Duration, Instant};

/// Step the UI until `done` holds; fail after `limit_s` seconds naming
/// `what` and the app's banner and explorer error.
pub fn wait_until(
    h: &mut Harness<'_, FacexplainApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&FacexplainApp) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(limit_s),
            "timed out waiting for {what}; banner: {:?}; explorer error: {:?}",
            h.state().banner,
            h.state().explorer.error
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}
