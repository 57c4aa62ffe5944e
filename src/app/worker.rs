//! The one background thread that owns the models and runs every job. The UI
//! sends [`Job`]s and polls [`Event`]s; every event carries the generation id
//! of the job that produced it so stale results can be dropped. The worker
//! wakes the UI with `request_repaint` after each event.

use crate::pipeline::{DetectedImage, FaceAnalysis, Pipeline, load_image};
use crate::progress::{Ctl, Progress};
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
#[derive(Debug)]
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
}

/// What the worker reports back.
#[derive(Debug)]
pub enum Event {
    /// The models are loaded (or failed to load: the message says why and how to fix it).
    ModelsReady(Result<ModelInfo, String>),
    Progress {
        generation: u64,
        progress: Progress,
    },
    /// A slot's image was analysed (or failed, with a message naming the file).
    SlotDone {
        generation: u64,
        slot: Slot,
        result: Result<Arc<FaceAnalysis>, String>,
    },
    /// The job was cancelled; nothing was changed.
    Cancelled {
        generation: u64,
    },
}

/// Facts about the loaded models that the UI shows.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    pub name: String,
    pub sha256: String,
    pub default_threshold: f32,
}

/// The UI's handle on the worker thread.
pub struct Worker {
    jobs: Sender<(u64, Job, Arc<AtomicBool>)>,
    events: Receiver<Event>,
    next_generation: u64,
    /// Cancel flag of the job most recently sent.
    current_cancel: Arc<AtomicBool>,
}

impl Worker {
    /// Start the worker thread; it loads the models at once, off the UI thread.
    /// `wake` is called after every event (the app passes `ctx.request_repaint`).
    pub fn spawn(wake: impl Fn() + Send + Sync + 'static) -> Worker {
        let (job_tx, job_rx) = unbounded::<(u64, Job, Arc<AtomicBool>)>();
        let (ev_tx, ev_rx) = unbounded::<Event>();
        let wake = Arc::new(wake);
        std::thread::Builder::new()
            .name("facexplain-worker".into())
            .spawn(move || worker_main(job_rx, ev_tx, wake))
            .expect("spawning the worker thread");
        Worker {
            jobs: job_tx,
            events: ev_rx,
            next_generation: 1,
            current_cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Send a job; returns its generation id.
    pub fn send(&mut self, job: Job) -> u64 {
        let generation = self.next_generation;
        self.next_generation += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.current_cancel = cancel.clone();
        // The worker thread only stops when this handle is dropped, so the send cannot fail while we hold it.
        let _ = self.jobs.send((generation, job, cancel));
        generation
    }

    /// Ask the most recent job to stop.
    pub fn cancel(&self) {
        self.current_cancel.store(true, Ordering::Relaxed);
    }

    /// Events that arrived since the last call (never blocks).
    pub fn poll(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }
}

fn worker_main(
    jobs: Receiver<(u64, Job, Arc<AtomicBool>)>,
    events: Sender<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    let send = |e: Event| {
        let _ = events.send(e);
        wake();
    };
    let pipeline = match Pipeline::load() {
        Ok(p) => {
            send(Event::ModelsReady(Ok(ModelInfo {
                name: p.model.name.clone(),
                sha256: p.model.sha256.clone(),
                default_threshold: p.default_threshold,
            })));
            Some(p)
        }
        Err(e) => {
            send(Event::ModelsReady(Err(e.to_string())));
            None
        }
    };
    for (generation, job, cancel) in jobs.iter() {
        let slot = match &job {
            Job::LoadImage { slot, .. } | Job::PickFace { slot, .. } => *slot,
        };
        let Some(p) = pipeline.as_ref() else {
            send(Event::SlotDone {
                generation,
                slot,
                result: Err("the models are not loaded".into()),
            });
            continue;
        };
        let progress = |pr: Progress| {
            send(Event::Progress {
                generation,
                progress: pr,
            })
        };
        let ctl = Ctl::new(&progress, &cancel);
        let result = run_job(p, job, ctl);
        if ctl.is_cancelled() {
            send(Event::Cancelled { generation });
        } else {
            send(Event::SlotDone {
                generation,
                slot,
                result: result.map(Arc::new).map_err(|e| e.to_string()),
            });
        }
    }
}

fn run_job(p: &Pipeline, job: Job, ctl: Ctl) -> crate::pipeline::Result<FaceAnalysis> {
    match job {
        Job::LoadImage { path, face, .. } => {
            ctl.report("load", 0, 3);
            let image = load_image(&path)?;
            ctl.check()?;
            ctl.report("detect", 1, 3);
            let detected = p.detect_image(image)?;
            ctl.check()?;
            ctl.report("embed", 2, 3);
            let r = p.analyze(detected, face);
            ctl.report("embed", 3, 3);
            r
        }
        Job::PickFace { detected, face, .. } => p.analyze((*detected).clone(), Some(face)),
    }
}
