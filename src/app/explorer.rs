//! The explorer page (the X-Maps paper's platform's second page): a data
//! set's pairs in one virtualised, sortable, filterable table with the
//! sampling, a summary strip at a threshold slider with the score histogram
//! beside it (`score_histogram.rs`), and each row one click
//! from the viewer. Also the worker's side of opening a data set (rows
//! stream back as their images are embedded) and the File menu's items.

use super::{Cx, UiCommand, score_histogram};
use crate::explore::{Column, Filter, Models, Row, Summary, Table};
use crate::progress::Ctl;
use crate::record::{Decision, Verdict};
use crate::session::explorer::Explorer;
use crate::session::explorer::{APP_MAX_IMPOSTORS, APP_SEED};
use crate::session::{Command, Event, ExplorerCommand, Page};
use egui::RichText;
use egui_extras::TableBuilder;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Shortest time between two batches of preview rows sent to the UI (each
/// batch re-sorts the view).
const ROWS_EVERY: Duration = Duration::from_millis(500);

/// Build a data set's table on the worker, streaming rows as they are scored.
#[allow(clippy::too_many_arguments)]
pub fn run_job(
    models: Models<'_>,
    generation: u64,
    dataset: PathBuf,
    pairs: Option<PathBuf>,
    max_impostors: usize,
    seed: u64,
    ctl: Ctl,
    send: &dyn Fn(Event),
) -> Event {
    let mut buffer: Vec<Row> = Vec::new();
    let mut last = Instant::now();
    let mut on_rows = |rows: Vec<Row>| {
        buffer.extend(rows);
        if last.elapsed() >= ROWS_EVERY {
            last = Instant::now();
            let rows = std::mem::take(&mut buffer);
            send(Event::ExploreRows { generation, rows });
        }
    };
    let result = Table::open(
        models,
        &dataset,
        pairs,
        max_impostors,
        seed,
        ctl,
        &mut on_rows,
    );
    if result.is_err() && !buffer.is_empty() {
        // Cancelled or failed: the rows scored so far stay on screen.
        send(Event::ExploreRows {
            generation,
            rows: buffer,
        });
    }
    Event::Explored {
        generation,
        result: result.map(Box::new).map_err(|e| e.to_string()),
    }
}

fn explorer(c: ExplorerCommand) -> UiCommand {
    Command::Explorer(c).into()
}

/// Ask for a data set folder (and a pairs list if `with_pairs`) and open it.
pub fn open_dialog(with_pairs: bool, out: &mut Vec<UiCommand>) {
    let Some(dataset) = rfd::FileDialog::new()
        .set_title("Open data set: a folder of identity folders")
        .pick_folder()
    else {
        return;
    };
    let pairs = if with_pairs {
        match rfd::FileDialog::new()
            .set_title("Pairs list: LFW pairs.txt, or CSV a,b[,label]")
            .add_filter("Pairs list", &["txt", "csv"])
            .add_filter("All files", &["*"])
            .set_directory(&dataset)
            .pick_file()
        {
            Some(p) => Some(p),
            None => return,
        }
    } else {
        None
    };
    out.push(explorer(ExplorerCommand::Open { dataset, pairs }));
}

/// The File menu's explorer items.
pub fn menu_items(ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    if ui
        .button("Open data set…")
        .on_hover_text(
            "A folder of identity sub-folders (LFW layout): every genuine and impostor pair in the explorer; a folder dropped on the window does the same",
        )
        .clicked()
    {
        open_dialog(false, out);
    }
    if ui
        .button("Open data set with a pairs list…")
        .on_hover_text(
            "The folder, then a pairs list: LFW's pairs.txt, or a CSV a,b[,label] of paths in the folder (header optional; without a label the folders decide). Its pairs as given; a pair naming a missing image is shown, marked",
        )
        .clicked()
    {
        open_dialog(true, out);
    }
}

/// The page tabs in the menu bar (shown once a data set is open).
pub fn tabs(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let e = &cx.session.explorer;
    if !e.active() {
        return;
    }
    ui.separator();
    for (page, name, tip) in [
        (Page::Viewer, "Viewer", "The pair in the viewer"),
        (
            Page::Explorer,
            "Explorer",
            "Back to the data set's table (sort, filters and scroll kept)",
        ),
    ] {
        if ui
            .selectable_label(e.page == page, name)
            .on_hover_text(tip)
            .clicked()
        {
            out.push(explorer(ExplorerCommand::ShowPage(page)));
        }
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{:.2} %", v * 100.0))
}

/// The summary strip.
fn summary_ui(ui: &mut egui::Ui, s: &Summary) {
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{} genuine, {} impostor pairs",
            s.genuine, s.impostor
        ));
        ui.separator();
        ui.label(format!(
            "EER {}{}",
            pct(s.eer),
            s.eer_threshold
                .map_or(String::new(), |t| format!(" at {t:.3}"))
        ));
        for f in &s.fnmr_at_fmr {
            ui.separator();
            ui.label(format!(
                "FNMR at FMR {} %: {}",
                f.fmr_target * 100.0,
                pct(f.fnmr)
            ))
            .on_hover_text(if f.measurable {
                "Measured on this set's impostor pairs"
            } else {
                "Too few impostor pairs to measure this FMR"
            });
        }
        ui.separator();
        ui.label(format!(
            "at {:.3}: {} false matches, {} false non-matches",
            s.threshold, s.false_matches, s.false_non_matches
        ));
        if s.failed > 0 {
            ui.separator();
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} pairs without a score (an image failed)", s.failed),
            );
        }
    });
}

/// The filter controls; returns the edited filter.
fn filter_ui(ui: &mut egui::Ui, f: &Filter) -> Filter {
    let mut f = f.clone();
    ui.horizontal_wrapped(|ui| {
        for (v, name) in [
            (None, "all labels"),
            (Some(true), "genuine pairs"),
            (Some(false), "impostor pairs"),
        ] {
            ui.selectable_value(&mut f.genuine, v, name);
        }
        ui.separator();
        for (v, name) in [
            (None, "all decisions"),
            (Some(Decision::Match), "matches"),
            (Some(Decision::NonMatch), "non-matches"),
        ] {
            ui.selectable_value(&mut f.decision, v, name);
        }
        ui.separator();
        ui.checkbox(&mut f.errors_only, "errors only")
            .on_hover_text("False matches and false non-matches at the threshold");
        ui.checkbox(&mut f.failed_only, "failed only")
            .on_hover_text("Pairs whose image had no face or could not be read");
        ui.separator();
        egui::ComboBox::from_id_salt("explorer-quality")
            .selected_text(match f.quality {
                None => "any quality".to_string(),
                Some(v) => format!("quality {v}"),
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut f.quality, None, "any quality");
                for (v, tip) in [
                    (Verdict::Fit, "both faces fit"),
                    (Verdict::Limited, "the worse face limited"),
                    (Verdict::Unfit, "a face unfit"),
                ] {
                    ui.selectable_value(&mut f.quality, Some(v), format!("quality {v}"))
                        .on_hover_text(tip);
                }
            })
            .response
            .on_hover_text("The pair's quality verdict: the worse of its two faces'");
        let mut lo = f.min_similarity.is_some();
        let mut hi = f.max_similarity.is_some();
        let lo_box = ui.checkbox(&mut lo, "similarity from");
        let mut lo_v = f.min_similarity.unwrap_or(0.0);
        ui.add_enabled(
            lo,
            egui::DragValue::new(&mut lo_v)
                .speed(0.01)
                .range(-1.0..=1.0),
        )
        .labelled_by(lo_box.id);
        let hi_box = ui.checkbox(&mut hi, "to");
        let mut hi_v = f.max_similarity.unwrap_or(1.0);
        ui.add_enabled(
            hi,
            egui::DragValue::new(&mut hi_v)
                .speed(0.01)
                .range(-1.0..=1.0),
        )
        .labelled_by(hi_box.id);
        f.min_similarity = lo.then_some(lo_v);
        f.max_similarity = hi.then_some(hi_v);
        let mut text = f.text.clone().unwrap_or_default();
        ui.add(
            egui::TextEdit::singleline(&mut text)
                .hint_text("identity or file")
                .desired_width(160.0),
        );
        f.text = (!text.is_empty()).then_some(text);
    });
    f
}

/// The column headers: (column, heading).
const HEADINGS: [(Column, &str); 14] = [
    (Column::Id, "Pair"),
    (Column::FileA, "File A"),
    (Column::FileB, "File B"),
    (Column::IdentityA, "Identity A"),
    (Column::IdentityB, "Identity B"),
    (Column::Label, "Label"),
    (Column::QualityA, "Quality A"),
    (Column::QualityB, "Quality B"),
    (Column::Similarity, "Similarity"),
    (Column::Decision, "Decision"),
    (Column::Correct, "Correct"),
    (Column::CScore, "C-Score"),
    (Column::PicScore, "PIC-Score"),
    (Column::Lr, "LR"),
];

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// The cells of one row.
fn row_cells(row: &mut egui_extras::TableRow<'_, '_>, r: &Row, clicked: &mut bool) {
    row.col(|ui| {
        if ui.selectable_label(false, format!("#{}", r.id)).clicked() {
            *clicked = true;
        }
    });
    for s in [&r.file_a, &r.file_b, &r.identity_a, &r.identity_b] {
        row.col(|ui| {
            ui.label(s.as_str());
        });
    }
    row.col(|ui| {
        ui.label(r.label());
    });
    for q in [r.quality_a, r.quality_b] {
        row.col(|ui| match q {
            Some(v) => {
                ui.colored_label(super::quality_badge::colour(v), v.as_str());
            }
            None => {
                ui.weak("–");
            }
        });
    }
    let Some(sim) = r.similarity else {
        row.col(|ui| {
            let why = r.failed.as_deref().unwrap_or("no score");
            ui.colored_label(ui.visuals().warn_fg_color, "failed")
                .on_hover_text(why);
        });
        for _ in 0..5 {
            row.col(|ui| {
                ui.weak("–");
            });
        }
        return;
    };
    row.col(|ui| {
        ui.label(format!("{sim:.4}"));
    });
    row.col(|ui| {
        ui.label(r.decision.map_or("–", |d| d.as_str()));
    });
    row.col(|ui| match r.correct {
        Some(true) => {
            ui.label("yes");
        }
        Some(false) => {
            ui.colored_label(ui.visuals().error_fg_color, "ERROR");
        }
        None => {
            ui.weak("–");
        }
    });
    row.col(|ui| {
        ui.label(opt(r.c_score, 3));
    });
    row.col(|ui| {
        ui.label(opt(r.pic_score, 3));
    });
    row.col(|ui| {
        let text = match (r.log10_lr, &r.verbal) {
            (Some(l), Some(v)) => format!("10^{l:.2} ({v})"),
            (Some(l), None) => format!("10^{l:.2}"),
            _ => "–".into(),
        };
        ui.label(text);
    });
}

/// A small triangle right of a header: pointing down when descending.
fn sort_arrow(ui: &mut egui::Ui, rect: egui::Rect, descending: bool) {
    let (w, h) = (4.0, 3.5);
    let c = egui::pos2(rect.right() + 7.0, rect.center().y);
    let pts = if descending {
        vec![
            c + egui::vec2(-w, -h),
            c + egui::vec2(w, -h),
            c + egui::vec2(0.0, h),
        ]
    } else {
        vec![
            c + egui::vec2(-w, h),
            c + egui::vec2(w, h),
            c + egui::vec2(0.0, -h),
        ]
    };
    let colour = ui.visuals().strong_text_color();
    ui.painter()
        .add(egui::Shape::convex_polygon(pts, colour, egui::Stroke::NONE));
}

/// The table; returns the position (into the rows) of the row clicked.
fn table_ui(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) -> Option<usize> {
    let e = &cx.session.explorer;
    let rows = e.rows();
    let mut clicked = None;
    egui::ScrollArea::horizontal().show(ui, |ui| {
        let mut b = TableBuilder::new(ui)
            .id_salt("explorer-table")
            .striped(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(egui_extras::Column::exact(64.0));
        for w in [
            150.0, 150.0, 90.0, 90.0, 70.0, 74.0, 74.0, 80.0, 76.0, 62.0, 64.0, 72.0,
        ] {
            b = b.column(egui_extras::Column::initial(w).at_least(40.0).clip(true));
        }
        b.column(egui_extras::Column::remainder().at_least(120.0))
            .header(22.0, |mut header| {
                for (c, name) in HEADINGS {
                    header.col(|ui| {
                        let resp = ui
                            .add(egui::Button::new(RichText::new(name).strong()).frame(false))
                            .on_hover_text(format!("Sort by {name}; again to reverse"));
                        if resp.clicked() {
                            out.push(explorer(ExplorerCommand::Sort(c)));
                        }
                        if let (s, desc) = e.sort
                            && s == c
                        {
                            sort_arrow(ui, resp.rect, desc);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, e.order.len(), |mut row| {
                    let pos = e.order[row.index()];
                    let r = &rows[pos];
                    row.set_selected(e.opened == Some(r.id));
                    let mut hit = false;
                    row_cells(&mut row, r, &mut hit);
                    if hit || row.response().clicked() {
                        clicked = Some(pos);
                    }
                });
            });
    });
    clicked
}

/// The threshold slider (a view setting) and its reset.
fn threshold_ui(e: &Explorer, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    ui.horizontal(|ui| {
        let own = e.table.as_ref().map(|t| t.threshold);
        let mut t = e.threshold.or(own).unwrap_or(0.5);
        let resp = ui.add(
            // No step or fixed decimals: they would round the table's own
            // threshold on the first frame and move it.
            egui::Slider::new(&mut t, -1.0..=1.0).text("threshold (view setting)"),
        );
        if resp.changed() {
            out.push(explorer(ExplorerCommand::SetThreshold(Some(t))));
        }
        let source = e
            .table
            .as_ref()
            .map(|t| t.threshold_source.clone())
            .unwrap_or_default();
        resp.on_hover_text(format!(
            "Decides every pair at this similarity; the stored analysis is not changed. In force: {source}"
        ));
        if e.threshold.is_some() && ui.button("Reset").clicked() {
            out.push(explorer(ExplorerCommand::SetThreshold(None)));
        }
    });
}

/// The explorer page.
pub fn ui(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let e = &cx.session.explorer;
    ui.horizontal(|ui| {
        ui.heading("Explorer");
        // Before the path, so it stays put whatever the path's length.
        if ui.button("Open data set…").clicked() {
            open_dialog(false, out);
        }
        match &e.dataset {
            Some(d) => {
                ui.label(d.display().to_string());
                if let Some(p) = &e.pairs_file {
                    ui.label(format!("pairs list {}", p.display()));
                }
            }
            None => {
                ui.label("Open a data set (File, Open data set…) or drop a folder on the window.");
            }
        }
        if e.loading() {
            ui.spinner();
            ui.label(format!("{} pairs scored so far", e.preview.len()));
            if ui
                .button("Cancel")
                .on_hover_text("Stop embedding; the rows so far stay")
                .clicked()
            {
                out.push(explorer(ExplorerCommand::Cancel));
            }
        }
    });
    if let Some(err) = &e.error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    match &e.table {
        Some(t) => {
            let d = &t.dataset;
            ui.label(format!(
                "{}: {} identities, {} images ({} used, {} skipped, {} from the cache). Pairs: {}",
                d.name,
                d.identities,
                d.images,
                d.images_used,
                d.skipped.len(),
                t.cache_hits,
                t.sampling()
            ));
            let q = ui.label(format!(
                "{}{}",
                t.quality_source(),
                match t.quality_failed.len() {
                    0 => String::new(),
                    n => format!("; {n} faces could not be assessed"),
                }
            ));
            if !t.quality_failed.is_empty() {
                let why: Vec<String> = t
                    .quality_failed
                    .iter()
                    .map(|s| format!("{}: {}", s.path, s.reason))
                    .collect();
                q.on_hover_text(why.join("\n"));
            }
        }
        None if e.loading() => {
            ui.label(format!(
                "Rows appear as their images are embedded (arrival order). Impostor pairs: all of them up to {APP_MAX_IMPOSTORS}, else a seeded sample of {APP_MAX_IMPOSTORS} (seed {APP_SEED}) added at the end."
            ));
        }
        None => {}
    }
    // Summary, threshold and filters on the left, the histogram beside them.
    ui.horizontal_top(|ui| {
        let room = ui.available_width() - score_histogram::WIDTH - 16.0;
        ui.vertical(|ui| {
            ui.set_max_width(room.max(240.0));
            if let Some(s) = &e.summary {
                summary_ui(ui, s);
            }
            threshold_ui(e, ui, out);
            let f = filter_ui(ui, &e.filter);
            if f != e.filter {
                out.push(explorer(ExplorerCommand::SetFilter(f)));
            }
        });
        if let Some(h) = &e.histogram {
            score_histogram::ui(ui, h, e.summary.as_ref().map(|s| s.threshold));
        }
    });
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} of {} rows shown; click a row to open the pair in the viewer",
            e.order.len(),
            e.rows().len()
        ));
        if let Some(t) = &e.table {
            for (what, json) in [("CSV", false), ("JSON", true)] {
                if ui
                    .button(format!("Export {what}…"))
                    .on_hover_text("The rows shown, in this order, with the sampling and summary")
                    .clicked()
                {
                    export(t, json, out);
                }
            }
        }
    });
    ui.separator();
    if let Some(pos) = table_ui(cx, ui, out) {
        out.push(explorer(ExplorerCommand::OpenPair(pos)));
    }
}

/// Ask where to write the rows shown (in view order, with the sampling).
fn export(t: &Table, json: bool, out: &mut Vec<UiCommand>) {
    let ext = if json { "json" } else { "csv" };
    if let Some(path) = rfd::FileDialog::new()
        .set_file_name(format!("explore-{}.{ext}", t.dataset.name))
        .save_file()
    {
        out.push(explorer(ExplorerCommand::Export { path, json }));
    }
}
