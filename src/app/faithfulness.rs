//! Beside the map selector: how faithful the chosen map is (issue 16) — its
//! deletion and insertion AUC ratios against random 8×8 tiles per face, and
//! small plots of its curves (solid) over the baseline's (faint).

use super::Cx;
use crate::record::{CurvesRecord, FaithfulnessRecord, MapFaithfulness};
use crate::session::MapChoice;
use egui::{Color32, Pos2, Sense, Stroke, Vec2};

/// The test's entries for `choice`: X-Map and Mery names, with the face.
pub fn entries(f: &FaithfulnessRecord, choice: MapChoice) -> Vec<&MapFaithfulness> {
    f.maps
        .iter()
        .filter(|m| m.name == choice.record_name())
        .collect()
}

/// "A: deletion 0.45×, insertion 1.32×" for one entry.
pub fn summary(m: &MapFaithfulness) -> String {
    let r = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}×"));
    format!(
        "{}: deletion {}, insertion {}",
        m.face,
        r(m.deletion_ratio),
        r(m.insertion_ratio)
    )
}

/// A small plot of one curve over the baseline's.
fn plot(ui: &mut egui::Ui, map: &[f64], base: &[f64], colour: Color32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(64.0, 28.0), Sense::hover());
    let p = ui.painter_at(rect);
    p.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, ui.visuals().weak_text_color()),
        egui::StrokeKind::Inside,
    );
    let all = map.iter().chain(base);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = (hi - lo).max(1e-6);
    let pts = |c: &[f64]| -> Vec<Pos2> {
        let n = (c.len().max(2) - 1) as f32;
        c.iter()
            .enumerate()
            .map(|(i, v)| {
                Pos2::new(
                    rect.left() + rect.width() * i as f32 / n,
                    rect.bottom() - rect.height() * ((v - lo) / span) as f32,
                )
            })
            .collect()
    };
    p.add(egui::Shape::line(
        pts(base),
        Stroke::new(1.0, colour.gamma_multiply(0.35)),
    ));
    p.add(egui::Shape::line(pts(map), Stroke::new(1.5, colour)));
}

fn baseline<'a>(f: &'a FaithfulnessRecord, face: &str) -> Option<&'a CurvesRecord> {
    f.baselines
        .iter()
        .find(|b| b.face == face)
        .map(|b| &b.curves)
}

/// The line under the map selector.
pub fn ui(cx: &Cx, choice: MapChoice, ui: &mut egui::Ui) {
    let Some(f) = cx
        .session
        .shown_maps()
        .and_then(|m| m.faithfulness.as_ref())
    else {
        return;
    };
    let list = entries(f, choice);
    ui.horizontal_wrapped(|ui| {
        ui.label("Faithfulness vs random tiles:")
            .on_hover_text(crate::explain::faithfulness::METHOD);
        if list.is_empty() {
            ui.weak("not measured for this map");
        }
        for m in list {
            ui.label(summary(m)).on_hover_text(
                "Deletion ratio below 1 and insertion ratio above 1: the map ranks pixels better than random 8×8 tiles",
            );
            if let Some(b) = baseline(f, &m.face) {
                plot(ui, &m.curves.deletion, &b.deletion, Color32::from_rgb(230, 90, 90));
                plot(ui, &m.curves.insertion, &b.insertion, Color32::from_rgb(90, 170, 230));
            }
        }
    });
}
