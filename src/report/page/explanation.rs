//! The explanation's part of the page: the aligned crops and every map,
//! method by method with its recorded parameters, and the explainability
//! tables in their ranked order.

use super::{code, facts, figure, params};
use crate::record::{Analysis, ExplainabilityTable, face_label};
use crate::report::gather::{Gathered, MapBlend};
use maud::{Markup, html};
use serde::Serialize;

/// One method's maps: its parameters, then each map of face A beside face B.
fn map_group<T: Serialize>(g: &Gathered, title: &str, recorded: Option<&T>, xmap: bool) -> Markup {
    let maps: Vec<&MapBlend> = g
        .maps
        .iter()
        .filter(|(m, _)| m.name.starts_with("xmap-") == xmap)
        .collect();
    if maps.is_empty() && recorded.is_none() {
        return html! {};
    }
    let mut names: Vec<&str> = Vec::new();
    for (m, _) in &maps {
        if !names.contains(&m.name.as_str()) {
            names.push(&m.name);
        }
    }
    let find = |name: &str, f: usize| maps.iter().find(|(m, _)| m.name == name && m.image == f);
    html! {
        h3 { (title) }
        @if let Some(p) = recorded { (params(p)) }
        @for name in names {
            div.pair {
                @for f in 0..2 {
                    @match find(name, f) {
                        Some((_, png)) => (figure(
                            png,
                            &format!("{name} of face {}", face_label(f)),
                            &format!("{name}, face {} (HLS blend)", face_label(f)),
                        )),
                        None => figure.absent {
                            p { (name) " not computed for face " (face_label(f)) }
                        },
                    }
                }
            }
        }
    }
}

pub(super) fn explanation_section(a: &Analysis, g: &Gathered) -> Markup {
    let Some(crops) = &g.crops else {
        return html! {
            section {
                h2 { "Explanation maps" }
                p {
                    "Absent: no explanation was run for this analysis (compare without --explain), \
                     so there are no aligned crops, maps or explainability tables."
                }
            }
        };
    };
    let p = &a.parameters;
    let mut other: Vec<(&str, Markup)> = Vec::new();
    if let Some(h) = &p.aligned_crops_sha256 {
        other.push(("aligned_crops_sha256", params(h)));
    }
    if let Some(r) = &p.regions {
        other.push(("regions", params(r)));
    }
    if let Some(r) = &p.render {
        other.push(("render", params(r)));
    }
    html! {
        section.maps {
            h2 { "Explanation maps" }
            p {
                "Maps lie on the aligned " (crops[0].size.0) " × " (crops[0].size.1)
                " crops the model compared (its input size) and are drawn as HLS \
                 blends (the map's colour, the face's lightness). Files read from "
                (code(&g.folder.display().to_string())) "."
            }
            h3 { "Aligned crops" }
            div.pair {
                (figure(&crops[0], "Aligned face A", "Aligned crop of face A"))
                (figure(&crops[1], "Aligned face B", "Aligned crop of face B"))
            }
            (map_group(g, "X-Maps (Knoche et al.)", p.xmap.as_ref(), true))
            (map_group(g, "Saliency maps (Mery & Morris)", p.mery.as_ref(), false))
            @if !other.is_empty() {
                h3 { "Other parameters" }
                (facts(&other))
            }
        }
    }
}

/// An explainability table in its ranked order: Rank | Region | levels | Mean | Ratio of 1s.
pub(super) fn table(t: &ExplainabilityTable) -> Markup {
    html! {
        table.ranked {
            thead {
                tr {
                    th { "Rank" } th { "Region" }
                    @for m in &t.methods { th { (m) } }
                    th { "Mean" } th { "Ratio of 1s" }
                }
            }
            tbody {
                @for (i, r) in t.rows.iter().enumerate() {
                    tr {
                        td.num { (i + 1) }
                        td { (r.region) }
                        @for m in &t.methods {
                            @match r.levels.get(m) {
                                Some(l) => td class={ "num lv" (l) } { (l) },
                                None => td.num { "–" },
                            }
                        }
                        td.num { (format!("{:.2}", r.mean)) }
                        td.num { (format!("{:.2}", r.ratio_of_ones)) }
                    }
                }
            }
        }
    }
}

pub(super) fn tables_section(a: &Analysis) -> Markup {
    let tables = [
        (
            "Facial regions by importance (Mery & Morris maps)",
            &a.explainability_table,
            "Level 1 = most important … 5 = least, per map (the map's value range cut into five \
             intervals; a region's level is the dominant one of its pixels).",
        ),
        (
            "Facial regions by similarity (X-Maps)",
            &a.xmap_table,
            "Level 1 = most similar … 5 = most dissimilar, per map.",
        ),
    ];
    html! {
        section {
            h2 { "Explainability tables" }
            @if tables.iter().all(|(_, t, _)| t.is_none()) {
                p { "Absent: this analysis has no explainability table." }
            } @else {
                @for (title, t, levels) in tables {
                    h3 { (title) }
                    @match t {
                        Some(t) => {
                            p.note {
                                (levels) " Ranked by lowest Mean first, ties by Ratio of 1s (the \
                                share of maps giving level 1). Left and right are the subject's \
                                own (the subject's left eye is on the image's right)."
                            }
                            (table(t))
                        },
                        None => p { "Absent from this analysis." },
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::TableRow;

    #[test]
    fn table_rows_keep_the_ranked_order_and_print_levels_as_numbers() {
        let row = |region: &str, l: u8| TableRow {
            region: region.into(),
            levels: [("S0-".to_string(), l)].into_iter().collect(),
            mean: l as f64,
            ratio_of_ones: if l == 1 { 1.0 } else { 0.0 },
        };
        let t = ExplainabilityTable {
            methods: vec!["S0-".into(), "S1+".into()],
            rows: vec![row("nose", 1), row("left <eye>", 3)],
        };
        let h = table(&t).into_string();
        let nose = h.find("<td>nose</td>").unwrap();
        let eye = h.find("<td>left &lt;eye&gt;</td>").unwrap();
        assert!(nose < eye);
        assert!(h.contains("<td class=\"num lv1\">1</td><td class=\"num\">–</td>"));
        assert!(h.contains("<td class=\"num\">3.00</td><td class=\"num\">0.00</td>"));
    }
}
