//! The explorer page driven headlessly with egui_kittest, with the real
//! models and real ORL faces: a data set folder dropped on the window opens
//! the explorer, the table fills, a header click sorts it, a filter narrows
//! it, the threshold is a view setting, and a row click opens that pair in
//! the viewer; the explorer tab brings the same view back.

mod common;

use common::data;
use egui::vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facexplain::app::{AppOptions, FacexplainApp};
use facexplain::explore::Column;
use facexplain::session::{Command, ExplorerCommand, Page};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

fn wait_for(
    h: &mut Harness<'_, FacexplainApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&FacexplainApp) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(limit_s),
            "timed out waiting for {what}; explorer error: {:?}",
            h.state().explorer.error
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
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

    // The threshold is a view setting: at the hardest impostor's score it
    // becomes a false match; the similarities do not move.
    let before = e
        .table
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| r.similarity)
        .collect::<Vec<_>>();
    h.state_mut()
        .run(Command::Explorer(ExplorerCommand::SetThreshold(
            hardest.similarity,
        )));
    h.run_steps(2);
    let e = &h.state().explorer;
    assert_eq!(
        e.summary.as_ref().unwrap().false_matches,
        1,
        "{:?} {:?} {:?}",
        e.threshold,
        e.summary,
        hardest
    );
    let t = e.table.as_ref().unwrap();
    assert_eq!(
        t.rows.iter().map(|r| r.similarity).collect::<Vec<_>>(),
        before
    );
    h.get_by_label_contains("1 false matches");

    // A click on the row opens that pair in the viewer.
    h.get_by_label(&format!("#{}", hardest.id)).click();
    h.run_steps(2);
    assert_eq!(h.state().explorer.page, Page::Viewer);
    assert_eq!(h.state().explorer.opened, Some(hardest.id));
    let want = [dir.join(&hardest.file_a), dir.join(&hardest.file_b)];
    assert_eq!(h.state().slots[0].path.as_ref(), Some(&want[0]));
    assert_eq!(h.state().slots[1].path.as_ref(), Some(&want[1]));
    wait_for(&mut h, "the pair", 300, |a| a.analysis().is_some());
    // The viewer compares it as any pair: the same similarity as the row.
    let sim = h.state().analysis().unwrap().similarity as f64;
    assert!(
        (sim - hardest.similarity.unwrap()).abs() < 1e-5,
        "{sim} vs {hardest:?}"
    );

    // Back to the explorer: the same sort and filter.
    h.get_by_label("Explorer").click();
    h.run_steps(2);
    let e = &h.state().explorer;
    assert_eq!(e.page, Page::Explorer);
    assert_eq!(e.sort, (Column::Similarity, true));
    assert_eq!(e.filter.genuine, Some(false));
    assert_eq!(e.rows()[e.order[0]].id, hardest.id);
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
