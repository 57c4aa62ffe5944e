//! Several face recognisers in the window (issue 19): the View menu's
//! checkboxes that enable them, the verdict header's row per model with the
//! disagreement said in words, and the viewer's selector of whose maps are
//! shown. All three only read the session and send commands.

use super::UiCommand;
use crate::record::evidence::percent_short_of_certain;
use crate::record::{Analysis, Decision, disagreement_by};
use crate::session::{Command, ModelRun, RecogniserInfo, Session};
use egui::{Color32, RichText};

/// What a recogniser's tooltip says: its full name, file hash and calibration.
fn about(r: &RecogniserInfo, primary: bool) -> String {
    let calibration = match &r.calibration {
        Ok(c) => format!("calibrated on {} (\"{}\")", c.file.dataset.name, c.name),
        Err(e) => format!("not calibrated ({e}): no confidences or likelihood ratio"),
    };
    format!(
        "{}{}, SHA-256 {}…; {calibration}.{}",
        r.model.name,
        if r.user { " (added by you)" } else { "" },
        &r.model.sha256[..r.model.sha256.len().min(12)],
        if primary {
            " The analysis's own model: its maps, tables and chat answers are the record's."
        } else {
            ""
        }
    )
}

/// The View menu's section: one checkbox per recogniser (the analysis's own always on).
pub fn menu_section(app: &Session, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let Some(Ok(m)) = &app.models else {
        return;
    };
    ui.label("Face recognition models").on_hover_text(
        "Run other recognisers on the same pair and show their verdicts beside this one's",
    );
    for (i, r) in m.recognisers.iter().enumerate() {
        let mut on = i == 0 || app.settings.models.contains(&r.id);
        let text = if i == 0 {
            format!("{} (this analysis)", r.label())
        } else {
            r.label().to_string()
        };
        let resp = ui
            .add_enabled(i > 0, egui::Checkbox::new(&mut on, text))
            .on_hover_text(about(r, i == 0))
            .on_disabled_hover_text(about(r, i == 0));
        if resp.changed() {
            let mut ids: Vec<String> = (app.settings.models.iter())
                .filter(|id| **id != r.id)
                .cloned()
                .collect();
            if on {
                ids.push(r.id.clone());
            }
            out.push(Command::SetModels(ids).into());
        }
    }
    if let Some(e) = &m.user_models_error {
        ui.colored_label(ui.visuals().warn_fg_color, format!("Your models: {e}"));
    }
}

fn decision_colour(d: Decision) -> Color32 {
    match d {
        Decision::Match => Color32::from_rgb(30, 130, 60),
        Decision::NonMatch => Color32::from_rgb(180, 45, 40),
    }
}

/// One row per enabled recogniser (similarity, threshold, decision,
/// confidence, likelihood ratio) and, when their decisions differ, the
/// disagreement in words. Nothing when only the analysis's own model runs.
pub fn header_rows(app: &Session, an: &Analysis, ui: &mut egui::Ui) {
    let runs = app.model_runs();
    if runs.len() < 2 {
        return;
    }
    ui.add_space(4.0);
    egui::Grid::new("models-side-by-side")
        .num_columns(6)
        .spacing([16.0, 2.0])
        .show(ui, |ui| {
            for h in [
                "Model",
                "Similarity",
                "Threshold",
                "Decision",
                "Decision confidence",
                "Likelihood ratio",
            ] {
                ui.label(RichText::new(h).small().weak());
            }
            ui.end_row();
            for (i, (r, run)) in runs.iter().enumerate() {
                ui.label(RichText::new(r.label()).strong())
                    .on_hover_text(about(r, i == 0));
                match run {
                    ModelRun::Done(v) => {
                        ui.label(format!("{:.4}", v.similarity));
                        ui.label(format!("{:.4}", v.threshold))
                            .on_hover_text(format!("Source: {}", v.threshold_source));
                        ui.label(
                            RichText::new(v.decision.as_str())
                                .strong()
                                .color(decision_colour(v.decision)),
                        );
                        match &v.confidence {
                            Some(c) => ui.label(percent_short_of_certain(c.decision_confidence)),
                            None => ui.weak("not calibrated"),
                        };
                        match &v.evidence {
                            Some(e) => ui.label(e.lr_text()).on_hover_text(format!(
                                "{} (log10 LR {:.2}; calibration \"{}\")",
                                e.verbal_band, e.log10_lr, e.calibration.name
                            )),
                            None => ui.weak("—").on_hover_text("No calibration for this model"),
                        };
                    }
                    ModelRun::Computing => {
                        ui.weak("computing…");
                    }
                    ModelRun::Failed(e) => {
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            format!("could not run: {e}"),
                        );
                    }
                }
                ui.end_row();
            }
        });
    match disagreement_by(&an.models, |v| v.label()) {
        Some(words) => {
            egui::Frame::new()
                .fill(Color32::from_rgb(150, 90, 0))
                .corner_radius(4.0)
                .inner_margin(egui::Margin::symmetric(8, 3))
                .show(ui, |ui| {
                    ui.label(
                        RichText::new(format!("The models disagree — {words}"))
                            .strong()
                            .color(Color32::WHITE),
                    )
                    .on_hover_text(
                        "Each model decides at its own calibrated threshold; a second model that decides otherwise is a reason to look closer, not a verdict.",
                    );
                });
        }
        None if an.models.len() == runs.len() => {
            ui.weak(format!("The models agree: {}.", an.decision));
        }
        None => {}
    }
}

/// The viewer's selector of whose maps are shown (only with several models enabled).
pub fn map_selector(app: &Session, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let enabled = app.enabled_models();
    if enabled.len() < 2 {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Model:")
            .on_hover_text("Whose maps the viewer and the table show");
        for (i, r) in enabled.iter().enumerate() {
            let id = (i > 0).then(|| r.id.clone());
            let selected = app.side_by_side.shown == id;
            if ui
                .selectable_label(selected, r.label())
                .on_hover_text(format!(
                    "Explain with {} (kept for this pair once computed, so switching back is instant)",
                    r.model.name
                ))
                .clicked()
                && !selected
            {
                out.push(Command::ShowModel(id).into());
            }
        }
    });
}
