//! A worker that fails leaves the app alive (issue 20 item 4): faults are
//! injected into the worker's jobs (compiled only into the unit tests) and
//! the window is driven with egui_kittest, with the real models and images.

use super::worker::fault;
use super::{AppOptions, FacexplainApp};
use crate::session::{Command, JobKind, Slot};
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[path = "kittest_wait.rs"]
mod kittest_wait;
use kittest_wait::wait_until;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

#[test]
fn a_panicking_job_is_reported_and_the_worker_keeps_serving() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    // Small parameters: one X-Map patch size on a coarse stride, a coarse Mery grid.
    if let Some(x) = &mut app.settings.params.xmap {
        x.patch_sizes = vec![28];
        x.stride = 14;
    }
    if let Some(m) = &mut app.settings.params.mery {
        m.d = 28;
        m.tmax = 3;
    }
    app.open_sample_pair();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app);
    wait_until(&mut h, "the explanation", 400, |a| {
        a.explanation().is_some()
    });
    h.run_steps(4);
    let ex = h.state().explanation().cloned().unwrap();
    let similarity = h.state().analysis().unwrap().similarity;

    // The map computation panics: reported in the status bar and the banner,
    // the previous explanation stays.
    fault::arm(JobKind::Explain, 1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::E);
    wait_until(&mut h, "the failed explanation", 120, |a| {
        !a.explaining() && a.fault.is_some()
    });
    h.run_steps(4);
    h.get_by_label_contains("Internal error while explaining: injected fault in a Explain job");
    h.get_by_label_contains("The explanation failed: internal error: injected fault");
    let kept = h
        .state()
        .explanation()
        .cloned()
        .expect("the previous explanation");
    assert!(Arc::ptr_eq(&kept, &ex));
    assert!(h.state().shown_maps().is_some_and(|m| m.complete.is_some()));

    // A model job panics (the reference image's): inline error, result kept.
    h.state_mut().settings.auto_explain = false;
    fault::arm(JobKind::Image, 1);
    h.state_mut().run(Command::OpenInSlot(
        Slot::Reference,
        data("face_recognition/biden.jpg"),
    ));
    wait_until(&mut h, "the failed image job", 120, |a| !a.busy());
    h.run_steps(4);
    h.get_by_label_contains("Internal error while analysing the reference image");
    let err = h.state().slots[1].error.clone().unwrap_or_default();
    assert!(err.contains("injected fault"), "{err}");
    assert_eq!(h.state().analysis().map(|a| a.similarity), Some(similarity));
    h.get_by_label_contains("Decision: MATCH");
    assert!(h.state().explanation().is_some_and(|e| Arc::ptr_eq(e, &ex)));

    // The worker goes on serving jobs: the same file again loads and compares.
    h.state_mut().run(Command::OpenInSlot(
        Slot::Reference,
        data("face_recognition/biden.jpg"),
    ));
    wait_until(&mut h, "biden", 120, |a| {
        !a.busy() && a.slots[1].error.is_none()
    });
    h.run_steps(4);
    assert!(h.state().fault.is_none(), "a new job clears the fault");
    h.get_by_label_contains("Decision: NON-MATCH");
    h.get_by_label("biden.jpg");
}
