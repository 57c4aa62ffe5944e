//! The report's presentation: the HTML page as a maud template over the
//! analysis record and what [`super::gather`] read and checked. The CSS is
//! `assets/report/report.css`, embedded. Nothing here reads a file.

mod assessment;
pub mod case;
mod evidence;
mod explanation;
mod faithfulness;
mod models;

use super::gather::{Gathered, Png, file_name};
use super::html::png_data_uri;
use super::{ReportOptions, THUMBNAIL_SIDE};
use crate::record::{Analysis, ImageRecord, face_label};
use assessment::assessment_section;
use evidence::evidence_section;
use explanation::{explanation_section, tables_section};
use faithfulness::faithfulness_section;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;
use std::path::Path;

/// The report's style sheet (screen and print).
const CSS: &str = include_str!("../../../assets/report/report.css");

/// The whole page.
pub fn page(a: &Analysis, g: &Gathered, opts: &ReportOptions) -> Markup {
    let names = a.images.iter().map(|i| file_name(Path::new(&i.path)));
    let names: Vec<String> = names.collect();
    let title = format!("Face comparison report: {} vs {}", names[0], names[1]);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                (header(a, opts))
                @if let Some(r) = &opts.case { (case::case_section(r)) }
                (assessment_section(a))
                (result_section(a))
                (confidence_section(a))
                (evidence_section(a))
                (images_section(a, g))
                (explanation_section(a, g))
                (tables_section(a))
                (faithfulness_section(a))
                (timings_section(a))
                (limits_section(a))
                @if let Some(r) = &opts.case { (case::audit_section(r)) }
            }
        }
    }
}

/// A number exactly as the analysis JSON writes it.
pub(super) fn num<T: Serialize>(v: T) -> String {
    serde_json::to_string(&v).unwrap_or_else(|_| "?".into())
}

/// A probability as its JSON value and a rounded percentage.
pub(super) fn prob(p: f64) -> String {
    format!(
        "{} (≈ {})",
        num(p),
        crate::record::evidence::percent_short_of_certain(p)
    )
}

/// A two-column table of label → value.
pub(super) fn facts(rows: &[(&str, Markup)]) -> Markup {
    html! {
        table.facts {
            @for (label, value) in rows {
                tr { th scope="row" { (label) } td { (value) } }
            }
        }
    }
}

/// Hash or other long token in monospace, so it wraps anywhere.
pub(super) fn code(text: &str) -> Markup {
    html! { code { (text) } }
}

/// A small explanatory note under a value.
pub(super) fn note(text: &str) -> Markup {
    html! { div.note { (text) } }
}

/// An embedded PNG.
fn img(png: &[u8], alt: &str, class: &str) -> Markup {
    html! { img class=(class) alt=(alt) src=(png_data_uri(png)); }
}

/// A crop or map with its caption, file name and SHA-256.
pub(super) fn figure(png: &Png, alt: &str, caption: &str) -> Markup {
    html! {
        figure {
            (img(&png.bytes, alt, "face"))
            figcaption {
                (caption) br; (file_name(&png.path)) br; "SHA-256 " (code(&png.sha256))
            }
        }
    }
}

/// A recorded part as nested tables: objects as tables, strings as they
/// are, the rest as compact JSON.
pub(super) fn params<T: Serialize>(part: &T) -> Markup {
    fn value(v: &serde_json::Value) -> Markup {
        match v {
            serde_json::Value::Object(o) => {
                let rows: Vec<(&str, Markup)> =
                    o.iter().map(|(k, v)| (k.as_str(), value(v))).collect();
                facts(&rows)
            }
            serde_json::Value::String(s) => html! { (s) },
            v => html! { (v.to_string()) },
        }
    }
    match serde_json::to_value(part) {
        Ok(v) => value(&v),
        Err(e) => html! { "cannot show: " (e.to_string()) },
    }
}

fn header(a: &Analysis, opts: &ReportOptions) -> Markup {
    let software = format!(
        "{} {}, offline",
        crate::SOFTWARE_NAME,
        crate::SOFTWARE_VERSION
    );
    let mut rows = vec![
        ("Report made by", html! { (software) }),
        (
            "Analysis made by",
            html! { (a.software.name) " " (a.software.version) },
        ),
        (
            "Report date and time",
            match &opts.timestamp {
                Some(t) => html! { (t) },
                None => html! {
                    "not recorded (made with --no-timestamp, so that the same inputs give the same file)"
                },
            },
        ),
    ];
    if let Some((path, sha)) = &opts.source {
        rows.push(("Analysis file", html! { (path) }));
        rows.push(("Analysis file SHA-256", code(sha)));
    }
    rows.push(("Analysis schema", html! { (a.schema) }));
    html! { section { (facts(&rows)) } }
}

fn result_section(a: &Analysis) -> Markup {
    let relation = if a.similarity >= a.threshold {
        "at or above"
    } else {
        "below"
    };
    let rows = [
        (
            "Decision",
            html! { span.decision { (a.decision.as_str()) } },
        ),
        ("Similarity", html! { b { (num(a.similarity)) } }),
        ("Threshold", html! { (num(a.threshold)) }),
        ("Threshold source", html! { (a.threshold_source) }),
        (
            "Model",
            html! { (a.model.name) br; "SHA-256 " (code(&a.model.sha256)) },
        ),
    ];
    html! {
        section {
            h2 { "Result" }
            (facts(&rows))
            p {
                "The similarity is the cosine similarity of the two faces' embeddings by the model \
                 above (−1 … 1, higher = more alike). It is " (relation) " the threshold, so the \
                 decision is " b { (a.decision.as_str()) } ": a match means the model considers \
                 both photographs to show the same person."
            }
        }
        (models::models_section(a))
    }
}

fn confidence_section(a: &Analysis) -> Markup {
    let Some(c) = &a.confidence else {
        return html! {
            section {
                h2 { "Calibrated confidence" }
                p { "Absent: this analysis records no calibrated confidences (no calibration was used)." }
            }
        };
    };
    let prior = num(c.pic_prior);
    let rows = [
        (
            "C-Score",
            html! {
                (prob(c.c_score))
                (note("Knoche et al. 2022: a sigmoid of the similarity fitted to the calibration \
                       data's genuine and impostor distances; how strongly the score alone points \
                       to the same person."))
            },
        ),
        (
            "PIC-Score",
            html! {
                (prob(c.pic_score)) " with prior " (prior)
                (note(&format!("Neto et al.: the probability that the pair is genuine, from the \
                       likelihood ratio of kernel density estimates of the calibration data's \
                       genuine and impostor scores, given a prior probability of {prior} that a \
                       pair is genuine.")))
            },
        ),
        (
            "Decision confidence",
            html! {
                (prob(c.decision_confidence))
                (note(&match &a.evidence {
                    Some(e) => format!("The probability that this decision ({}) is right, from the \
                       bounded likelihood ratio at the prior P(Hp) = {}: P(Hp | score) for a match, \
                       1 − P(Hp | score) for a non-match.", a.decision, num(e.prior_hp)),
                    None => format!("The probability that this decision ({}) is right: the PIC-Score \
                       for a match, 1 − PIC-Score for a non-match.", a.decision),
                }))
            },
        ),
        (
            "Calibration",
            html! {
                (c.calibration.name) br; "SHA-256 " (code(&c.calibration.sha256))
                (note("The file both confidences and the calibrated threshold come from; they \
                       are only as representative as its data."))
            },
        ),
    ];
    html! { section { h2 { "Calibrated confidence" } (facts(&rows)) } }
}

fn image_facts(rec: &ImageRecord) -> Markup {
    let b = rec.face.bbox;
    let landmarks: Vec<String> = rec
        .face
        .landmarks5
        .iter()
        .map(|p| format!("({}, {})", num(p[0]), num(p[1])))
        .collect();
    let rows = [
        ("File name", html! { (file_name(Path::new(&rec.path))) }),
        ("Path", code(&rec.path)),
        ("SHA-256", code(&rec.sha256)),
        ("File size", html! { (rec.file_size) " bytes" }),
        ("Dimensions", html! { (rec.width) " × " (rec.height) " px" }),
        (
            "Face used",
            html! { "#" (rec.face_index) " of " (rec.faces_found) " found (#0 = largest)" },
        ),
        (
            "Detector box",
            html! {
                "x " (num(b[0])) ", y " (num(b[1])) ", width " (num(b[2])) ", height " (num(b[3])) " (px)"
            },
        ),
        ("Detector score", html! { (num(rec.face.score)) }),
        (
            "Landmarks",
            html! {
                (landmarks.join(" "))
                (note("image-left eye, image-right eye, nose, mouth corners"))
            },
        ),
    ];
    facts(&rows)
}

fn images_section(a: &Analysis, g: &Gathered) -> Markup {
    html! {
        section {
            h2 { "Photographs" }
            div.columns {
                @for (f, rec) in a.images.iter().enumerate() {
                    div {
                        h3 { "Image " (face_label(f)) " (" (if f == 0 { "probe" } else { "reference" }) ")" }
                        (image_facts(rec))
                        @match &g.photos[f] {
                            Ok(png) => figure {
                                (img(png, &format!("Photograph {}", face_label(f)), "thumb"))
                                figcaption {
                                    "The original file (SHA-256 checked), shown at most "
                                    (THUMBNAIL_SIDE) " px; the red box is the face used."
                                }
                            },
                            Err(why) => p.absent { "Photograph not embedded: " (why) "." },
                        }
                    }
                }
            }
        }
    }
}

fn timings_section(a: &Analysis) -> Markup {
    let rows: Vec<(&str, Markup)> = a
        .timings_ms
        .iter()
        .map(|(k, v)| (k.as_str(), html! { (format!("{v:.1} ms")) }))
        .collect();
    html! {
        section {
            h2 { "Timings" }
            @if rows.is_empty() { p { "Absent: no timings recorded." } } @else { (facts(&rows)) }
        }
    }
}

fn limits_section(a: &Analysis) -> Markup {
    let calibration = a.confidence.as_ref().map_or_else(
        || "No calibrated confidences are recorded; the similarity alone is not a probability.".to_string(),
        |c| {
            format!(
                "The confidences and the calibrated threshold come from the calibration {}; they hold \
                 for photographs like its data only (pose, lighting, age, image quality, population). \
                 Treat them as indicative and calibrate on data representative of the case.",
                c.calibration.name
            )
        },
    );
    let items = [
        calibration.as_str(),
        "The decision is the model's, at a threshold with a known error rate on the calibration \
         data only; it is an aid to, not a substitute for, an examiner's comparison.",
        "The maps show where occluding or perturbing the aligned faces changes the model's score: \
         they explain the model, not the identity, and not what a human examiner would look at.",
        "Regions come from MediaPipe FaceMesh landmarks mapped into the aligned crops; left and \
         right are the subject's own. Levels are relative within each map.",
        "The photographs are shown downscaled; the analysis used the original files identified by \
         their SHA-256. The crops and maps embedded here are checked to be valid PNGs of the crop \
         size and to have the SHA-256 the analysis recorded for them (analyses from before hashes \
         were recorded have none); their SHA-256 above identifies what was embedded.",
        "This report reproduces the analysis record and recomputes nothing.",
    ];
    html! {
        section {
            h2 { "Limits" }
            ul { @for item in items { li { (item) } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_the_json_writes_them() {
        assert_eq!(num(0.363_f32), serde_json::to_string(&0.363f32).unwrap());
        assert_eq!(num(0.5f64), "0.5");
        assert_eq!(prob(0.25), "0.25 (≈ 25.0 %)");
        assert_eq!(prob(0.999_999), "0.999999 (≈ 99.9999 %)");
    }

    #[test]
    fn text_and_attributes_are_escaped() {
        let h = facts(&[("a<b", html! { ("<i>") })]).into_string();
        assert!(
            h.contains("<th scope=\"row\">a&lt;b</th><td>&lt;i&gt;</td>"),
            "{h}"
        );
        let i = img(b"x", "\"><script>", "c").into_string();
        assert!(i.contains("alt=\"&quot;&gt;&lt;script&gt;\""), "{i}");
    }
}
