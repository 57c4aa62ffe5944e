//! Driving the app in egui_kittest tests: stepping the UI until the worker
//! (which runs in real time) has brought the state a test waits for.

use egui::{Rect, pos2, vec2};
use egui_kittest::Harness;
use facexplain::app::FacexplainApp;
use facexplain::explain::ExplainParams;

/// The window size of the app's kittests.
pub const SIZE: egui::Vec2 = vec2(1280.0, 800.0);

/// The app in a [`SIZE`] window.
pub fn harness(app: FacexplainApp) -> Harness<'static, FacexplainApp> {
    Harness::builder()
        .with_size(SIZE)
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app)
}

/// Explanation parameters small enough for a test: one X-Map patch size on a
/// coarse stride, a 3×3 Mery grid with few greedy steps.
pub fn fast_params() -> ExplainParams {
    let mut p = ExplainParams::default();
    if let Some(x) = &mut p.xmap {
        x.patch_sizes = vec![28];
        x.stride = 14;
    }
    if let Some(m) = &mut p.mery {
        m.d = 28;
        m.tmax = 3;
    }
    p
}

/// A few frames so the layout settles (spinners keep asking for more, so no `run`).
pub fn settle(h: &mut Harness<'_, FacexplainApp>) {
    h.run_steps(4);
}

/// Hide the status bar (elapsed time, progress) and take a snapshot.
pub fn snapshot(h: &mut Harness<'_, FacexplainApp>, name: &str) {
    h.remove_cursor();
    settle(h);
    h.mask(Rect::from_min_max(
        pos2(0.0, SIZE.y - 30.0),
        pos2(SIZE.x, SIZE.y),
    ));
    h.snapshot(name);
}

#[path = "../../src/app/kittest_wait.rs"]
mod kittest_wait;
#[allow(unused_imports)] // each test crate uses its own subset
pub use kittest_wait::wait_until;
