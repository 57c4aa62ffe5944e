//! The pair panel: two slots (probe, reference), each a drop zone with an
//! Open button, a thumbnail with numbered face boxes (click one to use it),
//! the file's name with the face's quality badge, dimensions, size and SHA-256.

use super::{Cx, UiCommand};
use crate::session::{Command, Slot};
use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};
use std::path::PathBuf;

/// Image file extensions the open dialog offers.
pub const EXTENSIONS: [&str; 10] = [
    "jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "pgm", "ppm", "pnm",
];

/// Ask for an image file with the native dialog.
pub fn pick_file(slot: Slot) -> Option<PathBuf> {
    rfd::FileDialog::new()
        .set_title(format!("Open {} image", slot.label().to_lowercase()))
        .add_filter("Images", &EXTENSIONS)
        .pick_file()
}

fn zone_id(slot: Slot) -> egui::Id {
    egui::Id::unique(("slot-zone", slot.index()))
}

/// The slot whose drop zone contains `pos` (as drawn in the last frame).
pub fn slot_at(ctx: &egui::Context, pos: Pos2) -> Option<Slot> {
    Slot::BOTH.into_iter().find(|s| {
        ctx.data(|d| d.get_temp::<Rect>(zone_id(*s)))
            .is_some_and(|r| r.contains(pos))
    })
}

/// Draw both slots.
pub fn ui(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    for slot in Slot::BOTH {
        slot_ui(cx, ui, slot, out);
        ui.add_space(8.0);
    }
}

fn slot_ui(cx: &Cx, ui: &mut egui::Ui, slot: Slot, out: &mut Vec<UiCommand>) {
    let app = cx.session;
    // Highlight the slot a dragged file would land in (both for two files).
    let (n, pos) = ui
        .ctx()
        .input(|i| (i.raw.hovered_files.len(), i.pointer.latest_pos()));
    let hovering = n >= 2
        || (n == 1
            && pos
                .and_then(|p| slot_at(ui.ctx(), p))
                .is_none_or(|s| s == slot));
    let frame = egui::Frame::group(ui.style()).stroke(if hovering {
        Stroke::new(2.0, ui.visuals().selection.stroke.color)
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    });
    let resp = frame.show(ui, |ui| {
        ui.set_min_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.heading(slot.label());
            if ui
                .button("Open…")
                .on_hover_text(format!("Choose the {} image", slot.label().to_lowercase()))
                .clicked()
                && let Some(p) = pick_file(slot)
            {
                out.push(Command::OpenInSlot(slot, p).into());
            }
            if app.slots[slot.index()].pending.is_some() {
                ui.spinner();
            }
        });
        let s = &app.slots[slot.index()];
        if let Some(err) = &s.error {
            ui.colored_label(ui.visuals().error_fg_color, err);
        }
        let Some(a) = s.analysis.clone() else {
            ui.weak("Drop an image here or use Open…");
            return;
        };
        if let Some(tex) = cx.textures.thumb(slot.index()) {
            let (w, h) = (a.image.width() as f32, a.image.height() as f32);
            let max_w = ui.available_width().min(300.0);
            let scale = (max_w / w).min(220.0 / h);
            let (rect, _) = ui.allocate_exact_size(Vec2::new(w * scale, h * scale), Sense::hover());
            ui.painter().image(
                tex.id(),
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
            let mut picked = None;
            for (i, f) in a.faces.iter().enumerate() {
                let r = Rect::from_min_size(
                    rect.min + Vec2::new(f.bbox[0], f.bbox[1]) * scale,
                    Vec2::new(f.bbox[2], f.bbox[3]) * scale,
                );
                let chosen = i == a.chosen;
                let colour = if chosen {
                    Color32::from_rgb(60, 200, 90)
                } else {
                    Color32::from_rgb(240, 200, 40)
                };
                ui.painter().rect_stroke(
                    r,
                    0.0,
                    Stroke::new(if chosen { 2.5 } else { 1.5 }, colour),
                    StrokeKind::Outside,
                );
                ui.painter().text(
                    r.left_top(),
                    egui::Align2::LEFT_BOTTOM,
                    format!("{}", i + 1),
                    egui::FontId::proportional(13.0),
                    colour,
                );
                let resp = ui.interact(
                    r,
                    ui.scope_id().with(("face", slot.index(), i)),
                    Sense::click(),
                );
                resp.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Button,
                        true,
                        format!("{} face {}", slot.label(), i + 1),
                    )
                });
                if resp
                    .on_hover_text(format!(
                        "Face {} (score {:.2}) — click to use it",
                        i + 1,
                        f.score
                    ))
                    .clicked()
                {
                    picked = Some(i);
                }
            }
            if let Some(i) = picked {
                out.push(Command::PickFace(slot, i).into());
            }
        }
        ui.horizontal(|ui| {
            ui.label(a.image.file_name().to_string());
            super::quality_badge::badge(ui, s.quality.as_ref());
        });
        ui.label(format!(
            "{}×{} px, {} — {} face(s), using #{}",
            a.image.width(),
            a.image.height(),
            human_size(a.image.file_size),
            a.faces.len(),
            a.chosen + 1
        ));
        ui.horizontal(|ui| {
            ui.label("SHA-256:");
            let short = format!("{}…", &a.image.sha256[..16]);
            if ui
                .link(short)
                .on_hover_text(format!("{}\nclick to copy", a.image.sha256))
                .clicked()
            {
                ui.ctx().copy_text(a.image.sha256.clone());
            }
        });
    });
    ui.ctx()
        .data_mut(|d| d.insert_temp(zone_id(slot), resp.response.rect));
}

/// A file size for people: 1.2 MB, 35.0 kB, 12 B.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
