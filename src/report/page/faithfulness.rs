//! How far the maps can be trusted (issue 16): the deletion/insertion test of
//! every map against random 8×8 tiles (ratios and curves) and the regions on
//! which the maps of one face disagree by two levels or more.

use super::{code, note};
use crate::record::{Analysis, CurvesRecord, FaithfulnessRecord, agreement_summary};
use maud::{Markup, html};

/// An inline SVG of a map's curve (solid) over the baseline's (dashed).
fn curve_svg(map: &[f64], base: &[f64]) -> Markup {
    let (w, h) = (120.0, 40.0);
    let all = map.iter().chain(base);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = (hi - lo).max(1e-6);
    let pts = |c: &[f64]| -> String {
        let n = (c.len().max(2) - 1) as f64;
        c.iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", w * i as f64 / n, h - h * (v - lo) / span))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg width="120" height="40" viewBox="0 0 120 40" role="img" aria-label="curve" {
            polyline points=(pts(base)) fill="none" stroke="#999" stroke-dasharray="3 2" {}
            polyline points=(pts(map)) fill="none" stroke="#c03030" stroke-width="1.5" {}
        }
    }
}

fn ratio(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}×"))
}

fn auc(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

fn baseline<'a>(f: &'a FaithfulnessRecord, face: &str) -> Option<&'a CurvesRecord> {
    f.baselines
        .iter()
        .find(|b| b.face == face)
        .map(|b| &b.curves)
}

fn test_table(f: &FaithfulnessRecord) -> Markup {
    html! {
        p.note { (f.method) }
        p.note {
            "Parameters: " (f.params.steps) " steps, fill " (code(&format!("{:?}", f.params.fill)))
            ", baseline: " (f.params.random_orders) " seeded orders (seed " (f.params.seed) ") of "
            (f.params.tile) "×" (f.params.tile) " tiles; " (f.passes) " forward passes."
        }
        table.ranked {
            thead {
                tr {
                    th { "Map" } th { "Face" } th { "Deletion AUC" } th { "× random" }
                    th { "Insertion AUC" } th { "× random" } th { "Deletion curve" } th { "Insertion curve" }
                }
            }
            tbody {
                @for m in &f.maps {
                    tr {
                        td { (m.name) } td { (m.face) }
                        td.num { (auc(m.curves.deletion_auc)) } td.num { (ratio(m.deletion_ratio)) }
                        td.num { (auc(m.curves.insertion_auc)) } td.num { (ratio(m.insertion_ratio)) }
                        @match baseline(f, &m.face) {
                            Some(b) => {
                                td { (curve_svg(&m.curves.deletion, &b.deletion)) }
                                td { (curve_svg(&m.curves.insertion, &b.insertion)) }
                            },
                            None => { td { "–" } td { "–" } },
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn faithfulness_section(a: &Analysis) -> Markup {
    let p = &a.parameters;
    if p.faithfulness.is_none() && p.disagreements.is_none() && a.maps.is_empty() {
        return html! {};
    }
    html! {
        section {
            h2 { "How far the maps can be trusted" }
            h3 { "Faithfulness (deletion and insertion)" }
            @match &p.faithfulness {
                Some(f) => (test_table(f)),
                None => p { "Not measured for this analysis (compare with --faithfulness)." },
            }
            h3 { "Method agreement" }
            @match &p.disagreements {
                None => p { "Not checked: this analysis records no comparison of the maps' levels (it has no explainability table)." },
                Some(d) => {
                    p { (agreement_summary(d)) }
                    @if !d.is_empty() {
                        ul { @for x in d { li { (x.sentence) } } }
                    }
                    (note("Levels are compared only between maps of one face in one table (saliency: 1 = most important; X-Maps: 1 = most similar)."))
                },
            }
        }
    }
}
