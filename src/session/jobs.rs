//! The jobs the session hands to the background worker and the events the
//! worker sends back. Every job gets a generation id when it is sent; every
//! event carries the id of the job that produced it, so the session drops
//! stale results. [`JobQueue`] is the session's handle on the worker
//! (`app::worker::Worker` is the real one).

use crate::calibration::Calibration;
use crate::chat::Answer;
use crate::explain::mery::MerySet;
use crate::explain::regions::RegionMasks;
use crate::explain::xmap::XMapSet;
use crate::explain::{ExplainParams, Explanation};
use crate::pipeline::{DetectedImage, FaceAnalysis, ModelRef, Pipeline, Recogniser};
use crate::progress::Progress;
use crate::record::{Analysis, FaceQuality};
use std::path::PathBuf;
use std::sync::Arc;

/// Which image slot a job is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Slot {
    Probe,
    Reference,
}

impl Slot {
    pub const BOTH: [Slot; 2] = [Slot::Probe, Slot::Reference];
    pub fn index(self) -> usize {
        match self {
            Slot::Probe => 0,
            Slot::Reference => 1,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Slot::Probe => "Probe",
            Slot::Reference => "Reference",
        }
    }
}

/// Work for the worker thread.
pub enum Job {
    /// Load an image file, detect its faces, align and embed face `face` (default: largest).
    LoadImage {
        slot: Slot,
        path: PathBuf,
        face: Option<usize>,
    },
    /// Re-align and embed another face of an already detected image.
    PickFace {
        slot: Slot,
        detected: Arc<DetectedImage>,
        face: usize,
    },
    /// Explain the comparison of two analysed faces (maps arrive progressively).
    Explain {
        faces: [Arc<FaceAnalysis>; 2],
        params: Box<ExplainParams>,
        /// The recogniser whose maps these are (`None`: the analysis's own);
        /// `faces` are aligned and embedded for it.
        model: Option<String>,
    },
    /// Align and embed the pair's chosen faces (detected already) for
    /// another recogniser, to show its verdict beside the analysis's own.
    ModelFaces {
        model: String,
        faces: [Arc<FaceAnalysis>; 2],
    },
    /// Answer a question about an analysis with the chat engine.
    Ask {
        analysis: Box<Analysis>,
        question: String,
        /// Forget the conversation before this question (the chat was started over).
        start_over: bool,
    },
    /// The pair's similarity with the masked areas filled (one forward pass;
    /// answered between the batches of a running explanation).
    WhatIf {
        faces: [Arc<FaceAnalysis>; 2],
        masks: Box<[Option<ndarray::Array2<bool>>; 2]>,
        fill: crate::explain::whatif::Fill,
        /// The recogniser that measures it (`None`: the analysis's own);
        /// `faces` and `masks` are on its crops.
        model: Option<String>,
    },
    /// Write the HTML report of the analysis on screen (File → Export report…).
    ExportReport(Box<ReportJob>),
    /// Open a data set in the explorer: embed its images (cached), score its
    /// pairs; rows stream back as they are scored.
    Explore {
        dataset: PathBuf,
        pairs: Option<PathBuf>,
        max_impostors: usize,
        seed: u64,
    },
}

/// The kind of a job, for cancelling a group of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Image,
    Explain,
    Ask,
    WhatIf,
    Explore,
    /// Another recogniser's faces of the pair ([`Job::ModelFaces`]).
    Models,
    Export,
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Job::LoadImage { .. } | Job::PickFace { .. } => JobKind::Image,
            Job::Explain { .. } => JobKind::Explain,
            Job::Ask { .. } => JobKind::Ask,
            Job::WhatIf { .. } => JobKind::WhatIf,
            Job::Explore { .. } => JobKind::Explore,
            Job::ModelFaces { .. } => JobKind::Models,
            Job::ExportReport(_) => JobKind::Export,
        }
    }
}

/// What the worker needs to write a report: `facexplain report`'s input,
/// made from what the app shows.
pub struct ReportJob {
    /// The HTML file to write.
    pub path: PathBuf,
    /// The analysis as the app shows it (its map records have no files yet).
    pub analysis: Analysis,
    /// The finished explanation (drawn with the colormaps in use) and its
    /// faces: its crops and maps are written into `explain-<A>-<B>/` beside
    /// the report first, as `compare --explain` writes them.
    pub explanation: Option<ExplainedPair>,
    /// The open case, for the report's case sections.
    pub case: Option<ReportCase>,
    /// The report's date and time as printed.
    pub timestamp: Option<String>,
}

/// A finished explanation (drawn with the colormaps in use) and its two faces.
pub type ExplainedPair = (Explanation, [Arc<FaceAnalysis>; 2]);

/// The case a report is made for, as it stands in the app.
pub struct ReportCase {
    pub case: crate::record::Case,
    /// The case file as the report names it and the SHA-256 of its content.
    pub source: (String, String),
}

/// A result an explanation hands out before it is complete.
pub enum Partial {
    Regions(Box<[RegionMasks; 2]>),
    XMaps(Box<XMapSet>),
    Mery(Box<MerySet>),
    Greedy(Box<crate::explain::greedy::GreedySet>),
    Faithfulness(Box<crate::record::FaithfulnessRecord>),
}

/// What the worker reports back.
pub enum Event {
    /// The models are loaded (or failed to load: the message says why and how to fix it).
    ModelsReady(Result<Box<ModelInfo>, String>),
    Progress {
        generation: u64,
        progress: Progress,
    },
    /// A slot's image was analysed (or failed, with a message naming the file).
    SlotDone {
        generation: u64,
        slot: Slot,
        result: Result<Arc<FaceAnalysis>, String>,
        /// The face's fitness for comparison, assessed in the same job
        /// (`None`: not assessed; `Err`: why it could not be).
        quality: Option<Result<FaceQuality, String>>,
    },
    /// Part of an explanation is ready (coarse X-Maps first).
    ExplainPartial {
        generation: u64,
        part: Partial,
    },
    /// An explanation finished or failed.
    Explained {
        generation: u64,
        result: Result<Arc<Explanation>, String>,
    },
    /// The chat engine answered (or could not).
    Answered {
        generation: u64,
        result: Result<Answer, String>,
    },
    /// A what-if similarity (or why it could not be measured).
    WhatIfDone {
        generation: u64,
        result: Result<f32, String>,
    },
    /// The report is written: its file and the SHA-256 of its bytes (or why not).
    ReportExported {
        generation: u64,
        result: Result<(PathBuf, String), String>,
    },
    /// Rows of the data set being explored, as their images are embedded.
    ExploreRows {
        generation: u64,
        rows: Vec<crate::explore::Row>,
    },
    /// The data set's table is complete (or could not be made).
    Explored {
        generation: u64,
        result: Result<Box<crate::explore::Table>, String>,
    },
    /// Another recogniser's faces of the pair (or why it could not run).
    ModelFaces {
        generation: u64,
        result: Result<[Arc<FaceAnalysis>; 2], String>,
    },
    /// The job was cancelled; nothing was changed.
    Cancelled {
        generation: u64,
    },
    /// A job panicked (a bug or a fault in a model call or map computation);
    /// the worker caught it, sent the job's failure event and carries on.
    /// `what` is the job ("explaining", …), `cause` the panic message.
    Panicked {
        what: String,
        cause: String,
    },
}

/// Facts about the loaded models that the UI shows.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    pub name: String,
    pub sha256: String,
    pub default_threshold: f32,
    /// The built-in calibration for this model, or why there is none.
    pub calibration: Result<Calibration, String>,
    /// (id, name, licence, source package) of every model in the manifest.
    pub licences: Vec<[String; 4]>,
    /// Every face recogniser that can be enabled (shipped, then the user's),
    /// the loaded one first.
    pub recognisers: Vec<RecogniserInfo>,
    /// Why the user's recognisers could not be listed, if they could not.
    pub user_models_error: Option<String>,
}

/// What the app knows of one face recogniser before it is run.
#[derive(Clone, Debug)]
pub struct RecogniserInfo {
    /// The name it is chosen by (`sface`, `mobilefacenet`, a user model's name).
    pub id: String,
    pub model: ModelRef,
    pub default_threshold: f32,
    /// Its calibration, or why there is none.
    pub calibration: Result<Calibration, String>,
    /// Added by the user (`facexplain models add`).
    pub user: bool,
}

impl RecogniserInfo {
    pub fn of(r: &Recogniser) -> RecogniserInfo {
        let model = r.model_ref();
        RecogniserInfo {
            id: r.id().to_string(),
            calibration: Calibration::default_for(&model).map_err(|e| e.to_string()),
            model,
            default_threshold: r.default_threshold(),
            user: r.user,
        }
    }

    /// The short name people know it by ("SFace", "MobileFaceNet").
    pub fn label(&self) -> &str {
        crate::record::verdicts::short_name(&self.model.name).unwrap_or(&self.id)
    }
}

impl ModelInfo {
    /// The facts the UI shows about a loaded pipeline.
    pub fn of(p: &Pipeline) -> ModelInfo {
        let (all, user_models_error) = match Recogniser::all_with(&p.store, None) {
            Ok(all) => (all, None),
            Err(e) => (
                Recogniser::all_in(&p.store, false).unwrap_or_default(),
                Some(e.to_string()),
            ),
        };
        let primary = RecogniserInfo::of(&p.recogniser);
        let recognisers: Vec<RecogniserInfo> = std::iter::once(primary.clone())
            .chain(
                all.iter()
                    .filter(|r| r.id() != primary.id)
                    .map(RecogniserInfo::of),
            )
            .collect();
        ModelInfo {
            recognisers,
            user_models_error,
            name: p.model.name.clone(),
            sha256: p.model.sha256.clone(),
            default_threshold: p.default_threshold,
            calibration: primary.calibration.clone(),
            licences: p
                .store
                .manifest
                .models
                .iter()
                .map(|m| {
                    [
                        m.id.clone(),
                        m.name.clone(),
                        m.licence.clone(),
                        m.source.package.clone(),
                    ]
                })
                .collect(),
        }
    }
}

/// Where the session sends jobs and from where it takes the worker's events.
pub trait JobQueue {
    /// Let the worker load the models and run the queued jobs (called once
    /// the first frame is drawn; later calls do nothing).
    fn start(&mut self);
    /// Queue a job; returns its generation id (increasing).
    fn send(&mut self, job: Job) -> u64;
    /// Ask every unfinished job of these kinds to stop.
    fn cancel(&self, kinds: &[JobKind]);
    /// Unfinished jobs (sent, no final event seen yet).
    fn in_flight(&self) -> usize;
    /// Events that arrived since the last call (never blocks).
    fn poll(&mut self) -> Vec<Event>;
}
