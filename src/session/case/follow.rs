//! The open case follows the pair on screen: a draft becomes the record
//! once two images are compared, and a record takes each changed analysis
//! with an audit entry saying what changed (file, face, threshold,
//! calibration, explanation) and its hashes.

use super::CaseBody;
use crate::record::case::{CASE_SCHEMA, machine_decision_text, now_utc};
use crate::record::{Analysis, Case, CaseParameters, Conclusion, InputFile, ModelFile, Software};
use crate::session::Session;
use crate::session::jobs::Slot;
use std::collections::BTreeMap;

/// What changed between the recorded analysis and the one on screen, as an
/// audit action; `None` when nothing the case records changed (an analysis
/// without explanation tables keeps the recorded tables of the same pair).
fn change_of(old: &Analysis, new: &Analysis) -> Option<(&'static str, String)> {
    let image = |a: &Analysis, i: usize| a.images.get(i).map(|r| (r.sha256.clone(), r.face_index));
    for (i, label) in ["A", "B"].iter().enumerate() {
        let (o, n) = (image(old, i), image(new, i));
        if o.as_ref().map(|x| &x.0) != n.as_ref().map(|x| &x.0) {
            let path = new.images.get(i).map_or("", |r| r.path.as_str());
            return Some(("file opened", format!("image {label}: {path}")));
        }
        if o != n {
            let face = n.map_or(0, |x| x.1);
            return Some(("face picked", format!("image {label}: face {face}")));
        }
    }
    if old.threshold != new.threshold || old.threshold_source != new.threshold_source {
        return Some((
            "threshold changed",
            format!(
                "threshold {} ({}) → {} ({})",
                old.threshold, old.threshold_source, new.threshold, new.threshold_source
            ),
        ));
    }
    if old.confidence != new.confidence || old.evidence != new.evidence {
        return Some(("calibration changed", "confidence recomputed".into()));
    }
    let tables = |a: &Analysis| (a.explainability_table.clone(), a.xmap_table.clone());
    let has_tables = new.explainability_table.is_some() || new.xmap_table.is_some();
    if has_tables && tables(old) != tables(new) {
        let maps: Vec<&str> = new.maps.iter().map(|m| m.name.as_str()).collect();
        return Some(("explanation run", format!("maps: {}", maps.join(", "))));
    }
    None
}

impl Session {
    /// Follow the pair on screen: a draft becomes the record once two images
    /// are compared; a record takes each changed analysis and logs why
    /// (called whenever the session refreshes).
    pub(in crate::session) fn sync_case(&mut self) {
        let Some(o) = &self.case.open else {
            return;
        };
        if o.read_only.is_some() {
            return;
        }
        self.pick_wanted_faces();
        let Some(o) = &self.case.open else {
            return;
        };
        let settled = (0..2)
            .all(|i| self.slots[i].pending.is_none() && self.slots[i].loaded >= o.min_loaded[i])
            && o.want_faces.iter().all(Option::is_none);
        if !settled
            || o.seen_analysis == self.analysis_version
            || self.explaining.is_some()
            || self.busy()
        {
            return;
        }
        let version = self.analysis_version;
        let Some(an) = self.current_analysis().cloned() else {
            return;
        };
        let paths: Vec<String> = (self.slots.iter())
            .map(|s| {
                s.path
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            })
            .collect();
        let models = self.case_models();
        let explain = self.explain_methods();
        let threshold = self.settings.threshold_override;
        // The parameters the finished explanation ran with, for its entry.
        let explained_with = (self.primary_explanation())
            .filter(|_| an.explainability_table.is_some() || an.xmap_table.is_some())
            .and_then(|e| serde_json::to_string(&e.params).ok());
        let Some(o) = &mut self.case.open else {
            return;
        };
        o.seen_analysis = version;
        o.commit_notes();
        let now = now_utc();
        let (action, details) = match &o.body {
            CaseBody::Draft(d) => (
                "case created",
                format!(
                    "case started at {}{}; compared {} with {}",
                    d.created,
                    if d.header.blind {
                        " in blind mode (ACE-V)"
                    } else {
                        ""
                    },
                    paths[0],
                    paths[1]
                ),
            ),
            CaseBody::Record(c) => match change_of(&c.analysis, &an) {
                Some((a, d)) => (a, d),
                None => return,
            },
        };
        let details = match &explained_with {
            Some(p) => format!("{details}; explanation parameters: {p}"),
            None => details,
        };
        let inputs: Vec<InputFile> = (an.images.iter().zip(&paths).enumerate())
            .map(|(i, (im, path))| InputFile {
                path: path.clone(),
                sha256: im.sha256.clone(),
                file_size: im.file_size,
                width: im.width,
                height: im.height,
                face_index: im.face_index,
                notes: o.logged_notes[i + 1].clone(),
            })
            .collect();
        let parameters = CaseParameters {
            face_a: Some(inputs[0].face_index),
            face_b: Some(inputs[1].face_index),
            threshold,
            threshold_source: an.threshold_source.clone(),
            calibration_path: None,
            calibration: an.confidence.as_ref().map(|c| c.calibration.clone()),
            quality_thresholds: None,
            explain: if an.explainability_table.is_some() || an.xmap_table.is_some() {
                explain
            } else {
                Vec::new()
            },
        };
        let mut hashes = BTreeMap::new();
        for (label, f) in ["A", "B"].iter().zip(&inputs) {
            hashes.insert(format!("input {label}"), f.sha256.clone());
        }
        for m in &models {
            hashes.insert(format!("model {}", m.id), m.sha256.clone());
        }
        if let Some(c) = &parameters.calibration {
            hashes.insert("calibration".into(), c.sha256.clone());
        }
        let machine = Some(Conclusion {
            text: machine_decision_text(&an),
            time: now.clone(),
        });
        let case = match &mut o.body {
            CaseBody::Draft(d) => {
                let d = d.clone();
                o.body = CaseBody::Record(Box::new(Case {
                    schema: CASE_SCHEMA.into(),
                    case_id: d.header.case_id,
                    title: d.header.title,
                    examiner: d.header.examiner,
                    created: d.created,
                    inputs,
                    parameters,
                    software: Software::default(),
                    models,
                    analysis: an,
                    notes: d.notes,
                    conclusion: None,
                    blind: d.header.blind,
                    machine,
                    machine_shown: (!d.header.blind).then(|| now.clone()),
                    audit: Vec::new(),
                }));
                match &mut o.body {
                    CaseBody::Record(c) => c,
                    CaseBody::Draft(_) => return,
                }
            }
            CaseBody::Record(c) => {
                c.inputs = inputs;
                c.parameters = parameters;
                c.models = models;
                c.analysis = an;
                c.machine = machine;
                if c.machine_shown.is_none() && !(c.blind && c.conclusion.is_none()) {
                    c.machine_shown = Some(now.clone());
                }
                c
            }
        };
        case.log(&now, action, &details, hashes);
        o.changed();
    }

    /// Pick the recorded faces of an opened case once its originals are loaded.
    fn pick_wanted_faces(&mut self) {
        for (i, slot) in Slot::BOTH.into_iter().enumerate() {
            let Some(o) = &self.case.open else {
                return;
            };
            let Some(want) = o.want_faces[i] else {
                continue;
            };
            let s = &self.slots[i];
            if s.pending.is_some() || s.loaded < o.min_loaded[i] {
                continue;
            }
            let chosen = s.analysis.as_ref().map(|a| (a.chosen, a.faces.len()));
            if let Some(o) = &mut self.case.open {
                o.want_faces[i] = None;
            }
            if let Some((c, n)) = chosen
                && c != want
                && want < n
            {
                self.pick_face(slot, want);
                if let (Some(o), Some(g)) = (&mut self.case.open, self.slots[i].pending) {
                    o.min_loaded[i] = g;
                }
            }
        }
    }

    /// The face model the analysis used, by name and SHA-256.
    fn case_models(&self) -> Vec<ModelFile> {
        match &self.models {
            Some(Ok(m)) => vec![ModelFile {
                id: "face".into(),
                file: m.name.clone(),
                sha256: m.sha256.clone(),
            }],
            _ => Vec::new(),
        }
    }

    /// The explanation methods the settings run.
    fn explain_methods(&self) -> Vec<String> {
        let p = &self.settings.params;
        [("xmap", p.xmap.is_some()), ("mery", p.mery.is_some())]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| n.to_string())
            .collect()
    }
}
