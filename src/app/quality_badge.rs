//! The initial assessment in the window: a quality badge per image slot
//! (fit / limited / unfit, the reasons and every measure in its tooltip)
//! and the warning the verdict header shows before the score when a face
//! is not fit for comparison.

use crate::record::{Analysis, FaceQuality, Verdict};
use crate::session::Slot;
use egui::{Color32, RichText};

/// Badge colour of a verdict.
pub fn colour(v: Verdict) -> Color32 {
    match v {
        Verdict::Fit => Color32::from_rgb(30, 130, 60),
        Verdict::Limited => Color32::from_rgb(200, 130, 0),
        Verdict::Unfit => Color32::from_rgb(180, 45, 40),
    }
}

/// The badge's tooltip: the reasons, then every measure with its score.
pub fn tooltip(q: &FaceQuality) -> String {
    let mut lines = vec![match q.verdict {
        Verdict::Fit => "Fit for comparison: every measure is within its threshold.".to_string(),
        v => format!("{} for comparison:", capitalised(v.as_str())),
    }];
    lines.extend(q.reasons.iter().map(|r| format!("• {r}")));
    lines.push(String::new());
    lines.push("Measures (ISO/IEC 29794-5 names; score 0–100):".into());
    lines.extend(q.measures.iter().map(|m| {
        format!(
            "{}: {:.3} {} — score {}, {}",
            m.name, m.raw, m.unit, m.score, m.verdict
        )
    }));
    lines.push(format!("Thresholds: {}", q.thresholds));
    lines.join("\n")
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The slot's quality badge ("Quality: FIT"), or why there is none.
pub fn badge(ui: &mut egui::Ui, quality: Option<&Result<FaceQuality, String>>) {
    match quality {
        None => {
            ui.weak("Quality: not assessed");
        }
        Some(Err(e)) => {
            ui.weak("Quality: not assessed").on_hover_text(e.as_str());
        }
        Some(Ok(q)) => {
            egui::Frame::new()
                .fill(colour(q.verdict))
                .corner_radius(3.0)
                .inner_margin(egui::Margin::symmetric(6, 2))
                .show(ui, |ui| {
                    ui.label(
                        RichText::new(format!("Quality: {}", q.verdict.as_str().to_uppercase()))
                            .strong()
                            .color(Color32::WHITE),
                    )
                })
                .inner
                .on_hover_text(tooltip(q));
        }
    }
}

/// The warning of one face that is not fit ("Image B (reference) is unfit
/// for comparison: not a human face …"), `None` for a fit or unassessed face.
pub fn warning_text(an: &Analysis, index: usize) -> Option<String> {
    let q = an.images.get(index)?.quality.as_ref()?;
    if q.verdict == Verdict::Fit {
        return None;
    }
    let slot = Slot::BOTH[index.min(1)];
    let why = if q.reasons.is_empty() {
        String::new()
    } else {
        format!(": {}", q.reasons.join("; "))
    };
    Some(format!(
        "Image {} ({}) is {} for comparison{why}",
        ["A", "B"][index.min(1)],
        slot.label().to_lowercase(),
        q.verdict
    ))
}

/// The header's warnings, worst face first, drawn above the score; what
/// the score means then is said once after them.
pub fn warnings(ui: &mut egui::Ui, an: &Analysis) {
    let mut faces: Vec<(Verdict, String)> = (0..an.images.len())
        .filter_map(|i| Some((an.images[i].quality.as_ref()?.verdict, warning_text(an, i)?)))
        .collect();
    faces.sort_by_key(|(v, _)| std::cmp::Reverse(*v));
    let Some(worst) = faces.first().map(|(v, _)| *v) else {
        return;
    };
    egui::Frame::new()
        .fill(colour(worst).gamma_multiply(0.18))
        .stroke(egui::Stroke::new(1.5, colour(worst)))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(8, 4))
        .show(ui, |ui| {
            ui.set_min_width(ui.available_width());
            for (v, text) in &faces {
                ui.label(
                    RichText::new(format!("Warning: {text}"))
                        .strong()
                        .color(colour(*v)),
                );
            }
            ui.label(match worst {
                Verdict::Unfit => {
                    "The score below is computed on request and must not be relied on."
                }
                _ => "The score below is less reliable than on fit images.",
            });
        });
}
