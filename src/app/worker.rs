//! The one background thread that owns the models and runs every job. The UI
//! sends [`Job`]s and polls [`Event`]s; every event carries the generation id
//! of the job that produced it so stale results can be dropped. Each job has
//! its own cancel flag. The worker wakes the UI with `request_repaint` after
//! each event. Models load lazily: the pipeline once the UI has drawn its
//! first frame ([`Worker::start`]), FaceMesh with the first explanation, the
//! chat engine with the first question.
//!
//! The worker runs at a lower scheduling priority ([`WORKER_NICE`]): the
//! threads ONNX Runtime and the chat engine start from it inherit it, so the
//! UI thread and the software rasteriser's threads win the CPU when they need
//! it, and the model still gets every idle cycle.

use crate::calibration::Calibration;
use crate::chat::{Answer, ChatEngine};
use crate::explain::mery::MerySet;
use crate::explain::regions::RegionMasks;
use crate::explain::xmap::XMapSet;
use crate::explain::{self, ExplainError, ExplainParams, Explanation, Update};
use crate::pipeline::facemesh::FaceMesh;
use crate::pipeline::{DetectedImage, FaceAnalysis, Pipeline, load_image};
use crate::progress::{Ctl, Progress};
use crate::record::Analysis;
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
        params: ExplainParams,
    },
    /// Answer a question about an analysis with the chat engine.
    Ask {
        analysis: Box<Analysis>,
        question: String,
    },
}

/// The kind of a job, for cancelling a group of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Image,
    Explain,
    Ask,
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Job::LoadImage { .. } | Job::PickFace { .. } => JobKind::Image,
            Job::Explain { .. } => JobKind::Explain,
            Job::Ask { .. } => JobKind::Ask,
        }
    }
}

/// A result an explanation hands out before it is complete.
pub enum Partial {
    Regions(Box<[RegionMasks; 2]>),
    XMaps(Box<XMapSet>),
    Mery(Box<MerySet>),
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
    /// The built-in calibration for this model, or why there is none.
    pub calibration: Result<Calibration, String>,
    /// (id, name, licence, source package) of every model in the manifest.
    pub licences: Vec<[String; 4]>,
}

type Queued = (u64, Job, Arc<AtomicBool>);

/// Shortest time between two repaints asked for by progress events (a frame
/// painted on a software rasteriser costs the model CPU time).
pub const WAKE_EVERY: Duration = Duration::from_millis(1000);

/// The UI's handle on the worker thread.
pub struct Worker {
    jobs: Sender<Queued>,
    /// Questions jump the queue: answered before the next job and between
    /// the batches of a running explanation.
    asks: Sender<Queued>,
    events: Receiver<Event>,
    start: Sender<()>,
    started: bool,
    next_generation: u64,
    /// Cancel flags of the jobs sent and not yet finished.
    in_flight: BTreeMap<u64, (JobKind, Arc<AtomicBool>)>,
}

impl Worker {
    /// Start the worker thread; it waits for [`Worker::start`] before loading
    /// the models. `wake` is called after every event (the app passes
    /// `ctx.request_repaint`).
    pub fn spawn(wake: impl Fn() + Send + Sync + 'static) -> Worker {
        let (job_tx, job_rx) = unbounded::<Queued>();
        let (ask_tx, ask_rx) = unbounded::<Queued>();
        let (ev_tx, ev_rx) = unbounded::<Event>();
        let (start_tx, start_rx) = bounded::<()>(1);
        let wake = Arc::new(wake);
        std::thread::Builder::new()
            .name("facexplain-worker".into())
            .spawn(move || {
                // Before any model loads, so their thread pools inherit it.
                lower_this_thread_priority();
                // Wait for the first frame (or for the app to go away).
                if start_rx.recv().is_ok() {
                    worker_main(job_rx, ask_rx, ev_tx, wake)
                }
            })
            .expect("spawning the worker thread");
        Worker {
            jobs: job_tx,
            asks: ask_tx,
            events: ev_rx,
            start: start_tx,
            started: false,
            next_generation: 1,
            in_flight: BTreeMap::new(),
        }
    }

    /// Let the worker load the models and run the queued jobs (called once the
    /// first frame is drawn; later calls do nothing).
    pub fn start(&mut self) {
        if !self.started {
            self.started = true;
            let _ = self.start.try_send(());
        }
    }

    /// Send a job; returns its generation id.
    pub fn send(&mut self, job: Job) -> u64 {
        let generation = self.next_generation;
        self.next_generation += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.in_flight
            .insert(generation, (job.kind(), cancel.clone()));
        let queue = match job.kind() {
            JobKind::Ask => &self.asks,
            _ => &self.jobs,
        };
        // The worker thread only stops when this handle is dropped, so the send cannot fail while we hold it.
        let _ = queue.send((generation, job, cancel));
        generation
    }

    /// Ask every unfinished job of these kinds to stop.
    pub fn cancel(&self, kinds: &[JobKind]) {
        for (kind, flag) in self.in_flight.values() {
            if kinds.contains(kind) {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Ask every unfinished job to stop.
    pub fn cancel_all(&self) {
        self.cancel(&[JobKind::Image, JobKind::Explain, JobKind::Ask]);
    }

    /// Unfinished jobs (sent, no final event seen yet).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Events that arrived since the last call (never blocks).
    pub fn poll(&mut self) -> Vec<Event> {
        let events: Vec<Event> = self.events.try_iter().collect();
        for e in &events {
            match e {
                Event::SlotDone { generation, .. }
                | Event::Explained { generation, .. }
                | Event::Answered { generation, .. }
                | Event::Cancelled { generation } => {
                    self.in_flight.remove(generation);
                }
                _ => {}
            }
        }
        events
    }
}

/// Niceness of the worker thread and of every thread it starts (ONNX Runtime's
/// intra-op pools are created when the worker loads the models; Linux gives a
/// new thread its creator's niceness). `FACEXPLAIN_WORKER_NICE` overrides it
/// (0 = the UI's priority).
pub const WORKER_NICE: i32 = 10;

/// Lower the calling thread's priority to [`WORKER_NICE`] (Linux only; elsewhere a no-op).
pub fn lower_this_thread_priority() {
    let nice = std::env::var("FACEXPLAIN_WORKER_NICE")
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .unwrap_or(WORKER_NICE)
        .clamp(0, 19);
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn setpriority(which: i32, who: u32, prio: i32) -> i32;
        }
        // PRIO_PROCESS (0) with who = 0 is the calling thread on Linux, not the whole process.
        // SAFETY: a plain system call on the calling thread.
        if unsafe { setpriority(0, 0, nice) } != 0 {
            tracing::warn!(
                "cannot lower the worker's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// The models the worker owns; FaceMesh and the chat engine load on first use.
struct Models {
    pipeline: Pipeline,
    facemesh: Option<Result<FaceMesh, String>>,
}

/// The chat engine, loaded with the first question (a lock because questions
/// are also answered from inside a running explanation's progress callback).
type Chat = std::sync::Mutex<Option<Result<ChatEngine, String>>>;

fn model_info(p: &Pipeline) -> ModelInfo {
    ModelInfo {
        name: p.model.name.clone(),
        sha256: p.model.sha256.clone(),
        default_threshold: p.default_threshold,
        calibration: Calibration::default_for(&p.model).map_err(|e| e.to_string()),
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

fn worker_main(
    jobs: Receiver<Queued>,
    asks: Receiver<Queued>,
    events: Sender<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    // Progress wakes the UI at most every WAKE_EVERY (the status bar also
    // repaints on its own while a job runs); every other event wakes it at once.
    let last_wake = std::sync::Mutex::new(Instant::now());
    let send = |e: Event| {
        let progress = matches!(e, Event::Progress { .. });
        let _ = events.send(e);
        if let Ok(mut last) = last_wake.lock()
            && (!progress || last.elapsed() >= WAKE_EVERY)
        {
            *last = Instant::now();
            wake();
        }
    };
    let mut models = match Pipeline::load() {
        Ok(p) => {
            send(Event::ModelsReady(Ok(Box::new(model_info(&p)))));
            Some(Models {
                pipeline: p,
                facemesh: None,
            })
        }
        Err(e) => {
            send(Event::ModelsReady(Err(e.to_string())));
            None
        }
    };
    let chat: Chat = std::sync::Mutex::new(None);
    loop {
        // Questions first; otherwise wait for whichever queue has work.
        let next = asks.try_recv().or_else(|_| {
            crossbeam_channel::select! {
                recv(asks) -> m => m,
                recv(jobs) -> m => m,
            }
        });
        let Ok((generation, job, cancel)) = next else {
            return; // the app has gone
        };
        if cancel.load(Ordering::Relaxed) {
            send(Event::Cancelled { generation });
            continue;
        }
        let Some(Models { pipeline, facemesh }) = models.as_mut() else {
            send(failed(generation, job, "the models are not loaded".into()));
            continue;
        };
        if let Job::Ask { analysis, question } = job {
            send(answer(pipeline, &chat, generation, &analysis, &question));
            continue;
        }
        // Between batches, answer the questions that arrived meanwhile.
        let progress = |pr: Progress| {
            send(Event::Progress {
                generation,
                progress: pr,
            });
            while let Ok((g, job, cancel)) = asks.try_recv() {
                send(match job {
                    Job::Ask { analysis, question } if !cancel.load(Ordering::Relaxed) => {
                        answer(pipeline, &chat, g, &analysis, &question)
                    }
                    _ => Event::Cancelled { generation: g },
                });
            }
        };
        let ctl = Ctl::new(&progress, &cancel);
        let event = run_job(pipeline, facemesh, generation, job, ctl, &send);
        send(if ctl.is_cancelled() {
            Event::Cancelled { generation }
        } else {
            event
        });
    }
}

/// Answer one question with the chat engine (loaded on first use).
fn answer(
    p: &Pipeline,
    chat: &Chat,
    generation: u64,
    analysis: &Analysis,
    question: &str,
) -> Event {
    let result = match chat.lock() {
        Ok(mut engine) => {
            let engine = engine.get_or_insert_with(|| {
                ChatEngine::load(&p.store, None)
                    .map_err(|e| format!("the chat is not available: {e}"))
            });
            match engine {
                Ok(engine) => engine.ask(analysis, question).map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            }
        }
        Err(_) => Err("the chat engine failed earlier; restart the app".into()),
    };
    Event::Answered { generation, result }
}

/// The final event of a job that failed with `msg`.
fn failed(generation: u64, job: Job, msg: String) -> Event {
    match job {
        Job::LoadImage { slot, .. } | Job::PickFace { slot, .. } => Event::SlotDone {
            generation,
            slot,
            result: Err(msg),
        },
        Job::Explain { .. } => Event::Explained {
            generation,
            result: Err(msg),
        },
        Job::Ask { .. } => Event::Answered {
            generation,
            result: Err(msg),
        },
    }
}

fn run_job(
    p: &Pipeline,
    facemesh: &mut Option<Result<FaceMesh, String>>,
    generation: u64,
    job: Job,
    ctl: Ctl,
    send: &dyn Fn(Event),
) -> Event {
    match job {
        Job::LoadImage { slot, path, face } => {
            let result = (|| {
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
            })();
            Event::SlotDone {
                generation,
                slot,
                result: result.map(Arc::new).map_err(|e| e.to_string()),
            }
        }
        Job::PickFace {
            slot,
            detected,
            face,
        } => Event::SlotDone {
            generation,
            slot,
            result: p
                .analyze((*detected).clone(), Some(face))
                .map(Arc::new)
                .map_err(|e| e.to_string()),
        },
        Job::Explain { faces, params } => {
            let fm = facemesh.get_or_insert_with(|| {
                ctl.report("loading FaceMesh", 0, 1);
                FaceMesh::load(&p.store).map_err(|e| e.to_string())
            });
            // Without FaceMesh the maps are still computed, only regions and tables are missing.
            let fm = fm.as_ref().ok();
            let mut on_update = |u: Update| {
                let part = match u {
                    Update::Regions(r) => Partial::Regions(Box::new(r.clone())),
                    Update::XMaps(x) => Partial::XMaps(Box::new(x.clone())),
                    Update::Mery(s) => Partial::Mery(Box::new(s.clone())),
                };
                send(Event::ExplainPartial { generation, part });
            };
            let result = explain::explain(
                &p.embedder,
                fm,
                [&faces[0], &faces[1]],
                &params,
                ctl,
                &mut on_update,
            );
            Event::Explained {
                generation,
                result: match result {
                    Ok(ex) => Ok(Arc::new(ex)),
                    Err(ExplainError::Cancelled) => Err("cancelled".into()),
                    Err(e) => Err(e.to_string()),
                },
            }
        }
        Job::Ask { .. } => failed(generation, job, "questions are answered elsewhere".into()),
    }
}
