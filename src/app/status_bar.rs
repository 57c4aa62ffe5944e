//! The status bar (models, progress bar with elapsed time and ETA, Cancel)
//! and the error banner a failed job leaves above the results.

use super::wrap_app::FacexplainApp;
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
pub fn ui(app: &mut FacexplainApp, ui: &mut egui::Ui) {
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
                app.cancel();
            }
        } else if let Some(n) = &app.notice {
            ui.separator();
            ui.label(n);
        }
    });
}

/// The error banner of the last failed job, with a Dismiss button.
pub fn banner(app: &mut FacexplainApp, ui: &mut egui::Ui) {
    let Some(msg) = app.banner.clone() else {
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
                        app.banner = None;
                    }
                });
            });
        });
    ui.add_space(4.0);
}
