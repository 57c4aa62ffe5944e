//! The evaluative paragraph of the report (ENFSI guideline for evaluative
//! reporting): the two propositions, the likelihood ratio with its verbal
//! equivalent, the bounds the calibration data supports, and that data.

use super::{facts, note, num};
use crate::record::Analysis;
use crate::record::evidence::percent_short_of_certain;
use maud::{Markup, html};

/// "Strength of evidence": absent when no calibration with LRs was used.
pub(super) fn evidence_section(a: &Analysis) -> Markup {
    let Some(e) = &a.evidence else {
        return html! {
            section {
                h2 { "Strength of evidence" }
                p { "Absent: no likelihood ratio is recorded (no calibration with likelihood-ratio \
                     data was used), so this report states no strength of evidence." }
            }
        };
    };
    let (g, i) = e.pairs();
    let data: Vec<String> = e
        .data
        .iter()
        .map(|d| {
            format!(
                "{} ({} genuine, {} impostor pairs; SHA-256 {}…)",
                d.name,
                d.genuine_pairs,
                d.impostor_pairs,
                &d.sha256[..d.sha256.len().min(12)]
            )
        })
        .collect();
    let clipped = e.clipped.then(|| {
        format!(
            "The calibrator gave log10 LR {:.2}; that lies outside what the calibration data can \
             support, so the reported LR is bounded at the limit of the data.",
            e.log10_lr_unbounded
        )
    });
    let rows = [
        ("Hp", html! { (e.hp) }),
        ("Hd", html! { (e.hd) }),
        (
            "Likelihood ratio",
            html! {
                (e.lr_text()) " (log10 LR " (format!("{:.2}", e.log10_lr)) ")"
                @if let Some(c) = &clipped { (note(c)) }
            },
        ),
        ("Verbal equivalent", html! { (e.verbal) (note(&e.scale)) }),
        (
            "Bounds",
            html! {
                (e.bounds_text())
                (note("Empirical lower and upper bounds (ELUB, Vergeer et al. 2016): the largest \
                       LRs in either direction that the calibration data can support."))
            },
        ),
        (
            "Posterior at the stated prior",
            html! {
                "P(Hp) = " (num(e.prior_hp)) " gives P(Hp | score) = "
                (percent_short_of_certain(e.posterior_hp))
                (note("The prior is not the examiner's or the court's; it is stated so that the \
                       decision confidence can be read. Other priors: multiply the prior odds by the LR."))
            },
        ),
        (
            "Calibration data",
            html! {
                (data.join("; ")) " — " (e.calibrator) " calibrator, calibration "
                (e.calibration.name)
            },
        ),
    ];
    html! {
        section {
            h2 { "Strength of evidence" }
            p {
                "The similarity of the two faces is " (e.lr_text()) " times more probable if "
                (e.hp) " than if " (e.hd) ". This is " (e.verbal) ". The figure holds only as far \
                 as the calibration data (" (g) " genuine and " (i) " impostor pairs) resembles \
                 the case images in quality, pose, age and demographics."
            }
            (facts(&rows))
        }
    }
}
