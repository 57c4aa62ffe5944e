//! The verdict header: decision badge, similarity, threshold, C-Score,
//! PIC-Score and decision confidence, each with a tooltip saying what it
//! means and which calibration data it comes from.

use super::Cx;
use crate::calibration::Calibration;
use crate::pipeline::Decision;
use crate::record::Evidence;
use crate::record::evidence::percent_short_of_certain;
use egui::{Color32, RichText};

/// Where a confidence comes from, for its tooltip.
fn provenance(c: &Calibration) -> String {
    let f = &c.file;
    format!(
        "Calibration \"{}\" (SHA-256 {}…): {} genuine and {} impostor pairs from dataset {} ({} identities, {} images used), model {}.",
        c.name,
        &c.sha256[..c.sha256.len().min(12)],
        f.pairs.genuine,
        f.pairs.impostor,
        f.dataset.name,
        f.dataset.identities,
        f.dataset.images_used,
        f.model.name
    )
}

/// Start a new row of the header when a figure of these lines would not fit
/// in what is left of the current one (a vertical group does not wrap by
/// itself, and the last figures were cut at the panel's edge).
fn wrap_unless_fits(ui: &mut egui::Ui, lines: &[&RichText]) {
    let width = lines
        .iter()
        .map(|t| {
            egui::WidgetText::from((*t).clone())
                .into_galley(
                    ui,
                    Some(egui::TextWrapMode::Extend),
                    f32::INFINITY,
                    egui::TextStyle::Body,
                )
                .size()
                .x
        })
        .fold(0.0, f32::max);
    // In a wrapping layout `available_width` is the whole row's; what is
    // left of this row runs from the cursor to the right edge.
    let left = ui.max_rect().right() - ui.cursor().min.x;
    if width + ui.spacing().item_spacing.x > left {
        ui.end_row();
    }
}

fn figure(ui: &mut egui::Ui, name: &str, value: String, tip: String) {
    let (name, value) = (
        RichText::new(name).small().weak(),
        RichText::new(value).size(17.0).strong(),
    );
    wrap_unless_fits(ui, &[&name, &value]);
    ui.vertical(|ui| {
        ui.add(egui::Label::new(name).extend());
        ui.add(egui::Label::new(value).extend())
    })
    .response
    .on_hover_text(tip);
}

/// The header.
pub fn ui(cx: &Cx, ui: &mut egui::Ui) {
    let app = cx.session;
    if app.result_hidden() {
        return super::case_pane::blind_notice(ui);
    }
    let (Some(an), Some(Ok(models))) = (app.current_analysis(), &app.models) else {
        ui.heading(if app.busy() || app.models.is_none() {
            "Comparing…"
        } else {
            "Load two images to compare them"
        });
        return;
    };
    let calibration = models.calibration.as_ref().ok();
    // A face not fit for comparison is said before the score.
    super::quality_badge::warnings(ui, an);
    ui.horizontal_wrapped(|ui| {
        let (text, colour) = match an.decision {
            Decision::Match => ("MATCH", Color32::from_rgb(30, 130, 60)),
            Decision::NonMatch => ("NON-MATCH", Color32::from_rgb(180, 45, 40)),
        };
        egui::Frame::new()
            .fill(colour)
            .corner_radius(4.0)
            .inner_margin(egui::Margin::symmetric(10, 6))
            .show(ui, |ui| {
                ui.label(
                    RichText::new(format!("Decision: {text}"))
                        .strong()
                        .size(18.0)
                        .color(Color32::WHITE),
                )
                .on_hover_text(
                    "Match when the similarity is at least the threshold; otherwise non-match.",
                );
            });
        ui.add_space(8.0);
        figure(
            ui,
            "Similarity",
            format!("{:.4}", an.similarity),
            "Cosine similarity of the two SFace embeddings (−1 … 1; higher = more alike).".into(),
        );
        ui.separator();
        figure(
            ui,
            "Threshold",
            format!("{:.4}", an.threshold),
            format!(
                "Decision threshold on the similarity. Source: {}.",
                an.threshold_source
            ),
        );
        match (&an.confidence, calibration) {
            (Some(c), Some(cal)) => {
                let prov = provenance(cal);
                ui.separator();
                figure(
                    ui,
                    "C-Score",
                    format!("{:.3}", c.c_score),
                    format!(
                        "C-Score (Knoche et al.): probability that this decision is right, from a sigmoid fitted to the genuine/impostor distance histograms. {prov}"
                    ),
                );
                ui.separator();
                figure(
                    ui,
                    "PIC-Score",
                    format!("{:.3}", c.pic_score),
                    format!(
                        "PIC-Score (Neto et al.): probability that the two faces are the same person, from Gaussian KDEs of genuine and impostor similarities with equal priors. {prov}"
                    ),
                );
                ui.separator();
                let conf_tip = match &an.evidence {
                    Some(e) => format!(
                        "Probability that the decision is right, from the bounded likelihood ratio at a prior P(Hp) = {}: P(Hp | score) for a match, 1 − P(Hp | score) for a non-match. {prov}",
                        e.prior_hp
                    ),
                    None => format!(
                        "Probability that the decision is right: the PIC-Score for a match, 1 − PIC-Score for a non-match. {prov}"
                    ),
                };
                figure(
                    ui,
                    "Decision confidence",
                    percent_short_of_certain(c.decision_confidence),
                    conf_tip,
                );
                if let Some(e) = &an.evidence {
                    ui.separator();
                    evidence_figure(ui, e);
                }
            }
            _ => {
                ui.separator();
                let why = models
                    .calibration
                    .as_ref()
                    .err()
                    .cloned()
                    .unwrap_or_default();
                ui.weak("No calibrated confidence")
                    .on_hover_text(format!("No calibration for this model: {why}"));
            }
        }
    });
    super::models::header_rows(app, an, ui);
}

/// The likelihood ratio with its verbal equivalent (ENFSI 2015 scale); the
/// propositions, bounds and calibration data in its tooltip.
fn evidence_figure(ui: &mut egui::Ui, e: &Evidence) {
    let (g, i) = e.pairs();
    let clipped = if e.clipped {
        format!(
            " Bounded by the calibration data: the calibrator gave log10 LR {:.2}, outside what its {g} genuine and {i} impostor pairs support (ELUB).",
            e.log10_lr_unbounded
        )
    } else {
        String::new()
    };
    let tip = format!(
        "Likelihood ratio for Hp: {} against Hd: {} (log10 LR {:.2}). {}. Bounds supported by the calibration data (ELUB, Vergeer et al. 2016): {}.{clipped} Calibrator: {}; calibration \"{}\" on {}. Scale: {}. Prior P(Hp) = {} gives P(Hp | score) = {}.",
        e.hp,
        e.hd,
        e.log10_lr,
        e.verbal,
        e.bounds_text(),
        e.calibrator,
        e.calibration.name,
        e.data
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        e.scale,
        e.prior_hp,
        percent_short_of_certain(e.posterior_hp),
    );
    let value = if e.clipped {
        format!("{} (bounded)", e.lr_text())
    } else {
        e.lr_text()
    };
    let lines = [
        RichText::new("Likelihood ratio").small().weak(),
        RichText::new(value).size(17.0).strong(),
        RichText::new(&e.verbal_band).small(),
    ];
    wrap_unless_fits(ui, &lines.iter().collect::<Vec<_>>());
    ui.vertical(|ui| {
        for line in lines {
            ui.add(egui::Label::new(line).extend());
        }
    })
    .response
    .on_hover_text(tip);
}
