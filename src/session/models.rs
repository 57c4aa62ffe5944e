//! Several face recognisers side by side (issue 19): the recognisers enabled
//! beside the analysis's own (kept in the settings), each one's faces of the
//! current pair (aligned and embedded by the worker for that model), their
//! verdicts in the analysis record, and whose maps the viewer shows. The
//! finished maps of the models not shown are kept for the pair, so switching
//! the viewer back to a model is instant.

use super::Session;
use super::jobs::{Job, JobKind, RecogniserInfo};
use super::maps::Maps;
use crate::calibration::assess::judge;
use crate::explain::Explanation;
use crate::pipeline::FaceAnalysis;
use crate::pipeline::embed::cosine;
use crate::record::ModelVerdict;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One other recogniser's faces of a pair.
pub struct OtherFaces {
    /// The slot generations of the pair they belong to.
    pub pair: (u64, u64),
    /// Generation of the job computing them.
    pub pending: Option<u64>,
    /// The two faces aligned and embedded for the model, or why it could not run.
    pub result: Option<Result<[Arc<FaceAnalysis>; 2], String>>,
}

/// The state of the side-by-side comparison.
#[derive(Default)]
pub struct SideBySide {
    /// The other recognisers' faces, by model id.
    pub faces: BTreeMap<String, OtherFaces>,
    /// Whose maps the viewer shows: `None` is the analysis's own model.
    pub shown: Option<String>,
    /// Finished maps of the models not shown now (keyed as `shown`), for the current pair.
    pub kept: BTreeMap<Option<String>, Maps>,
    /// Changes whenever another model's faces arrive (the analysis is rebuilt).
    pub version: u64,
    /// An explanation was asked for before the shown model's faces were ready.
    explain_wanted: bool,
}

/// How far one enabled model is on the current pair.
pub enum ModelRun<'a> {
    Computing,
    Failed(&'a str),
    Done(Box<ModelVerdict>),
}

impl Session {
    /// The recognisers whose verdicts are shown: the analysis's own first,
    /// then those enabled in the settings (known ones only, each once).
    pub fn enabled_models(&self) -> Vec<&RecogniserInfo> {
        let Some(Ok(m)) = &self.models else {
            return Vec::new();
        };
        let mut out: Vec<&RecogniserInfo> = m.recognisers.iter().take(1).collect();
        for id in &self.settings.models {
            if let Some(r) = m.recognisers.iter().find(|r| &r.id == id)
                && !out.iter().any(|o| o.id == r.id)
            {
                out.push(r);
            }
        }
        out
    }

    /// The id of the analysis's own recogniser.
    pub fn primary_model(&self) -> Option<&str> {
        match &self.models {
            Some(Ok(m)) => m.recognisers.first().map(|r| r.id.as_str()),
            _ => None,
        }
    }

    /// Another recogniser's faces of the current pair, once computed.
    pub(super) fn other_faces(&self, id: &str) -> Option<[Arc<FaceAnalysis>; 2]> {
        let key = (self.slots[0].loaded, self.slots[1].loaded);
        match self.side_by_side.faces.get(id)? {
            OtherFaces {
                pair,
                result: Some(Ok(f)),
                ..
            } if *pair == key => Some(f.clone()),
            _ => None,
        }
    }

    /// The short name of recogniser `id` (`None`: the analysis's own), e.g. "MobileFaceNet".
    pub fn model_label(&self, id: Option<&str>) -> String {
        let known = match &self.models {
            Some(Ok(m)) => match id {
                None => m.recognisers.first(),
                Some(id) => m.recognisers.iter().find(|r| r.id == id),
            },
            _ => None,
        };
        match (known, id) {
            (Some(r), _) => r.label().to_string(),
            (None, Some(id)) => id.to_string(),
            (None, None) => "the model".into(),
        }
    }

    /// The faces of the model whose maps the viewer shows (aligned for it).
    pub fn shown_faces(&self) -> Option<[Arc<FaceAnalysis>; 2]> {
        match &self.side_by_side.shown {
            None => self.faces(),
            Some(id) => self.other_faces(id),
        }
    }

    /// The maps of the analysis's own model (shown or kept).
    fn primary_maps(&self) -> Option<&Maps> {
        match &self.side_by_side.shown {
            None => self.explained.as_ref(),
            Some(_) => self.side_by_side.kept.get(&None),
        }
    }

    /// The finished explanation of the analysis's own model, whichever the
    /// viewer shows (the analysis record's tables and map files are its).
    pub fn primary_explanation(&self) -> Option<&Arc<Explanation>> {
        self.primary_maps()?.complete.as_ref()
    }

    /// Version of the analysis's own finished maps (0: none).
    pub(super) fn primary_maps_version(&self) -> u64 {
        self.primary_maps()
            .filter(|m| m.complete.is_some())
            .map_or(0, |m| m.version)
    }

    /// Enable these recognisers beside the analysis's own ([`super::Command::SetModels`]).
    /// A model enabled again after it failed or was cancelled is run again.
    pub(super) fn set_models(&mut self, ids: Vec<String>) {
        let again: Vec<&String> = ids
            .iter()
            .filter(|id| !self.settings.models.contains(id))
            .collect();
        (self.side_by_side.faces)
            .retain(|id, o| !(again.contains(&id) && matches!(o.result, Some(Err(_)))));
        self.settings.models = ids;
    }

    /// Send the jobs the enabled models still need for the current pair; a
    /// shown model that is no longer enabled gives the viewer back to the
    /// analysis's own. Called on every refresh (it sends nothing twice).
    pub(super) fn sync_models(&mut self) {
        if let Some(id) = self.side_by_side.shown.clone()
            && !self.enabled_models().iter().any(|r| r.id == id)
        {
            self.show_model(None);
        }
        if self.busy() {
            return;
        }
        let Some(faces) = self.faces() else {
            return;
        };
        let key = (self.slots[0].loaded, self.slots[1].loaded);
        let wanted: Vec<String> = (self.enabled_models().iter().skip(1))
            .map(|r| r.id.clone())
            .filter(|id| {
                self.side_by_side
                    .faces
                    .get(id)
                    .is_none_or(|o| o.pair != key)
            })
            .collect();
        for model in wanted {
            let generation = self.jobs.send(Job::ModelFaces {
                model: model.clone(),
                faces: faces.clone(),
            });
            self.side_by_side.faces.insert(
                model,
                OtherFaces {
                    pair: key,
                    pending: Some(generation),
                    result: None,
                },
            );
        }
    }

    /// Another model's faces arrived (results of superseded jobs are dropped).
    pub(super) fn model_faces_done(
        &mut self,
        generation: u64,
        result: Result<[Arc<FaceAnalysis>; 2], String>,
    ) {
        let Some((id, o)) =
            (self.side_by_side.faces.iter_mut()).find(|(_, o)| o.pending == Some(generation))
        else {
            return;
        };
        o.pending = None;
        o.result = Some(result);
        let shown_now = self.side_by_side.shown.as_deref() == Some(id.as_str());
        self.side_by_side.version += 1;
        if shown_now && std::mem::take(&mut self.side_by_side.explain_wanted) {
            self.explain();
        }
    }

    /// A model's job was cancelled: said in the header until the model is
    /// enabled again or the pair changes.
    pub(super) fn model_faces_cancelled(&mut self, generation: u64) {
        self.model_faces_done(generation, Err("cancelled".into()));
    }

    /// Show the maps of `model` (`None`: the analysis's own) in the viewer:
    /// the finished maps of the model shown so far are kept; the new one's
    /// kept maps come back at once, otherwise it is explained.
    pub(super) fn show_model(&mut self, model: Option<String>) {
        if model == self.side_by_side.shown {
            return;
        }
        if self.explaining.take().is_some() {
            self.jobs.cancel(&[JobKind::Explain]);
        }
        let before = std::mem::replace(&mut self.side_by_side.shown, model.clone());
        if let Some(done) = self.explained.take().filter(|m| m.complete.is_some()) {
            self.side_by_side.kept.insert(before, done);
        }
        self.side_by_side.explain_wanted = false;
        self.explained = self.side_by_side.kept.remove(&model);
        if self.explained.is_none() && self.faces().is_some() {
            self.explain();
        }
    }

    /// Forget what belongs to the previous pair (its kept maps).
    pub(super) fn side_by_side_new_pair(&mut self) {
        self.side_by_side.kept.clear();
        self.side_by_side.explain_wanted = false;
    }

    /// The faces to explain for the shown model; `None` (and the explanation
    /// is started when they arrive) while they are being computed.
    pub(super) fn faces_to_explain(&mut self) -> Option<[Arc<FaceAnalysis>; 2]> {
        let faces = self.shown_faces();
        self.side_by_side.explain_wanted = faces.is_none() && self.side_by_side.shown.is_some();
        faces
    }

    /// Every enabled model's verdict on the current pair, the analysis's own
    /// (`primary`) first; empty until another model's verdict is in.
    pub(super) fn model_verdicts(&self, primary: ModelVerdict) -> Vec<ModelVerdict> {
        let enabled = self.enabled_models();
        if enabled.len() < 2 {
            return Vec::new();
        }
        let mut out = vec![primary];
        for r in enabled.iter().skip(1) {
            if let Some([a, b]) = self.other_faces(&r.id) {
                out.push(judge(
                    &r.id,
                    r.model.clone(),
                    cosine(&a.embedding, &b.embedding),
                    r.calibration.as_ref().ok(),
                    r.default_threshold,
                    None,
                ));
            }
        }
        if out.len() < 2 {
            out.clear(); // no second opinion yet
        }
        out
    }

    /// Each enabled model with how far it is on the current pair (for the header).
    pub fn model_runs(&self) -> Vec<(&RecogniserInfo, ModelRun<'_>)> {
        let Some(an) = self.current_analysis() else {
            return Vec::new();
        };
        let key = (self.slots[0].loaded, self.slots[1].loaded);
        (self.enabled_models().into_iter().enumerate())
            .map(|(i, r)| {
                let verdict = an.models.iter().find(|v| v.id == r.id);
                let run = match (verdict, self.side_by_side.faces.get(&r.id)) {
                    (Some(v), _) => ModelRun::Done(Box::new(v.clone())),
                    (None, _) if i == 0 => ModelRun::Done(Box::new(ModelVerdict::of(&r.id, an))),
                    (None, Some(o)) if o.pair == key => match &o.result {
                        Some(Err(e)) => ModelRun::Failed(e),
                        _ => ModelRun::Computing,
                    },
                    _ => ModelRun::Computing,
                };
                (r, run)
            })
            .collect()
    }
}
