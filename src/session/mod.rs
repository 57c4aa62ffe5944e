//! The app's state with no window: the two image slots, the models' facts,
//! the current analysis record (built once when its inputs change), the
//! explanation and its progress, the chat log and the settings.
//!
//! It changes in two ways only: by a [`Command`] ([`Session::run`]), which
//! panels emit and the app applies in one place, and by a worker [`Event`]
//! ([`Session::apply`]), where results of superseded jobs (older generation
//! ids) are dropped and a failed job leaves the previous result in place.
//! Jobs go to the worker through a [`JobQueue`]. May call: `record`,
//! `pipeline`, `quality`, `calibration`, `explain`, `chat`, `progress`.

pub mod case;
pub mod chat;
mod commands;
mod events;
pub mod explorer;
pub mod jobs;
pub mod maps;
pub mod models;
pub mod settings;
#[cfg(test)]
mod tests;
pub mod whatif;

pub use case::{CaseBook, CaseCommand, CaseHeader};
pub use chat::{ChatLog, Turn};
pub use commands::Command;
pub use explorer::{Explorer, ExplorerCommand, Page};
pub use jobs::{
    Event, Job, JobKind, JobQueue, ModelInfo, Partial, RecogniserInfo, ReportCase, ReportJob, Slot,
};
pub use maps::{MapChoice, Maps, RenderMode};
pub use models::{ModelRun, SideBySide};
pub use settings::{SaliencyFace, Settings, SortColumn, TableKind, ViewSettings};

use crate::calibration::assess::{judge, threshold_for};
use crate::explain::Explanation;
use crate::pipeline::{Comparison, FaceAnalysis, embed::cosine};
use crate::progress::Progress;
use crate::record::{Analysis, FaceQuality, MapRecord};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// What one image slot holds.
#[derive(Default)]
pub struct SlotState {
    /// The file last asked for.
    pub path: Option<PathBuf>,
    /// The last good result (kept when a later load fails).
    pub analysis: Option<Arc<FaceAnalysis>>,
    /// Fitness for comparison of `analysis`'s face, assessed by the same job
    /// (`None`: not assessed; `Err`: why it could not be).
    pub quality: Option<Result<FaceQuality, String>>,
    /// Generation of the job that produced `analysis`.
    pub loaded: u64,
    /// The last problem, shown inline in the slot.
    pub error: Option<String>,
    /// Generation of the job in flight for this slot.
    pub pending: Option<u64>,
}

/// The job in flight whose progress the status bar shows.
pub struct ProgressState {
    pub generation: u64,
    pub progress: Progress,
    pub started: Instant,
    /// When the current stage started (for the ETA).
    pub stage_started: Instant,
}

/// What the current analysis record was built from (rebuilt when it changes).
#[derive(Clone, PartialEq)]
struct AnalysisInputs {
    loaded: (u64, u64),
    threshold_bits: u32,
    threshold_source: String,
    /// Version of the finished explanation's maps (0: none).
    explanation: u64,
    /// The other recognisers enabled, and the version of their results.
    models: (Vec<String>, u64),
}

/// The app's state.
pub struct Session {
    pub slots: [SlotState; 2],
    /// Model facts once loaded, or the reason they could not be.
    pub models: Option<Result<ModelInfo, String>>,
    pub settings: Settings,
    pub progress: Option<ProgressState>,
    /// The slot generations of the pair compared and explained now.
    pub pair_key: Option<(u64, u64)>,
    /// The finished explanation of the current pair.
    pub explained: Option<Maps>,
    /// The explanation being computed: (generation, maps so far).
    pub explaining: Option<(u64, Maps)>,
    pub chat: ChatLog,
    /// The explorer page: a data set's pairs in one table.
    pub explorer: Explorer,
    /// The last failure of a job, shown as a banner until dismissed.
    pub banner: Option<String>,
    /// The last export, for the status bar.
    pub notice: Option<String>,
    /// The last panic the worker caught (cause and job), for the status bar;
    /// cleared when the next job is sent.
    pub fault: Option<String>,
    /// The examiner's case, if one is open ([`case`]).
    pub case: CaseBook,
    /// What-if occlusion: what is hidden and the similarity it gives (issue 16).
    pub whatif: whatif::WhatIf,
    /// Other recognisers beside the analysis's own, and whose maps are shown (issue 19).
    pub side_by_side: SideBySide,
    maps_version: u64,
    /// An image job cancelled the running explanation (resume it if the pair stays).
    resume_explain: bool,
    /// The analysis record of the current pair and what it was built from.
    current: Option<(AnalysisInputs, Analysis)>,
    /// Counts the builds of the analysis record.
    analysis_version: u64,
    jobs: Box<dyn JobQueue>,
}

impl Session {
    /// A session sending its jobs to `jobs`, with saved `settings`.
    pub fn new(jobs: Box<dyn JobQueue>, settings: Settings) -> Session {
        Session {
            slots: Default::default(),
            models: None,
            settings,
            progress: None,
            pair_key: None,
            explained: None,
            explaining: None,
            chat: ChatLog::default(),
            explorer: Explorer::default(),
            banner: None,
            notice: None,
            fault: None,
            case: CaseBook::new(CaseBook::default_recovery_dir()),
            whatif: whatif::WhatIf::default(),
            side_by_side: SideBySide::default(),
            maps_version: 0,
            resume_explain: false,
            current: None,
            analysis_version: 0,
            jobs,
        }
    }

    /// Let the worker start (after the first frame).
    pub fn start(&mut self) {
        self.jobs.start();
    }

    /// Unfinished jobs.
    pub fn in_flight(&self) -> usize {
        self.jobs.in_flight()
    }

    /// Whether an image job is still running.
    pub fn busy(&self) -> bool {
        self.slots.iter().any(|s| s.pending.is_some())
    }

    /// Whether an explanation is being computed.
    pub fn explaining(&self) -> bool {
        self.explaining.is_some()
    }

    /// The threshold in force and where it comes from (as `compare` decides it).
    pub fn threshold(&self) -> Option<(f32, String)> {
        if let Some(t) = self.settings.threshold_override {
            return Some((t, "user override".into()));
        }
        match &self.models {
            Some(Ok(m)) => Some(threshold_for(
                m.calibration.as_ref().ok(),
                m.default_threshold,
                None,
            )),
            _ => None,
        }
    }

    /// Both slots' faces, when both are analysed.
    pub fn faces(&self) -> Option<[Arc<FaceAnalysis>; 2]> {
        Some([
            self.slots[0].analysis.clone()?,
            self.slots[1].analysis.clone()?,
        ])
    }

    /// The comparison of the two slots' faces, when both are analysed.
    pub fn comparison(&self) -> Option<Comparison> {
        let [a, b] = self.faces()?;
        let (t, _) = self.threshold()?;
        Some(Comparison::new(cosine(&a.embedding, &b.embedding), t))
    }

    /// The finished explanation of the current pair.
    pub fn explanation(&self) -> Option<&Arc<Explanation>> {
        self.explained.as_ref()?.complete.as_ref()
    }

    /// The maps the viewer shows: those of the running explanation once it
    /// has produced any map, else the finished ones, else the regions so far.
    pub fn shown_maps(&self) -> Option<&Maps> {
        match (&self.explaining, &self.explained) {
            (Some((_, m)), _) if m.xmaps.is_some() || m.mery.is_some() => Some(m),
            (_, Some(done)) => Some(done),
            (Some((_, m)), None) => Some(m),
            (None, None) => None,
        }
    }

    /// The analysis record of the current pair (a copy; see [`Self::current_analysis`]).
    pub fn analysis(&self) -> Option<Analysis> {
        self.current_analysis().cloned()
    }

    /// The analysis record of the current pair, built as `facexplain compare`
    /// builds it (threshold, calibrated confidence, tables of a finished
    /// explanation; map records without files — [`Self::export_analysis`]
    /// writes them). Built once when its inputs change ([`Self::refresh`]).
    pub fn current_analysis(&self) -> Option<&Analysis> {
        self.current.as_ref().map(|(_, a)| a)
    }

    /// How many times the analysis record has been built (changes exactly when it does).
    pub fn analysis_version(&self) -> u64 {
        self.analysis_version
    }

    fn analysis_inputs(&self) -> Option<AnalysisInputs> {
        self.faces()?;
        let Some(Ok(_)) = &self.models else {
            return None;
        };
        let (t, source) = self.threshold()?;
        Some(AnalysisInputs {
            loaded: (self.slots[0].loaded, self.slots[1].loaded),
            threshold_bits: t.to_bits(),
            threshold_source: source,
            explanation: self.primary_maps_version(),
            models: (
                (self.enabled_models().iter().skip(1))
                    .map(|r| r.id.clone())
                    .collect(),
                self.side_by_side.version,
            ),
        })
    }

    /// Rebuild the analysis record if what it is built from has changed
    /// (after every command and event, and once a frame for settings edited in place).
    pub fn refresh(&mut self) {
        self.sync_models();
        self.sync_what_if();
        let inputs = self.analysis_inputs();
        if self.current.as_ref().map(|(k, _)| k) != inputs.as_ref() {
            self.current = inputs.and_then(|k| Some((k, self.build_analysis()?)));
            self.analysis_version += 1;
        }
        self.sync_case();
    }

    fn build_analysis(&self) -> Option<Analysis> {
        let [a, b] = self.faces()?;
        let Some(Ok(m)) = &self.models else {
            return None;
        };
        let own = judge(
            self.primary_model().unwrap_or_default(),
            crate::record::ModelRef {
                name: m.name.clone(),
                sha256: m.sha256.clone(),
            },
            cosine(&a.embedding, &b.embedding),
            m.calibration.as_ref().ok(),
            m.default_threshold,
            self.settings.threshold_override,
        );
        let models = self.model_verdicts(own.clone());
        let mut an = Analysis::of_verdict(own, &a, &b);
        an.models = models;
        for (image, slot) in an.images.iter_mut().zip(&self.slots) {
            image.quality = slot.quality.as_ref().and_then(|q| q.as_ref().ok()).cloned();
        }
        if let Some(ex) = self.primary_explanation() {
            an.explainability_table = ex.mery_table.clone();
            an.xmap_table = ex.xmap_table.clone();
            let names = ex
                .xmaps
                .iter()
                .flat_map(|x| x.maps.iter().map(|m| (m.name(), m.face)))
                .chain(
                    ex.mery
                        .iter()
                        .flat_map(|s| s.maps.iter().map(|m| (m.name(), m.face))),
                );
            an.maps = names
                .map(|(name, image)| MapRecord {
                    name: name.into(),
                    image,
                    files: Default::default(),
                    sha256: Default::default(),
                })
                .collect();
            an.timings_ms.insert("xmap".into(), ex.xmap_stats.total_ms);
            an.timings_ms.insert("mery".into(), ex.mery_stats.total_ms);
            an.timings_ms.insert("regions".into(), ex.regions_ms);
            crate::explain::output::record_checks(ex, &mut an);
            if let Some(g) = &ex.greedy {
                an.maps.extend(g.maps.iter().map(|m| MapRecord {
                    name: m.name().into(),
                    image: m.face,
                    files: Default::default(),
                    sha256: Default::default(),
                }));
            }
        }
        Some(an)
    }

    fn next_version(&mut self) -> u64 {
        self.maps_version += 1;
        self.maps_version
    }
}
