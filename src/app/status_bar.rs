//! The status bar (models, progress bar with elapsed time and ETA, Cancel)
//! and the error banner a failed job leaves above the results.

use super::{Cx, UiCommand};
use crate::session::Command;
use egui::{Color32, RichText};

/// Seconds as "12.3 s" or "1 min 05 s".
pub fn seconds(s: f32) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{} min {:02.0} s", (s / 60.0) as u32, s % 60.0)
    }
}

/// The status bar.
pub fn ui(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let app = cx.session;
    ui.horizontal(|ui| {
        match &app.models {
            None => {
                ui.spinner();
                ui.label("Loading models…");
            }
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Models not loaded: {e}"),
                );
            }
            Some(Ok(m)) => {
                ui.label(format!("Model: {}", m.name))
                    .on_hover_text(format!("SHA-256 {}", m.sha256));
            }
        }
        if let Some(f) = &app.fault {
            ui.separator();
            ui.colored_label(ui.visuals().error_fg_color, f)
                .on_hover_text("A computation failed inside the app; the app goes on");
        }
        if let Some(p) = &app.progress {
            ui.separator();
            let pr = &p.progress;
            let frac = if pr.total > 0 {
                pr.done as f32 / pr.total as f32
            } else {
                0.0
            };
            ui.add(
                egui::ProgressBar::new(frac)
                    .desired_width(260.0)
                    .text(format!("{} {}/{}", pr.stage, pr.done, pr.total)),
            )
            .on_hover_text("Progress of the running job");
            let stage_s = p.stage_started.elapsed().as_secs_f32();
            let eta = (pr.done > 0 && pr.done < pr.total)
                .then(|| stage_s * (pr.total - pr.done) as f32 / pr.done as f32);
            ui.label(format!(
                "elapsed {}{}",
                seconds(p.started.elapsed().as_secs_f32()),
                eta.map_or(String::new(), |e| format!(
                    ", {} left in this stage",
                    seconds(e)
                ))
            ));
            if ui
                .button("Cancel")
                .on_hover_text("Stop the running jobs (Esc); the results on screen stay")
                .clicked()
            {
                out.push(Command::Cancel.into());
            }
        } else if let Some(n) = &app.notice {
            ui.separator();
            ui.label(n);
        }
    });
}

/// The error banner of the last failed job, with a Dismiss button.
pub fn banner(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let Some(msg) = cx.session.banner.clone() else {
        return;
    };
    egui::Frame::new()
        .fill(Color32::from_rgb(110, 30, 30))
        .inner_margin(6.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(msg.to_string()).color(Color32::WHITE));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Dismiss").clicked() {
                        out.push(Command::DismissBanner.into());
                    }
                });
            });
        });
    ui.add_space(4.0);
}
