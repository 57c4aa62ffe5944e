//! The explanation parameters panel (X-Map patch sizes, stride, blur; Mery &
//! Morris d, nh, tmax, th, faces) with Recompute. Parameters persist between runs.

use super::{Cx, UiCommand};
use crate::explain::ExplainParams;
use crate::explain::mery::MeryParams;
use crate::explain::xmap::XMapParams;
use crate::pipeline::CROP;
use crate::session::Command;

/// Patch sizes offered (the paper's).
const PATCH_SIZES: [usize; 3] = [7, 14, 28];

/// A checkbox for whether `value` is in the sorted list `list`.
fn member_checkbox(
    ui: &mut egui::Ui,
    list: &mut Vec<usize>,
    value: usize,
    label: &str,
) -> egui::Response {
    let mut has = list.contains(&value);
    let resp = ui.checkbox(&mut has, label);
    if resp.changed() {
        if has {
            list.push(value);
            list.sort_unstable();
        } else {
            list.retain(|&q| q != value);
        }
    }
    resp
}

/// The collapsible panel; edits `p` (the viewer sends it on as one command).
pub fn ui(cx: &Cx, p: &mut ExplainParams, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let app = cx.session;
    egui::CollapsingHeader::new("Explanation parameters")
        .id_salt("params")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let mut on = p.xmap.is_some();
                if ui.checkbox(&mut on, "X-Maps").changed() {
                    p.xmap = on.then(XMapParams::default);
                }
                if let Some(x) = &mut p.xmap {
                    ui.label("patch sizes");
                    for s in PATCH_SIZES {
                        member_checkbox(ui, &mut x.patch_sizes, s, &s.to_string());
                    }
                    ui.add(
                        egui::DragValue::new(&mut x.stride)
                            .range(1..=28)
                            .prefix("stride "),
                    );
                    ui.add(
                        egui::DragValue::new(&mut x.blur_kernel)
                            .range(0..=31)
                            .prefix("blur kernel "),
                    )
                    .on_hover_text("Odd Gaussian kernel size; 0 or 1 = no blur");
                    ui.add(
                        egui::DragValue::new(&mut x.blur_sigma)
                            .range(0.1..=20.0)
                            .speed(0.1)
                            .prefix("σ "),
                    );
                }
            });
            ui.horizontal_wrapped(|ui| {
                let mut on = p.mery.is_some();
                if ui.checkbox(&mut on, "Mery & Morris").changed() {
                    p.mery = on.then(MeryParams::default);
                }
                if let Some(m) = &mut p.mery {
                    ui.add(egui::DragValue::new(&mut m.d).range(2..=56).prefix("d "))
                        .on_hover_text("Grid step: hole centres every d pixels");
                    ui.add(egui::DragValue::new(&mut m.nh).range(3..=223).prefix("nh "))
                        .on_hover_text("Hole size (odd); σ = nh / 8.5");
                    ui.add(
                        egui::DragValue::new(&mut m.tmax)
                            .range(1..=100)
                            .prefix("tmax "),
                    )
                    .on_hover_text("Most greedy steps");
                    ui.add(
                        egui::DragValue::new(&mut m.th)
                            .range(0.0..=1.0)
                            .speed(0.001)
                            .prefix("th "),
                    )
                    .on_hover_text("Greedy loops stop once a step changes the score by ≤ th");
                    ui.label("faces");
                    for (f, name) in [(0, "A"), (1, "B")] {
                        member_checkbox(ui, &mut m.faces, f, name).on_hover_text(format!(
                            "Compute the Mery maps of face {name} (perturbed against the other face)"
                        ));
                    }
                }
            });
            ui.horizontal_wrapped(|ui| {
                let mut on = p.greedy.is_some();
                if ui
                    .checkbox(&mut on, "Greedy deletion map (GD)")
                    .on_hover_text("16×16 tiles removed greedily, the one that lowers the similarity most first (about 1,600 passes)")
                    .changed()
                {
                    p.greedy = on.then(Default::default);
                }
                let mut on = p.faithfulness.is_some();
                if ui
                    .checkbox(&mut on, "Faithfulness test")
                    .on_hover_text("Deletion and insertion curves of every map against random 8×8 tiles (about 30 passes per map)")
                    .changed()
                {
                    p.faithfulness = on.then(Default::default);
                }
            });
            ui.horizontal(|ui| {
                // Pixels of the crops of the model explained (its input size).
                let side = (app.view_faces())
                    .map_or(CROP, |(f, _)| f[0].aligned.crop.width());
                let problem = p.validate(side as usize).err().map(|e| e.to_string());
                let can = app.faces().is_some() && problem.is_none();
                if ui
                    .add_enabled(can, egui::Button::new("Recompute"))
                    .on_hover_text("Explain the current pair with these parameters (Ctrl+E)")
                    .clicked()
                {
                    out.push(Command::Explain.into());
                }
                if ui
                    .button("Defaults")
                    .on_hover_text("The papers' parameters")
                    .clicked()
                {
                    let render = p.render.clone();
                    *p = ExplainParams {
                        render,
                        ..Default::default()
                    };
                }
                if let Some(e) = problem {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
            });
        });
}
