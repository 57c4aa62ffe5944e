//! The desktop app driven headlessly with egui_kittest, through the same code
//! paths a user triggers.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facexplain::app::{AppOptions, FacexplainApp};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// Step the UI until `done` holds (the worker runs in real time).
fn wait_for(h: &mut Harness<'_, FacexplainApp>, done: impl Fn(&FacexplainApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for the worker"
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run();
}

#[test]
fn a_dropped_pair_shows_the_decision() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.open_files(
        vec![
            data("face_recognition/obama.jpg"),
            data("face_recognition/obama2.jpg"),
        ],
        None,
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app);
    wait_for(&mut h, |a| a.comparison().is_some());
    h.get_by_label_contains("Decision: MATCH");
    h.get_by_label_contains("obama2.jpg");

    // A single unreadable file dropped on the reference slot: inline error, probe and its result kept.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.jpg");
    std::fs::write(&bad, b"not a jpeg").unwrap();
    h.state_mut()
        .open_files(vec![bad], Some(facexplain::app::worker::Slot::Reference));
    wait_for(&mut h, |a| !a.busy());
    h.get_by_label_contains("broken.jpg: not a supported image");
    assert!(
        h.state().comparison().is_some(),
        "the previous result stays on screen"
    );

    // Biden as reference: non-match.
    h.state_mut().open_files(
        vec![data("face_recognition/biden.jpg")],
        Some(facexplain::app::worker::Slot::Reference),
    );
    wait_for(&mut h, |a| !a.busy());
    h.get_by_label_contains("Decision: NON-MATCH");
}
