//! The values answer templates name (`{similarity}`, `{top_region}`, …), read
//! from the analysis record and formatted by the one function per quantity in
//! [`super::context`]; nothing is recomputed. A value the analysis lacks is
//! absent, and the template that needs it is refused with its `missing` sentence.

use super::context::{
    fmt_mean, fmt_percent, fmt_ratio, fmt_similarity, fmt_threshold, levels_text, method_text,
};
use super::slots::Slots;
use crate::record::{Analysis, Decision, ExplainabilityTable};
use std::collections::BTreeMap;

/// Named values of one analysis (and, for per-slot templates, one slot value).
pub type Values = BTreeMap<String, String>;

/// The values every template may use.
pub fn of(a: &Analysis) -> Values {
    let mut v = Values::new();
    v.insert("decision".into(), a.decision.to_string());
    v.insert(
        "decision_meaning".into(),
        match a.decision {
            Decision::Match => "the system judges that the two faces belong to the same person",
            Decision::NonMatch => "the system judges that the two faces belong to different people",
        }
        .into(),
    );
    v.insert("similarity".into(), fmt_similarity(a.similarity));
    v.insert("threshold".into(), fmt_threshold(a.threshold));
    v.insert("threshold_source".into(), a.threshold_source.clone());
    v.insert(
        "relation".into(),
        match a.decision {
            Decision::Match => "at or above",
            Decision::NonMatch => "below",
        }
        .into(),
    );
    v.insert("model".into(), a.model.name.clone());
    if let Some(text) = models_agreement(a) {
        v.insert("models_agreement".into(), text);
    }
    v.insert("model_sha256".into(), a.model.sha256.clone());
    v.insert(
        "calibration_or_none".into(),
        a.confidence.as_ref().map_or_else(
            || "none was applied".to_string(),
            |c| c.calibration.name.clone(),
        ),
    );
    if let Some(c) = &a.confidence {
        v.insert(
            "decision_confidence".into(),
            fmt_percent(c.decision_confidence),
        );
        v.insert("c_score".into(), fmt_percent(c.c_score));
        v.insert("pic_score".into(), fmt_percent(c.pic_score));
        v.insert("pic_prior".into(), format!("{}", c.pic_prior));
        v.insert("calibration".into(), c.calibration.name.clone());
    }
    if let Some(e) = &a.evidence {
        v.insert("lr".into(), e.lr_text());
        v.insert("prosecution".into(), e.hp.clone());
        v.insert("defence".into(), e.hd.clone());
        v.insert("lr_verbal".into(), e.verbal.clone());
        let clipped = if e.clipped {
            ", bounded by what the calibration data supports"
        } else {
            ""
        };
        v.insert(
            "lr_bounds".into(),
            format!(
                " (bounds {} from calibration {}{clipped})",
                e.bounds_text(),
                e.calibration.name
            ),
        );
    }
    v.insert("region_summary".into(), String::new());
    if let Some(t) = &a.explainability_table {
        table_values(&mut v, t, "");
        if let (Some(first), Some(last)) = (t.rows.first(), t.rows.last()) {
            v.insert(
                "region_summary".into(),
                format!(
                    " The region that mattered most was the {}, the one that mattered least the {}.",
                    first.region, last.region
                ),
            );
        }
        v.insert("table_methods".into(), t.methods.join(", "));
    }
    if let Some(t) = &a.xmap_table {
        table_values(&mut v, t, "xmap_");
    }
    v.insert("map_methods".into(), map_methods(a));
    if let Some(t) = faithfulness_text(a) {
        v.insert("faithfulness_text".into(), t);
    }
    v
}

/// The recorded faithfulness test and method agreement in sentences
/// (absent when the analysis records neither).
pub fn faithfulness_text(a: &Analysis) -> Option<String> {
    let p = &a.parameters;
    if p.faithfulness.is_none() && p.disagreements.is_none() {
        return None;
    }
    let mut out = Vec::new();
    match &p.faithfulness {
        Some(f) => {
            let ratios: Vec<String> = f
                .maps
                .iter()
                .filter_map(|m| {
                    m.deletion_ratio
                        .map(|r| format!("{} (face {}) {}", m.name, m.face, fmt_times(r)))
                })
                .collect();
            if ratios.is_empty() {
                out.push("A deletion test was run, but the pair's similarity was too low for its ratios to mean anything.".to_string());
            } else {
                out.push(format!(
                    "Deletion test (pixels blacked out in each map's order, against random 8×8 tiles; below 1× is better than chance, lower is more faithful): {}.",
                    ratios.join(", ")
                ));
            }
            if let Some(best) = f.most_faithful() {
                out.push(format!(
                    "The most faithful map here is {} of face {} ({}).",
                    best.name,
                    best.face,
                    best.deletion_ratio.map_or(String::new(), fmt_times)
                ));
            }
            out.push("Deleted pixels are unlike anything the model was trained on, so the test is a guide, not proof.".into());
        }
        None => out.push("No deletion test was run on these maps.".into()),
    }
    if let Some(d) = &p.disagreements {
        out.push(crate::record::agreement_summary(d));
        out.extend(d.iter().take(3).map(|x| x.sentence.clone()));
    }
    Some(out.join(" "))
}

/// A ratio as "0.45×".
fn fmt_times(r: f64) -> String {
    format!("{r:.2}×")
}

/// Rank-1 and last-rank values of a table, prefixed (`top_region`, `xmap_top_region`, …).
fn table_values(v: &mut Values, t: &ExplainabilityTable, prefix: &str) {
    let key = |k: &str| format!("{prefix}{k}");
    v.insert(key("regions"), t.rows.len().to_string());
    for (label, row) in [("top", t.rows.first()), ("last", t.rows.last())] {
        if let Some(r) = row {
            v.insert(key(&format!("{label}_region")), r.region.clone());
            v.insert(key(&format!("{label}_mean")), fmt_mean(r.mean));
            v.insert(key(&format!("{label}_ratio")), fmt_ratio(r.ratio_of_ones));
        }
    }
}

/// The maps the analysis has, or the methods the app can run when it has none.
fn map_methods(a: &Analysis) -> String {
    let mut names: Vec<String> = Vec::new();
    for m in &a.maps {
        if !names.contains(&m.name) {
            names.push(m.name.clone());
        }
    }
    if names.is_empty() {
        "S0−, S1−, S0+, S1+, their average AVG, and the X-Maps".into()
    } else {
        names.join(", ")
    }
}

/// The values of one slot value: a region's row (saliency and X-Map tables),
/// a method's definition, a face's image.
pub fn of_slot(a: &Analysis, v: &mut Values, slot: &SlotValue) {
    match slot {
        SlotValue::Region(name) => {
            v.insert("region".into(), name.clone());
            for (t, prefix) in [(&a.explainability_table, ""), (&a.xmap_table, "xmap_")] {
                let Some(t) = t else { continue };
                let key = |k: &str| format!("{prefix}region_{k}");
                if let Some((i, row)) = t.rows.iter().enumerate().find(|(_, r)| &r.region == name) {
                    v.insert(key("rank"), (i + 1).to_string());
                    v.insert(key("levels"), levels_text(t, row));
                    v.insert(key("mean"), fmt_mean(row.mean));
                    v.insert(key("ratio"), fmt_ratio(row.ratio_of_ones));
                }
            }
        }
        SlotValue::Method(name) => {
            if let Some(t) = method_text(name) {
                v.insert("method_text".into(), t);
            }
        }
        SlotValue::Face(i) => {
            v.insert("face".into(), super::intents::FACES[*i].to_string());
            if let Some(img) = a.images.get(*i) {
                v.insert("face_path".into(), img.path.clone());
                v.insert("face_index_1".into(), (img.face_index + 1).to_string());
                v.insert("faces_found".into(), img.faces_found.to_string());
                v.insert("face_width".into(), img.width.to_string());
                v.insert("face_height".into(), img.height.to_string());
                if let Some(q) = &img.quality {
                    v.insert(
                        "quality_text".into(),
                        quality_text(super::intents::FACES[*i], q),
                    );
                }
            }
        }
    }
}

/// One value of a slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotValue {
    Region(String),
    Method(String),
    Face(usize),
}

/// The slot values a per-slot template is rendered for: those named, else
/// (faces) both, else (regions, methods) none.
pub fn slot_values(per: super::intents::Per, s: &Slots) -> Vec<SlotValue> {
    use super::intents::Per;
    match per {
        Per::Region => s.regions.iter().cloned().map(SlotValue::Region).collect(),
        Per::Method => s.methods.iter().cloned().map(SlotValue::Method).collect(),
        Per::Face if s.faces.is_empty() => vec![SlotValue::Face(0), SlotValue::Face(1)],
        Per::Face => s.faces.iter().copied().map(SlotValue::Face).collect(),
    }
}

/// "Face B is unfit for comparison: reason; reason." from the face's quality record.
fn quality_text(face: &str, q: &crate::record::quality::FaceQuality) -> String {
    let why = if q.reasons.is_empty() {
        " (no quality problem found)".to_string()
    } else {
        format!(": {}", q.reasons.join("; "))
    };
    format!(
        "Face {face} is {} for comparison{why} (image-quality assessment, thresholds {}).",
        q.verdict, q.thresholds
    )
}

/// Whether the recognisers run on the pair agree, in words, with each one's
/// similarity and threshold (`None` when fewer than two were run).
fn models_agreement(a: &Analysis) -> Option<String> {
    if a.models.len() < 2 {
        return None;
    }
    let each = a
        .models
        .iter()
        .map(|m| {
            format!(
                "{}: {} (similarity {}, threshold {})",
                m.id,
                m.decision,
                fmt_similarity(m.similarity),
                fmt_threshold(m.threshold)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Some(match crate::record::disagreement(&a.models) {
        None => format!(
            "Yes: all {} models decide {} ({each}).",
            a.models.len(),
            a.models[0].decision
        ),
        Some(_) => format!(
            "No, the models disagree ({each}): the pair is hard to call, so weigh it with care and look at the images yourself."
        ),
    })
}
