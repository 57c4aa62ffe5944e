//! The explainability table widget (egui_extras TableBuilder): Region | one
//! column per method | Mean | Ratio of 1s; click a header to sort, click a
//! row to highlight its region in the viewer; saliency (Mery & Morris) or
//! X-Map table; copy as CSV.

use super::{Cx, UiCommand};
use crate::explain::blend::Colormap;
use crate::explain::regions::Region;
use crate::record::{ExplainabilityTable, TableRow};
use crate::session::{Command, Session};
use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};
use std::cmp::Ordering;

pub use crate::session::{SaliencyFace, SortColumn, TableKind};

fn cmp_rows(a: &TableRow, b: &TableRow, col: &SortColumn) -> Ordering {
    match col {
        SortColumn::Region => a.region.cmp(&b.region),
        // A region without a level (off the crop) sorts after every level.
        SortColumn::Method(m) => a
            .levels
            .get(m)
            .unwrap_or(&u8::MAX)
            .cmp(b.levels.get(m).unwrap_or(&u8::MAX)),
        SortColumn::Mean => a.mean.total_cmp(&b.mean),
        SortColumn::RatioOfOnes => a.ratio_of_ones.total_cmp(&b.ratio_of_ones),
    }
}

/// The rows in display order: the table's own ranking, or sorted by `sort`
/// (stable, so ties keep the ranking order).
pub fn sorted_rows<'a>(
    t: &'a ExplainabilityTable,
    sort: Option<&(SortColumn, bool)>,
) -> Vec<&'a TableRow> {
    let mut rows: Vec<&TableRow> = t.rows.iter().collect();
    if let Some((col, ascending)) = sort {
        rows.sort_by(|a, b| {
            let o = cmp_rows(a, b, col);
            if *ascending { o } else { o.reverse() }
        });
    }
    rows
}

/// The rows as CSV (header line first), in the given order.
pub fn csv(t: &ExplainabilityTable, rows: &[&TableRow]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("Region");
    for m in &t.methods {
        out.push(',');
        out.push_str(&quote(m));
    }
    out.push_str(",Mean,Ratio of 1s\n");
    for r in rows {
        out.push_str(&quote(&r.region));
        for m in &t.methods {
            out.push(',');
            if let Some(l) = r.levels.get(m) {
                out.push_str(&l.to_string());
            }
        }
        out.push_str(&format!(",{:.4},{:.4}\n", r.mean, r.ratio_of_ones));
    }
    out
}

/// Cell colour of a level (1 = strongest).
fn level_colour(kind: TableKind, level: u8) -> Color32 {
    let t = (level.clamp(1, 5) - 1) as f32 / 4.0;
    let [r, g, b] = match kind {
        // Green (similar) … pink (dissimilar), the X-Map colours.
        TableKind::XMap => Colormap::PiYG.at(0.95 - 0.9 * t),
        TableKind::Saliency => Colormap::Viridis.at(1.0 - t),
    };
    Color32::from_rgb((r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8)
}

/// The sort indicator: a small triangle right of the header text, pointing
/// up for ascending and down for descending (drawn, so no font needs the glyph).
fn sort_arrow(ui: &egui::Ui, text: egui::Rect, ascending: bool) {
    let c = egui::pos2(text.right() + 7.0, text.center().y);
    let (a, b, tip) = if ascending {
        (
            c + egui::vec2(-4.0, 3.0),
            c + egui::vec2(4.0, 3.0),
            c + egui::vec2(0.0, -4.0),
        )
    } else {
        (
            c + egui::vec2(-4.0, -3.0),
            c + egui::vec2(4.0, -3.0),
            c + egui::vec2(0.0, 4.0),
        )
    };
    ui.painter().add(egui::Shape::convex_polygon(
        vec![a, b, tip],
        ui.visuals().strong_text_color(),
        egui::Stroke::NONE,
    ));
}

/// Black or white text, whichever reads better on `c`.
fn text_on(c: Color32) -> Color32 {
    let l = 0.299 * c.r() as f32 + 0.587 * c.g() as f32 + 0.114 * c.b() as f32;
    if l > 140.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// The table shown now, if the explanation has it.
pub fn current(app: &Session) -> Option<&ExplainabilityTable> {
    let ex = app.explanation()?;
    match (app.settings.table, app.settings.saliency_face) {
        (TableKind::Saliency, SaliencyFace::A) => ex.mery_face_tables[0].as_ref(),
        (TableKind::Saliency, SaliencyFace::B) => ex.mery_face_tables[1].as_ref(),
        (TableKind::Saliency, SaliencyFace::Both) => ex.mery_table.as_ref(),
        (TableKind::XMap, _) => ex.xmap_table.as_ref(),
    }
}

/// The table's CSV as shown (current sort).
pub fn current_csv(app: &Session) -> Option<String> {
    let t = current(app)?;
    Some(csv(t, &sorted_rows(t, app.settings.sort.as_ref())))
}

/// The table's own settings, edited while drawing.
#[derive(Clone, PartialEq)]
struct Choice {
    table: TableKind,
    face: SaliencyFace,
    sort: Option<(SortColumn, bool)>,
}

/// The widget.
pub fn ui(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let s = &cx.session.settings;
    let before = Choice {
        table: s.table,
        face: s.saliency_face,
        sort: s.sort.clone(),
    };
    let mut choice = before.clone();
    let clicked_row = draw(cx, &mut choice, ui);
    if choice != before {
        out.push(
            Command::SetTable {
                table: choice.table,
                face: choice.face,
                sort: choice.sort,
            }
            .into(),
        );
    }
    if let Some(name) = clicked_row {
        let region = Region::ALL.into_iter().find(|r| r.name() == name);
        if let Some(c) = region.and_then(|r| super::whatif::hide_from_table(cx, r)) {
            out.push(c);
        }
        out.push(UiCommand::Highlight(if cx.highlight == region {
            None
        } else {
            region
        }));
    }
}

/// Draw the table; returns the name of the row clicked.
fn draw(cx: &Cx, choice: &mut Choice, ui: &mut egui::Ui) -> Option<String> {
    let app = cx.session;
    ui.horizontal(|ui| {
        ui.heading("Explainability table");
    });
    ui.horizontal(|ui| {
        let k = &mut choice.table;
        ui.selectable_value(k, TableKind::Saliency, "Saliency (Mery & Morris)")
            .on_hover_text(
                "Levels from the S0−, S1−, S0+, S1+ and AVG maps of the face chosen below; 1 = most important",
            );
        ui.selectable_value(k, TableKind::XMap, "X-Maps")
            .on_hover_text(
                "Levels from the X-Maps of both faces; 1 = most similar, 5 = most dissimilar",
            );
        if let Some(csv) = current_csv(app)
            && ui
                .button("Copy CSV")
                .on_hover_text("Copy the table as shown (CSV) to the clipboard")
                .clicked()
        {
            ui.ctx().copy_text(csv);
        }
        if choice.sort.is_some() && ui.button("Ranking order").clicked() {
            choice.sort = None;
        }
    });
    if app.settings.table == TableKind::Saliency {
        ui.horizontal(|ui| {
            ui.label("Maps of:");
            for f in SaliencyFace::ALL {
                ui.selectable_value(&mut choice.face, f, f.label());
            }
        });
    }
    ui.small("Left/right are the subject's own. Level 1 = most important (saliency) or most similar (X-Maps).");
    let Some(table) = current(app).cloned() else {
        ui.add_space(12.0);
        ui.weak(if app.explaining() {
            "The table appears when the explanation is complete."
        } else if app.explanation().is_some_and(|e| e.mery.is_some())
            && app.settings.table == TableKind::Saliency
        {
            "No Mery maps of this face: tick it under Explanation parameters and Recompute."
        } else if app.faces().is_some() {
            "No table: explain the pair (Ctrl+E); the regions need FaceMesh."
        } else {
            "Load two images to see which regions drive the decision."
        });
        return None;
    };
    let kind = app.settings.table;
    let rows = sorted_rows(&table, app.settings.sort.as_ref());
    let mut columns = vec![SortColumn::Region];
    columns.extend(table.methods.iter().cloned().map(SortColumn::Method));
    columns.extend([SortColumn::Mean, SortColumn::RatioOfOnes]);
    let mut clicked_header = None;
    let mut clicked_row = None;
    egui::ScrollArea::horizontal().show(ui, |ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        TableBuilder::new(ui)
            .id_salt(("table", kind as u8, app.settings.saliency_face as u8))
            .striped(true)
            .column(Column::auto().at_least(88.0))
            .columns(Column::auto().at_least(36.0), table.methods.len())
            .column(Column::auto().at_least(52.0))
            .column(Column::auto().at_least(70.0))
            .header(22.0, |mut header| {
                for c in &columns {
                    header.col(|ui| {
                        let dir = match &app.settings.sort {
                            Some((s, asc)) if s == c => Some(*asc),
                            _ => None,
                        };
                        let resp = ui
                            .add(egui::Button::new(RichText::new(c.short()).strong()).frame(false))
                            .on_hover_text(match dir {
                                Some(true) => {
                                    format!(
                                        "Sorted by {} ascending; click for descending",
                                        c.name()
                                    )
                                }
                                Some(false) => {
                                    format!(
                                        "Sorted by {} descending; click for ascending",
                                        c.name()
                                    )
                                }
                                None => format!("Sort by {}", c.name()),
                            });
                        if let Some(asc) = dir {
                            sort_arrow(ui, resp.rect, asc);
                        }
                        if resp.clicked() {
                            clicked_header = Some(c.clone());
                        }
                    });
                }
            })
            .body(|mut body| {
                for r in &rows {
                    let lit = cx.highlight.is_some_and(|h| h.name() == r.region);
                    body.row(22.0, |mut row| {
                        row.set_selected(lit);
                        let kind_name = match kind {
                            TableKind::XMap => "xmap",
                            TableKind::Saliency => "saliency",
                        };
                        let disagree = crate::explain::agreement::of_row(kind_name, r);
                        row.col(|ui| {
                            // A dot left of the name flags a disagreement (drawn: the UI font has no warning sign).
                            let left = ui.max_rect().left();
                            let tip = if disagree.is_empty() {
                                "Highlight this region in the viewer (with What-if on: hide it)"
                                    .to_string()
                            } else {
                                let why: Vec<&str> =
                                    disagree.iter().map(|d| d.sentence.as_str()).collect();
                                format!(
                                    "The maps disagree by two levels or more here. {}",
                                    why.join(" ")
                                )
                            };
                            let resp = ui
                                .horizontal(|ui| {
                                    ui.add_space(9.0);
                                    ui.selectable_label(lit, &r.region).on_hover_text(tip)
                                })
                                .inner;
                            if resp.clicked() {
                                clicked_row = Some(r.region.clone());
                            }
                            if !disagree.is_empty() {
                                let c = egui::pos2(left + 4.0, resp.rect.center().y);
                                ui.painter()
                                    .circle_filled(c, 3.5, ui.visuals().warn_fg_color);
                            }
                        });
                        for m in &table.methods {
                            row.col(|ui| match r.levels.get(m) {
                                Some(&l) => {
                                    let c = level_colour(kind, l);
                                    ui.painter().rect_filled(ui.max_rect(), 0.0, c);
                                    ui.label(RichText::new(l.to_string()).color(text_on(c)));
                                }
                                None => {
                                    ui.weak("–");
                                }
                            });
                        }
                        row.col(|ui| {
                            ui.label(format!("{:.2}", r.mean));
                        });
                        row.col(|ui| {
                            ui.label(format!("{:.2}", r.ratio_of_ones));
                        });
                    });
                }
            });
    });
    if let Some(c) = clicked_header {
        choice.sort = Some(match &app.settings.sort {
            Some((s, asc)) if *s == c => (c, !asc),
            _ => (c, true),
        });
    }
    clicked_row
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn row(region: &str, levels: &[(&str, u8)], mean: f64, ratio: f64) -> TableRow {
        TableRow {
            region: region.into(),
            levels: levels
                .iter()
                .map(|(m, l)| (m.to_string(), *l))
                .collect::<BTreeMap<_, _>>(),
            mean,
            ratio_of_ones: ratio,
        }
    }

    fn table() -> ExplainabilityTable {
        ExplainabilityTable {
            methods: vec!["S0-".into(), "AVG".into()],
            rows: vec![
                row("nose", &[("S0-", 1), ("AVG", 1)], 1.0, 1.0),
                row("chin", &[("S0-", 2), ("AVG", 4)], 3.0, 0.0),
                row("lips", &[("S0-", 1), ("AVG", 3)], 2.0, 0.5),
                row("left eye", &[("S0-", 5)], 5.0, 0.0),
            ],
        }
    }

    #[test]
    fn sorting_by_mean_both_ways_and_by_a_method() {
        let t = table();
        let names = |s: Option<&(SortColumn, bool)>| {
            sorted_rows(&t, s)
                .iter()
                .map(|r| r.region.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(None), ["nose", "chin", "lips", "left eye"]);
        assert_eq!(
            names(Some(&(SortColumn::Mean, true))),
            ["nose", "lips", "chin", "left eye"]
        );
        assert_eq!(
            names(Some(&(SortColumn::Mean, false))),
            ["left eye", "chin", "lips", "nose"]
        );
        // Missing level sorts last ascending; ties keep the ranking order.
        assert_eq!(
            names(Some(&(SortColumn::Method("AVG".into()), true))),
            ["nose", "lips", "chin", "left eye"]
        );
        assert_eq!(
            names(Some(&(SortColumn::RatioOfOnes, false))),
            ["nose", "lips", "chin", "left eye"]
        );
    }

    #[test]
    fn csv_has_every_cell_in_order() {
        let t = table();
        let rows = sorted_rows(&t, Some(&(SortColumn::Mean, true)));
        assert_eq!(
            csv(&t, &rows),
            "Region,S0-,AVG,Mean,Ratio of 1s\n\
             nose,1,1,1.0000,1.0000\n\
             lips,1,3,2.0000,0.5000\n\
             chin,2,4,3.0000,0.0000\n\
             left eye,5,,5.0000,0.0000\n"
        );
    }
}
