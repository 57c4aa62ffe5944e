//! Blind mode (ACE-V) in the window, driven with egui_kittest on the real
//! models and the sample pair: the verdict header shows no decision, score
//! or likelihood ratio (nor the maps, table or chat) until the examiner's
//! conclusion is recorded through the case pane; then it shows them, and
//! the saved case holds both conclusions with their times.

mod common;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use facexplain::app::{AppOptions, FacexplainApp};
use facexplain::record::Case;
use facexplain::session::case::CaseBook;
use facexplain::session::{CaseCommand, CaseHeader, Command};

/// Step the UI until `done` holds, then let the layout settle.
fn wait_for(
    h: &mut Harness<'_, FacexplainApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&FacexplainApp) -> bool,
) {
    common::app::wait_until(h, what, limit_s, done);
    h.run_steps(4);
}

/// Labels of the result that blind mode must hide.
const RESULT_LABELS: [&str; 6] = [
    "Decision:",
    "Similarity",
    "C-Score",
    "PIC-Score",
    "Likelihood ratio",
    "Ask about this comparison",
];

/// Open the File menu, find "Export report…" and say whether it is
/// disabled; the menu is closed again.
fn export_report_item_disabled(h: &mut Harness<'_, FacexplainApp>) -> bool {
    h.get_by_label("File").click();
    h.run_steps(2);
    let disabled = h
        .get_by_label("Export report…")
        .accesskit_node()
        .is_disabled();
    h.get_by_label("File").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Export report…").is_none(),
        "the File menu closes"
    );
    disabled
}

#[test]
fn blind_mode_shows_no_score_before_the_conclusion_and_all_after() {
    let tmp = tempfile::tempdir().unwrap();
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.session.case = CaseBook::new(Some(tmp.path().join("recovery")));
    app.session.settings.auto_explain = false;
    app.session.run(Command::Case(CaseCommand::New(CaseHeader {
        case_id: "FX-SNAPSHOT".into(),
        title: "blind test".into(),
        examiner: "Examiner".into(),
        blind: true,
    })));
    app.open_sample_pair();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app);
    wait_for(&mut h, "the comparison", 300, |a| {
        a.case.open.as_ref().is_some_and(|o| o.record().is_some())
    });
    assert!(
        h.state().current_analysis().is_some(),
        "compared, but hidden"
    );
    h.get_by_label_contains("Blind mode (ACE-V): the machine's result is hidden");
    for label in RESULT_LABELS {
        assert!(
            h.query_all_by_label_contains(label).next().is_none(),
            "{label:?} is visible in blind mode"
        );
    }
    h.get_by_label_contains("Examiner's conclusion: not recorded");
    // The window in blind mode: the aligned faces, no maps, no table, no
    // chat; the case pane below (the status bar's running times masked).
    h.remove_cursor();
    h.run_steps(4);
    h.mask(egui::Rect::from_min_max(
        egui::pos2(0.0, 770.0),
        egui::pos2(1280.0, 800.0),
    ));
    h.snapshot("case_blind");
    // File → Export report… is there, and off while the result is hidden.
    assert!(export_report_item_disabled(&mut h));

    // The examiner records the conclusion through the pane.
    h.state_mut().case_pane.conclusion = "identification".into();
    h.run_steps(2);
    h.get_by_label("Record conclusion").click();
    h.run_steps(4);
    assert!(!h.state().result_hidden());
    h.get_by_label_contains("Decision: MATCH");
    for label in RESULT_LABELS {
        assert!(
            h.query_all_by_label_contains(label).next().is_some(),
            "{label:?} is not shown after the conclusion"
        );
    }
    h.get_by_label_contains("Examiner's conclusion (");
    h.get_by_label_contains("Machine's decision (");
    assert!(!export_report_item_disabled(&mut h));

    let path = tmp.path().join("blind.fxcase");
    h.state_mut()
        .session
        .run(Command::Case(CaseCommand::Save(Some(path.clone()))));
    let read = Case::read(&path).unwrap();
    assert!(read.broken.is_none());
    let c = read.case;
    assert!(c.blind);
    let k = c.conclusion.unwrap();
    assert_eq!(k.text, "identification");
    assert_eq!(c.machine_shown, Some(k.time.clone()));
    assert!(
        c.machine.unwrap().text.starts_with("match"),
        "machine's decision recorded"
    );
}
