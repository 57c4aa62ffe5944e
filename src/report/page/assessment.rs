//! The report's initial assessment (ENFSI best-practice manual): whether each
//! image is fit for a facial comparison, from the analysis's quality records
//! (measures named after ISO/IEC 29794-5 as OFIQ implements them).

use super::num;
use crate::record::quality::Verdict;
use crate::record::{Analysis, face_label};
use maud::{Markup, html};

/// "Initial assessment": each face's verdict, reasons and measures.
pub(super) fn assessment_section(a: &Analysis) -> Markup {
    let assessed: Vec<_> = a
        .images
        .iter()
        .enumerate()
        .filter_map(|(i, im)| im.quality.as_ref().map(|q| (i, q)))
        .collect();
    if assessed.is_empty() {
        return html! {
            section {
                h2 { "Initial assessment" }
                p { "Absent: this analysis records no image-quality assessment, so whether the \
                     images are fit for comparison was not checked by the software." }
            }
        };
    }
    let unfit = assessed.iter().any(|(_, q)| q.verdict == Verdict::Unfit);
    html! {
        section {
            h2 { "Initial assessment" }
            @if unfit {
                p.warning { b { "At least one image is unfit for comparison." } " The similarity \
                    and any confidence below were computed anyway and must not be relied on." }
            }
            @for (i, q) in &assessed {
                h3 { "Face " (face_label(*i)) ": " (q.verdict.as_str()) }
                @if !q.reasons.is_empty() {
                    ul { @for r in &q.reasons { li { (r) } } }
                }
                table.facts {
                    tr { th { "Measure" } th { "Raw value" } th { "Score (0–100)" } th { "Verdict" } }
                    @for m in &q.measures {
                        tr {
                            td { (m.name) }
                            td { (num(m.raw)) " " (m.unit) }
                            td { (m.score) }
                            td { (m.verdict.as_str()) }
                        }
                    }
                }
                div.note { "Thresholds: " (q.thresholds) }
            }
        }
    }
}
