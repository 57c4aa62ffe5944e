//! The explorer page driven headlessly with egui_kittest, with the real
//! models and real ORL faces: a data set folder dropped on the window opens
//! the explorer, the table fills, a header click sorts it, a filter narrows
//! it, the threshold is a view setting, and a row click opens that pair in
//! the viewer; the explorer tab brings the same view back.

mod common;

use common::data;
use egui::accesskit::Role;
use egui::vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facexplain::app::{AppOptions, FacexplainApp};
use facexplain::explore::Column;
use facexplain::session::{Command, ExplorerCommand, Page};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A folder as the windowing layer hands a drop to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("a folder".into())
    }
}

/// Step the UI until `done` holds, then let the layout settle.
fn wait_for(
    h: &mut Harness<'_, FacexplainApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&FacexplainApp) -> bool,
) {
    common::app::wait_until(h, what, limit_s, done);
    h.run_steps(3);
}

/// Three ORL identities (s1–s3, 10 faces each) copied into a temporary folder.
fn small_orl() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for id in ["s1", "s2", "s3"] {
        let to = tmp.path().join("orl3").join(id);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(data("orl").join(id)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    tmp
}

/// The app in a 1280×800 window, explanations off (the explorer's tests open pairs only).
fn harness() -> Harness<'static, FacexplainApp> {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    let mut h = Harness::builder()
        .with_size(vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut FacexplainApp| app.ui_contents(ui), app);
    h.run_steps(2);
    h
}

/// Ids of the rows in view order.
fn view_ids(app: &FacexplainApp) -> Vec<usize> {
    let e = &app.explorer;
    e.order.iter().map(|&i| e.rows()[i].id).collect()
}

#[test]
fn a_dropped_folder_fills_the_table_sorts_filters_and_opens_a_pair() {
    let tmp = small_orl();
    let dir = tmp.path().join("orl3");
    let mut h = harness();

    // Dropping the folder opens the explorer page.
    h.hover_at(egui::pos2(640.0, 400.0));
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(dir.clone())));
    h.step();
    assert_eq!(h.state().explorer.page, Page::Explorer);
    assert_eq!(h.state().explorer.dataset.as_deref(), Some(dir.as_path()));
    wait_for(&mut h, "the table", 600, |a| a.explorer.table.is_some());

    // 3 × C(10,2) genuine and 30·20/2 impostor pairs, all of them.
    let e = &h.state().explorer;
    let t = e.table.as_ref().unwrap();
    assert_eq!((t.pairs.genuine, t.pairs.impostor), (135, 300));
    assert_eq!(t.pairs.selection, "all");
    assert_eq!(e.order.len(), 435);
    let s = e.summary.clone().unwrap();
    assert_eq!((s.genuine, s.impostor), (135, 300));
    h.get_by_label_contains("135 genuine and 300 impostor pairs (all");
    // Drawing the slider does not move the threshold: it stays the table's own.
    assert_eq!(e.threshold, None);
    assert_eq!(s.threshold, t.threshold);
    // Pair order first: row #0 (s1/1 with s1/10) is drawn.
    assert_eq!(view_ids(h.state())[..3], [0, 1, 2]);
    h.get_by_label("#0");

    // A header click sorts by similarity, highest first; again reverses.
    h.get_by_label("Similarity").click();
    h.run_steps(2);
    let sims = |a: &FacexplainApp| -> Vec<f64> {
        let e = &a.explorer;
        e.order
            .iter()
            .map(|&i| e.rows()[i].similarity.unwrap())
            .collect()
    };
    assert_eq!(h.state().explorer.sort, (Column::Similarity, true));
    let desc = sims(h.state());
    assert!(desc.windows(2).all(|w| w[0] >= w[1]));
    assert_ne!(view_ids(h.state())[..3], [0, 1, 2]);
    let top = view_ids(h.state())[0];
    h.get_by_label(&format!("#{top}"));
    h.get_by_label("Similarity").click();
    h.run_steps(2);
    let asc = sims(h.state());
    assert!(asc.windows(2).all(|w| w[0] <= w[1]));

    // Quality A, worst first.
    h.get_by_label("Quality A").click();
    h.run_steps(2);
    let e = &h.state().explorer;
    assert_eq!(e.sort, (Column::QualityA, true));
    let q: Vec<_> = e.order.iter().map(|&i| e.rows()[i].quality_a).collect();
    assert!(q.iter().all(Option::is_some) && q.windows(2).all(|w| w[0] >= w[1]));

    // Impostors only through the label filter, then the highest impostor first.
    h.get_by_label("impostor pairs").click();
    h.run_steps(2);
    h.get_by_label("Similarity").click();
    h.run_steps(2);
    let e = &h.state().explorer;
    assert_eq!(e.filter.genuine, Some(false));
    assert_eq!(e.order.len(), 300);
    assert!(e.order.iter().all(|&i| !e.rows()[i].genuine));
    let hardest = e.rows()[e.order[0]].clone();
    let max_imp = e
        .rows()
        .iter()
        .filter(|r| !r.genuine)
        .filter_map(|r| r.similarity)
        .fold(f64::MIN, f64::max);
    assert_eq!(hardest.similarity, Some(max_imp));
    let before = e
        .table
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| r.similarity)
        .collect::<Vec<_>>();

    // Dragging the threshold slider to its ends: every impostor a false
    // match, then every genuine pair a false non-match; Reset brings the
    // table's own threshold back.
    let slider = h.get_by_role(Role::Slider).rect();
    let errors = |a: &FacexplainApp| {
        let s = a.explorer.summary.as_ref().unwrap();
        (s.false_matches, s.false_non_matches)
    };
    let own = errors(h.state());
    assert!(own.0 < 20 && own.1 < 20, "{own:?}");
    for (x, want) in [
        (slider.left() - 40.0, (300, 0)),
        (slider.right() + 40.0, (0, 135)),
    ] {
        h.drag_at(slider.center());
        h.step();
        h.hover_at(egui::pos2(x, slider.center().y));
        h.step();
        h.drop_at(egui::pos2(x, slider.center().y));
        h.run_steps(2);
        assert_eq!(
            errors(h.state()),
            want,
            "{:?}",
            h.state().explorer.threshold
        );
        h.get_by_label_contains(&format!(
            "{} false matches, {} false non-matches",
            want.0, want.1
        ));
    }
    assert_eq!(h.state().explorer.threshold, Some(1.0));
    h.get_by_label("Reset").click();
    h.run_steps(2);
    assert_eq!(h.state().explorer.threshold, None);
    assert_eq!(errors(h.state()), own);

    // The threshold is a view setting: at the hardest impostor's score it
    // becomes a false match; the similarities do not move.
    h.state_mut()
        .run(Command::Explorer(ExplorerCommand::SetThreshold(
            hardest.similarity,
        )));
    h.run_steps(2);
    let e = &h.state().explorer;
    assert_eq!(
        e.summary.as_ref().unwrap().false_matches,
        1,
        "{:?}",
        e.summary
    );
    let t = e.table.as_ref().unwrap();
    assert_eq!(
        t.rows.iter().map(|r| r.similarity).collect::<Vec<_>>(),
        before
    );
    h.get_by_label_contains("1 false matches");

    // Typing a filter: impostor pairs with a face of s2 (10 faces × 20 others).
    h.get_by_role(Role::TextInput).click();
    h.run_steps(1);
    h.get_by_role(Role::TextInput).type_text("s2/");
    h.run_steps(2);
    let e = &h.state().explorer;
    assert_eq!(e.filter.text.as_deref(), Some("s2/"));
    assert_eq!(e.order.len(), 200);
    assert!(e.order.iter().all(|&i| {
        let r = &e.rows()[i];
        r.file_a.starts_with("s2/") || r.file_b.starts_with("s2/")
    }));
    snapshot(&mut h, "explorer", &dir);

    // Scrolled down, a row clicked: the viewer shows that pair.
    let first = view_ids(h.state())[0];
    h.get_by_label(&format!("#{first}")).scroll_down();
    h.run_steps(3);
    let shown = visible_rows(&h);
    assert!(!shown.contains(&first) && !shown.is_empty(), "{shown:?}");
    let pick = h.state().explorer.rows()[shown[0]].clone();
    h.get_by_label(&format!("#{}", pick.id)).click();
    h.run_steps(2);
    assert_eq!(h.state().explorer.page, Page::Viewer);
    assert_eq!(h.state().explorer.opened, Some(pick.id));
    let want = [dir.join(&pick.file_a), dir.join(&pick.file_b)];
    assert_eq!(h.state().slots[0].path.as_ref(), Some(&want[0]));
    assert_eq!(h.state().slots[1].path.as_ref(), Some(&want[1]));
    wait_for(&mut h, "the pair", 300, |a| a.analysis().is_some());
    // The viewer compares it as any pair: the same similarity as the row.
    let sim = h.state().analysis().unwrap().similarity as f64;
    assert!(
        (sim - pick.similarity.unwrap()).abs() < 1e-5,
        "{sim} vs {pick:?}"
    );

    // Back to the explorer: the same sort, filters and scroll position.
    h.get_by_label("Explorer").click();
    h.run_steps(3);
    let e = &h.state().explorer;
    assert_eq!(e.page, Page::Explorer);
    assert_eq!(e.sort, (Column::Similarity, true));
    assert_eq!(e.filter.genuine, Some(false));
    assert_eq!(e.filter.text.as_deref(), Some("s2/"));
    assert_eq!(e.order.len(), 200);
    assert_eq!(visible_rows(&h), shown);
}

/// Positions (into the rows) of the rows the table draws, in view order.
fn visible_rows(h: &Harness<'_, FacexplainApp>) -> Vec<usize> {
    let e = &h.state().explorer;
    e.order
        .iter()
        .copied()
        .filter(|&i| h.query_by_label(&format!("#{}", e.rows()[i].id)).is_some())
        .collect()
}

/// Hide the status bar and the lines that name the temporary folder or
/// count cache hits (they differ from run to run), and take a snapshot.
fn snapshot(h: &mut Harness<'_, FacexplainApp>, name: &str, dir: &Path) {
    h.remove_cursor();
    h.run_steps(4);
    // To the window's right edge: the lines' widths vary too.
    let line = |r: egui::Rect| {
        egui::Rect::from_min_max(r.left_top(), egui::pos2(1280.0, r.bottom())).expand(2.0)
    };
    let hide = [
        line(h.get_by_label(&dir.display().to_string()).rect()),
        line(h.get_by_label_contains("from the cache").rect()),
        egui::Rect::from_min_max(egui::pos2(0.0, 770.0), egui::pos2(1280.0, 800.0)),
    ];
    for r in hide {
        h.mask(r);
    }
    h.snapshot(name);
}

#[test]
fn a_folder_dropped_with_a_csv_pairs_file_shows_its_pairs_and_marks_the_missing() {
    let tmp = small_orl();
    let dir = tmp.path().join("orl3");
    let csv = tmp.path().join("pairs.csv");
    std::fs::write(
        &csv,
        "s1/1.pgm,s1/2.pgm\ns1/1.pgm,s9/1.pgm,0\ns2/5.pgm,s3/5.pgm\n",
    )
    .unwrap();
    let mut h = harness();
    h.hover_at(egui::pos2(640.0, 400.0));
    let input = h.input_mut();
    input.dropped_files.push(Arc::new(Dropped(dir.clone())));
    input.dropped_files.push(Arc::new(Dropped(csv.clone())));
    h.step();
    assert_eq!(
        h.state().explorer.pairs_file.as_deref(),
        Some(csv.as_path())
    );
    wait_for(&mut h, "the table", 300, |a| a.explorer.table.is_some());
    let e = &h.state().explorer;
    let rows = e.rows();
    assert_eq!(rows.len(), 3, "the list's pairs, as given");
    assert_eq!(view_ids(h.state()), [0, 1, 2]);
    assert!(rows[0].genuine && !rows[1].genuine && !rows[2].genuine);
    assert!(rows[0].similarity.is_some() && rows[2].similarity.is_some());
    let why = rows[1].failed.clone().unwrap();
    assert!(why.contains("s9/1.pgm: no such file"), "{why}");
    // The missing pair's row is drawn, marked, with the reason on hover.
    h.get_by_label("#1");
    h.get_by_label("failed").hover();
    // Past the tooltip delay.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.get_by_label_contains("s9/1.pgm: no such file");
    h.get_by_label_contains("1 listed pairs without a score: an image missing or failed");
}
