//! The verdict header (similarity, threshold, decision badge) and the two
//! aligned faces.

use super::wrap_app::FacexplainApp;
use crate::pipeline::Decision;
use egui::{Color32, RichText};

/// Similarity, threshold and the decision as a coloured badge.
pub fn ui(app: &FacexplainApp, ui: &mut egui::Ui) {
    let Some(cmp) = app.comparison() else {
        ui.heading(if app.busy() {
            "Comparing…"
        } else {
            "Load two images to compare them"
        });
        return;
    };
    let source = app.threshold().map(|(_, s)| s).unwrap_or("");
    ui.horizontal(|ui| {
        let (text, colour) = match cmp.decision {
            Decision::Match => ("MATCH", Color32::from_rgb(30, 140, 60)),
            Decision::NonMatch => ("NON-MATCH", Color32::from_rgb(190, 50, 40)),
        };
        ui.label(
            RichText::new(format!("Decision: {text}"))
                .strong()
                .size(20.0)
                .color(Color32::WHITE)
                .background_color(colour),
        )
        .on_hover_text("Match when the similarity is at least the threshold.");
        ui.separator();
        ui.label(RichText::new(format!("Similarity {:.4}", cmp.similarity)).size(18.0))
            .on_hover_text(
                "Cosine similarity of the two face embeddings (−1 … 1; higher = more alike).",
            );
        ui.separator();
        ui.label(RichText::new(format!("Threshold {:.4}", cmp.threshold)).size(18.0))
            .on_hover_text(format!(
                "Decision threshold on the similarity; source: {source}."
            ));
    });
}

/// The two aligned 112×112 faces side by side, enlarged.
pub fn aligned_faces(app: &FacexplainApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        for s in &app.slots {
            if let Some(tex) = &s.crop {
                let side = (ui.available_width() / 2.0 - 16.0).clamp(112.0, 336.0);
                ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(side, side)));
            }
        }
    });
}
