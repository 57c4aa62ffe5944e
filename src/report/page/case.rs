//! The report's case sections (issue 15), when the report is made for a case
//! file: the case header, the examiner's notes, the examiner's conclusion
//! beside the machine's decision with their times (and, in blind mode, when
//! the machine's result was first shown), and the audit trail with its
//! digest, length and verification status.

use super::{code, facts, note};
use crate::record::{Case, OpenedCase};
use maud::{Markup, html};

/// A case the report is made for.
#[derive(Clone, Debug)]
pub struct CaseReport {
    /// The case as read, with the first break of its audit trail if any.
    pub opened: OpenedCase,
    /// The case file: path as given and SHA-256 of its bytes.
    pub source: (String, String),
    /// Maps the case lists but whose files were never written (computed in
    /// the app and not exported): left out of the report.
    pub maps_not_exported: usize,
}

fn or_none(text: &str) -> Markup {
    if text.trim().is_empty() {
        html! { em { "none" } }
    } else {
        html! { div style="white-space: pre-wrap" { (text) } }
    }
}

/// Case header, notes and the two conclusions.
pub(super) fn case_section(r: &CaseReport) -> Markup {
    let c = &r.opened.case;
    let mode = if c.blind {
        "blind (ACE-V): the machine's result was hidden from the examiner until the \
         examiner's conclusion was recorded"
    } else {
        "open: the machine's result was shown as it was computed"
    };
    let header = [
        ("Case id", html! { (c.case_id) }),
        ("Title", or_none(&c.title)),
        ("Examiner", or_none(&c.examiner)),
        ("Case created (UTC)", html! { (c.created) }),
        ("Mode", html! { (mode) }),
        ("Case file", html! { (r.source.0) }),
        ("Case file SHA-256", code(&r.source.1)),
    ];
    let labels = ["A", "B"];
    let notes: Vec<(String, Markup)> = std::iter::once(("Case".to_string(), or_none(&c.notes)))
        .chain(c.inputs.iter().zip(labels).map(|(f, l)| {
            (
                format!("Image {l} ({})", file_name(&f.path)),
                or_none(&f.notes),
            )
        }))
        .collect();
    let notes: Vec<(&str, Markup)> = notes.iter().map(|(l, m)| (l.as_str(), m.clone())).collect();
    html! {
        section {
            h2 { "Case" }
            (facts(&header))
            h3 { "Examiner's notes" }
            (facts(&notes))
            h3 { "Conclusions" }
            (conclusions(c))
            @if r.maps_not_exported > 0 {
                (note(&format!(
                    "{} map(s) the case lists were computed in the app and never written to files; \
                     they are not shown here (the case records their tables).",
                    r.maps_not_exported
                )))
            }
        }
    }
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or(path.to_string(), |n| n.to_string_lossy().into_owned())
}

fn conclusions(c: &Case) -> Markup {
    let examiner = match &c.conclusion {
        Some(k) => html! { (k.text) br; span.note { "recorded " (k.time) } },
        None => html! { em { "not recorded" } },
    };
    let machine = match &c.machine {
        Some(m) => html! { (m.text) br; span.note { "recorded " (m.time) } },
        None => html! { (c.analysis.decision.as_str()) " (time not recorded)" },
    };
    let shown = match (&c.machine_shown, c.blind) {
        (Some(t), _) => html! { (t) },
        (None, true) => html! { em { "never: the examiner's conclusion is not recorded" } },
        (None, false) => html! { em { "not recorded (the case was made from the command line)" } },
    };
    let rows = [
        ("Examiner's conclusion", examiner),
        ("Machine's decision", machine),
        ("Machine's result first shown to the examiner (UTC)", shown),
    ];
    facts(&rows)
}

/// The audit trail: status, length, digest and every entry.
pub(super) fn audit_section(r: &CaseReport) -> Markup {
    let c = &r.opened.case;
    let status = match &r.opened.broken {
        None => html! {
            strong { "intact" } ": every entry's SHA-256 matches its content, each chains to the \
            one before it, and the last seals the case content"
        },
        Some(b) => html! { strong { "BROKEN" } ": " (b.to_string()) },
    };
    let digest = c
        .audit
        .last()
        .map_or(html! { em { "empty" } }, |e| code(&e.hash));
    let rows = [
        ("Verification", status),
        ("Entries", html! { (c.audit.len()) }),
        ("Digest (SHA-256 of the last entry)", digest),
    ];
    html! {
        section {
            h2 { "Audit trail" }
            (facts(&rows))
            table.facts {
                tr { th { "#" } th { "Time (UTC)" } th { "Action" } th { "Details" } th { "Software" } }
                @for e in &c.audit {
                    tr {
                        td { (e.seq) }
                        td { (e.time) }
                        td { (e.action) }
                        td { (e.details) }
                        td { (e.software) }
                    }
                }
            }
            (note("Each entry holds the SHA-256 of its own content and of the entry before it; \
                   `facexplain case verify` re-checks the chain and re-runs the analysis from the originals."))
        }
    }
}
