//! The report's "Other models" section: every face recogniser run on the
//! pair (`compare --models`), its similarity, threshold, decision,
//! confidence and LR, and whether they agree, in words.

use super::num;
use crate::record::{Analysis, disagreement, evidence::percent_short_of_certain};
use maud::{Markup, html};

/// Nothing when a single model was run.
pub(super) fn models_section(a: &Analysis) -> Markup {
    if a.models.len() < 2 {
        return html! {};
    }
    let verdict = match disagreement(&a.models) {
        Some(d) => {
            format!("The models disagree ({d}): the pair is hard to call; weigh it with care.")
        }
        None => format!(
            "All {} models agree: {}.",
            a.models.len(),
            a.models[0].decision
        ),
    };
    html! {
        section {
            h2 { "Models side by side" }
            p { b { (verdict) } }
            table {
                tr { th { "Model" } th { "Similarity" } th { "Threshold" } th { "Decision" } th { "Decision confidence" } th { "LR" } }
                @for m in &a.models {
                    tr {
                        td { (m.id) br; small { (m.model.name) } }
                        td { (num(m.similarity)) }
                        td { (num(m.threshold)) }
                        td { (m.decision.as_str()) }
                        td { (m.confidence.as_ref().map_or("no calibration".into(), |c| percent_short_of_certain(c.decision_confidence))) }
                        td { (m.evidence.as_ref().map_or("—".into(), |e| e.lr_text())) }
                    }
                }
            }
            p { "Each model uses its own alignment, input conventions and calibration; the maps and tables below are the first model's." }
        }
    }
}
