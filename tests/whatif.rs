//! What-if occlusion in the app (issue 16), driven headlessly with
//! egui_kittest on the sample pair with the real models: a brush stroke on
//! face A changes the similarity the viewer shows; Undo brings the original
//! back; with an explanation's regions, clicking a region in the table hides
//! it on both faces and shows its similarity.

use egui::vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facexplain::app::table::TableKind;
use facexplain::app::{AppOptions, FacexplainApp};
use facexplain::session::{Command, SaliencyFace};
use std::time::{Duration, Instant};

fn harness(app: FacexplainApp) -> Harness<'static, FacexplainApp> {
    Harness::builder()
        .with_size(vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app)
}

/// Step until `done` holds (the worker runs in real time), then a few frames.
fn step_until(
    h: &mut Harness<'_, FacexplainApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&FacexplainApp) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(limit_s),
            "timed out waiting for {what}; banner: {:?}",
            h.state().banner
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run_steps(4);
}

/// The what-if sentence, checked to be on screen.
fn sentence(h: &Harness<'_, FacexplainApp>) -> String {
    let s = h.state().what_if_sentence().expect("a what-if sentence");
    h.get_by_label(&format!("What-if: {s}"));
    s
}

#[test]
fn a_brush_stroke_and_a_table_click_change_the_shown_similarity() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    if let Some(x) = &mut app.settings.params.xmap {
        x.patch_sizes = vec![28];
        x.stride = 14;
    }
    app.settings.params.mery = None;
    app.open_sample_pair();
    let mut h = harness(app);
    step_until(&mut h, "the pair", 180, |a| a.analysis().is_some());
    let original = h.state().analysis().unwrap().similarity;

    h.get_by_label("What-if").click();
    h.run_steps(4);
    assert!(h.state().whatif.active);
    h.get_by_label_contains("What-if: nothing hidden yet");

    // A stroke across the eyes of face A (the upper middle of the crop).
    let view = h.get_by_label_contains("Map view of face A").rect();
    let from = view.left_top() + vec2(view.width() * 0.25, view.height() * 0.4);
    let to = view.left_top() + vec2(view.width() * 0.75, view.height() * 0.4);
    h.drag_at(from);
    h.step();
    for k in 1..=6 {
        h.hover_at(from + (to - from) * (k as f32 / 6.0));
        h.step();
    }
    h.drop_at(to);
    h.run_steps(2);
    assert!(
        h.state().whatif.hidden.count(0) > 500,
        "the stroke painted face A"
    );
    assert_eq!(h.state().whatif.hidden.count(1), 0);
    step_until(&mut h, "the what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let hidden = h.state().whatif.similarity().unwrap();
    assert!(
        (hidden - original).abs() > 0.01,
        "{original} → {hidden}: hiding the eyes changes the similarity"
    );
    let s = sentence(&h);
    assert!(
        s.contains("painted area of face A hidden")
            && s.contains(&format!("{original:.3} to {hidden:.3}")),
        "{s}"
    );
    // The viewer did not pan while painting.
    assert_eq!(h.state().viewer.centre, vec2(0.5, 0.5));

    // Undo: nothing hidden.
    h.get_by_label("Undo").click();
    h.run_steps(4);
    assert!(h.state().whatif.hidden.is_empty());
    h.get_by_label_contains("What-if: nothing hidden yet");

    // With regions (an explanation), a click on a table row hides that region on both faces.
    h.state_mut().run(Command::SetTable {
        table: TableKind::XMap,
        face: SaliencyFace::Both,
        sort: None,
    });
    h.state_mut().run(Command::Explain);
    step_until(&mut h, "the explanation", 600, |a| {
        a.explanation().is_some()
    });
    h.get_by_label("nose").click();
    h.run_steps(2);
    assert!(h.state().whatif.hidden.count(0) > 100 && h.state().whatif.hidden.count(1) > 100);
    step_until(&mut h, "the nose's what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let nose = h.state().whatif.similarity().unwrap();
    assert_ne!(nose, original);
    let s = sentence(&h);
    assert!(
        s.contains("nose of face A; nose of face B hidden")
            && s.contains(&format!(" to {nose:.3}")),
        "{s}"
    );
}
