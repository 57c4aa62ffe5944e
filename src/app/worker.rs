//! The one background thread that owns the models and runs every job. The UI
//! sends [`Job`]s and polls [`Event`]s; every event carries the generation id
//! of the job that produced it so stale results can be dropped. Each job has
//! its own cancel flag. The worker wakes the UI with `request_repaint` after
//! each event. Models load lazily: the pipeline once the UI has drawn its
//! first frame ([`JobQueue::start`]), FaceMesh (for the quality assessment and
//! the regions) with the first image, the chat engine with the first question,
//! another face recogniser when it is first enabled (issue 19).
//! An image job assesses the face it analysed ([`Assessor`]) and sends the
//! quality with the analysis, so the two always arrive together.
//!
//! Each job runs under `catch_unwind`: a panic inside a model call or a map
//! computation becomes the job's failure event plus [`Event::Panicked`] (shown
//! in the status bar), the previous result stays on screen and the worker
//! goes on serving jobs.
//!
//! The worker runs at a lower scheduling priority ([`WORKER_NICE`]): the
//! threads ONNX Runtime and the chat engine start from it inherit it, so the
//! UI thread and the software rasteriser's threads win the CPU when they need
//! it, and the model still gets every idle cycle.

use crate::chat::ChatEngine;
use crate::explain::{self, ExplainError, Update};
use crate::pipeline::{FaceAnalysis, Pipeline, load_image};
use crate::progress::{Ctl, Progress};
use crate::quality::{Assessor, Thresholds};
use crate::record::Analysis;
use crate::record::FaceQuality;
pub use crate::session::jobs::{Event, Job, JobKind, JobQueue, ModelInfo, Partial, Slot};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Queued = (u64, Job, Arc<AtomicBool>);

/// Shortest time between two repaints asked for by progress events (a frame
/// painted on a software rasteriser costs the model CPU time).
pub const WAKE_EVERY: Duration = Duration::from_millis(1000);

/// The UI's handle on the worker thread.
pub struct Worker {
    jobs: Sender<Queued>,
    /// Questions, what-ifs and other models' faces jump the queue: done
    /// before the next job and between the batches of a running explanation.
    asks: Sender<Queued>,
    events: Receiver<Event>,
    start: Sender<()>,
    started: bool,
    next_generation: u64,
    /// Cancel flags of the jobs sent and not yet finished.
    in_flight: BTreeMap<u64, (JobKind, Arc<AtomicBool>)>,
}

impl Worker {
    /// Start the worker thread; it waits for [`JobQueue::start`] before loading
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
}

impl JobQueue for Worker {
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            let _ = self.start.try_send(());
        }
    }

    fn send(&mut self, job: Job) -> u64 {
        let generation = self.next_generation;
        self.next_generation += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.in_flight
            .insert(generation, (job.kind(), cancel.clone()));
        let queue = match job.kind() {
            JobKind::Ask | JobKind::WhatIf | JobKind::Models => &self.asks,
            _ => &self.jobs,
        };
        // The worker thread only stops when this handle is dropped, so the send cannot fail while we hold it.
        let _ = queue.send((generation, job, cancel));
        generation
    }

    fn cancel(&self, kinds: &[JobKind]) {
        for (kind, flag) in self.in_flight.values() {
            if kinds.contains(kind) {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn poll(&mut self) -> Vec<Event> {
        let events: Vec<Event> = self.events.try_iter().collect();
        for e in &events {
            match e {
                Event::SlotDone { generation, .. }
                | Event::Explained { generation, .. }
                | Event::Answered { generation, .. }
                | Event::WhatIfDone { generation, .. }
                | Event::Explored { generation, .. }
                | Event::ModelFaces { generation, .. }
                | Event::ReportExported { generation, .. }
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

/// The models the worker owns; FaceMesh (inside the quality assessor), the
/// other recognisers and the chat engine load on first use.
struct Models {
    pipeline: Pipeline,
    assessor: Option<Result<Assessor, String>>,
    others: Others,
}

/// Other face recognisers by id (issue 19), loaded when first asked for (a
/// lock because their faces are also computed between the batches of a
/// running explanation).
type Others = std::sync::Mutex<BTreeMap<String, Result<Arc<Pipeline>, String>>>;

/// The pipeline of recogniser `id` (not the loaded one), loaded on first use.
fn recogniser(primary: &Pipeline, others: &Others, id: &str) -> Result<Arc<Pipeline>, String> {
    let store = &primary.store;
    let mut others = others.lock().unwrap_or_else(|p| p.into_inner());
    others
        .entry(id.to_string())
        .or_insert_with(|| {
            crate::pipeline::Recogniser::find(store, id)
                .and_then(|r| Pipeline::with_recogniser(store.clone(), r))
                .map(Arc::new)
                .map_err(|e| format!("{id} cannot be loaded: {e}"))
        })
        .clone()
}

/// The pipeline of recogniser `model` when it is not the loaded one
/// (`None`: the loaded one runs), loaded on first use.
fn other_pipeline(
    primary: &Pipeline,
    others: &Others,
    model: Option<&str>,
) -> Result<Option<Arc<Pipeline>>, String> {
    model
        .filter(|m| *m != primary.recogniser.id())
        .map(|m| recogniser(primary, others, m))
        .transpose()
}

/// Another recogniser's faces of the pair: the chosen faces (already
/// detected) aligned and embedded for it.
fn model_faces(
    primary: &Pipeline,
    others: &Others,
    generation: u64,
    model: &str,
    faces: &[Arc<FaceAnalysis>; 2],
) -> Event {
    let result = recogniser(primary, others, model).and_then(|p| {
        let one = |f: &FaceAnalysis| p.reanalyze(f).map(Arc::new).map_err(|e| e.to_string());
        Ok([one(&faces[0])?, one(&faces[1])?])
    });
    Event::ModelFaces { generation, result }
}

/// The chat engine, loaded with the first question (a lock because questions
/// are also answered from inside a running explanation's progress callback).
type Chat = std::sync::Mutex<Option<Result<ChatEngine, String>>>;

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
            send(Event::ModelsReady(Ok(Box::new(ModelInfo::of(&p)))));
            Some(Models {
                pipeline: p,
                assessor: None,
                others: Default::default(),
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
        let origin = Origin::of(generation, &job);
        let Some(Models {
            pipeline,
            assessor,
            others,
        }) = models.as_mut()
        else {
            send(origin.failed("the models are not loaded".into()));
            continue;
        };
        let (pipeline, others): (&Pipeline, &Others) = (pipeline, others);
        if let Job::Ask {
            analysis,
            question,
            start_over,
        } = job
        {
            send(caught(origin, &send, || {
                answer(
                    pipeline, &chat, generation, &analysis, &question, start_over,
                )
            }));
            continue;
        }
        if let Job::WhatIf {
            faces,
            masks,
            fill,
            model,
        } = job
        {
            send(caught(origin, &send, || {
                what_if(pipeline, others, generation, &faces, &masks, fill, model)
            }));
            continue;
        }
        if let Job::ModelFaces { model, faces } = job {
            send(caught(origin, &send, || {
                model_faces(pipeline, others, generation, &model, &faces)
            }));
            continue;
        }
        // Between batches, answer the questions that arrived meanwhile.
        let progress = |pr: Progress| {
            send(Event::Progress {
                generation,
                progress: pr,
            });
            while let Ok((g, job, cancel)) = asks.try_recv() {
                let origin = Origin::of(g, &job);
                send(match job {
                    Job::Ask {
                        analysis,
                        question,
                        start_over,
                    } if !cancel.load(Ordering::Relaxed) => caught(origin, &send, || {
                        answer(pipeline, &chat, g, &analysis, &question, start_over)
                    }),
                    Job::WhatIf {
                        faces,
                        masks,
                        fill,
                        model,
                    } if !cancel.load(Ordering::Relaxed) => caught(origin, &send, || {
                        what_if(pipeline, others, g, &faces, &masks, fill, model)
                    }),
                    Job::ModelFaces { model, faces } if !cancel.load(Ordering::Relaxed) => {
                        caught(origin, &send, || {
                            model_faces(pipeline, others, g, &model, &faces)
                        })
                    }
                    _ => Event::Cancelled { generation: g },
                });
            }
        };
        let ctl = Ctl::new(&progress, &cancel);
        let event = caught(origin, &send, || {
            run_job(pipeline, assessor, others, generation, job, ctl, &send)
        });
        send(if ctl.is_cancelled() {
            Event::Cancelled { generation }
        } else {
            event
        });
    }
}

/// Answer one question with the chat engine (loaded on first use), in a
/// new conversation when the chat was started over.
fn answer(
    p: &Pipeline,
    chat: &Chat,
    generation: u64,
    analysis: &Analysis,
    question: &str,
    start_over: bool,
) -> Event {
    // A question that panicked earlier left the lock poisoned; the engine
    // itself is only read while answering, so it is used again.
    let mut engine = chat.lock().unwrap_or_else(|p| p.into_inner());
    let engine = engine.get_or_insert_with(|| {
        ChatEngine::load(&p.store, None).map_err(|e| format!("the chat is not available: {e}"))
    });
    let result = match engine {
        Ok(engine) => {
            if start_over {
                engine.start_over();
            }
            engine.ask(analysis, question).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.clone()),
    };
    Event::Answered { generation, result }
}

/// The similarity of the pair with the masked areas filled (one forward
/// pass), measured by recogniser `model` (`None`: the loaded one).
fn what_if(
    p: &Pipeline,
    others: &Others,
    generation: u64,
    faces: &[Arc<crate::pipeline::FaceAnalysis>; 2],
    masks: &[Option<ndarray::Array2<bool>>; 2],
    fill: crate::explain::whatif::Fill,
    model: Option<String>,
) -> Event {
    let result = other_pipeline(p, others, model.as_deref()).and_then(|other| {
        crate::explain::whatif::of_faces(
            &other.as_deref().unwrap_or(p).embedder,
            [&faces[0], &faces[1]],
            [masks[0].as_ref(), masks[1].as_ref()],
            fill,
        )
        .map_err(|e| e.to_string())
    });
    Event::WhatIfDone { generation, result }
}

/// Enough of a job to report its failure once the job itself has been handed over.
#[derive(Clone, Copy)]
struct Origin {
    generation: u64,
    kind: JobKind,
    slot: Slot,
}

impl Origin {
    fn of(generation: u64, job: &Job) -> Origin {
        let slot = match job {
            Job::LoadImage { slot, .. } | Job::PickFace { slot, .. } => *slot,
            _ => Slot::Probe,
        };
        Origin {
            generation,
            kind: job.kind(),
            slot,
        }
    }

    /// The final event of the job, failed with `msg`.
    fn failed(self, msg: String) -> Event {
        let generation = self.generation;
        match self.kind {
            JobKind::Image => Event::SlotDone {
                generation,
                slot: self.slot,
                result: Err(msg),
                quality: None,
            },
            JobKind::Explain => Event::Explained {
                generation,
                result: Err(msg),
            },
            JobKind::Ask => Event::Answered {
                generation,
                result: Err(msg),
            },
            JobKind::WhatIf => Event::WhatIfDone {
                generation,
                result: Err(msg),
            },
            JobKind::Explore => Event::Explored {
                generation,
                result: Err(msg),
            },
            JobKind::Models => Event::ModelFaces {
                generation,
                result: Err(msg),
            },
            JobKind::Export => Event::ReportExported {
                generation,
                result: Err(msg),
            },
        }
    }

    /// What the job was doing, for the status bar.
    fn doing(self) -> String {
        match self.kind {
            JobKind::Image => format!("analysing the {} image", self.slot.label().to_lowercase()),
            JobKind::Explain => "explaining".into(),
            JobKind::Ask => "answering a question".into(),
            JobKind::WhatIf => "measuring a what-if similarity".into(),
            JobKind::Explore => "opening a data set".into(),
            JobKind::Models => "running another face recogniser".into(),
            JobKind::Export => "writing the report".into(),
        }
    }
}

/// Run a job's body. A panic inside it (a bug or a fault in a model call or
/// a map computation) is caught: the UI gets [`Event::Panicked`] with the
/// cause and the job's failure event, and the worker goes on serving jobs.
fn caught(origin: Origin, send: &dyn Fn(Event), body: impl FnOnce() -> Event) -> Event {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(event) => event,
        Err(payload) => {
            let cause = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            tracing::error!(
                "the worker caught a panic while {}: {cause}",
                origin.doing()
            );
            send(Event::Panicked {
                what: origin.doing(),
                cause: cause.clone(),
            });
            origin.failed(format!("internal error: {cause}"))
        }
    }
}

/// The quality assessor (FaceMesh and the built-in thresholds), loaded on first use.
fn assessor_of<'a>(
    p: &Pipeline,
    assessor: &'a mut Option<Result<Assessor, String>>,
    ctl: Ctl,
) -> Result<&'a Assessor, String> {
    assessor
        .get_or_insert_with(|| {
            ctl.report("loading FaceMesh", 0, 1);
            Assessor::load(&p.store, Thresholds::builtin()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| format!("FaceMesh is not available: {e}"))
}

/// An image job's final event: the analysed face and its quality.
fn slot_done(
    p: &Pipeline,
    assessor: &mut Option<Result<Assessor, String>>,
    generation: u64,
    slot: Slot,
    result: Result<FaceAnalysis, String>,
    ctl: Ctl,
) -> Event {
    let quality = result
        .as_ref()
        .ok()
        .map(|f| -> Result<FaceQuality, String> {
            ctl.report("quality", 0, 1);
            let q = assessor_of(p, assessor, ctl)?
                .assess(f)
                .map_err(|e| format!("the image quality could not be assessed: {e}"));
            ctl.report("quality", 1, 1);
            q
        });
    Event::SlotDone {
        generation,
        slot,
        result: result.map(Arc::new),
        quality,
    }
}

fn run_job(
    p: &Pipeline,
    assessor: &mut Option<Result<Assessor, String>>,
    others: &Others,
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
                #[cfg(test)]
                fault::hit(JobKind::Image);
                ctl.check()?;
                ctl.report("detect", 1, 3);
                let detected = p.detect_image(image)?;
                ctl.check()?;
                ctl.report("embed", 2, 3);
                let r = p.analyze(detected, face);
                ctl.report("embed", 3, 3);
                r
            })();
            let result = result.map_err(|e| e.to_string());
            slot_done(p, assessor, generation, slot, result, ctl)
        }
        Job::PickFace {
            slot,
            detected,
            face,
        } => {
            let result = p
                .analyze((*detected).clone(), Some(face))
                .map_err(|e| e.to_string());
            slot_done(p, assessor, generation, slot, result, ctl)
        }
        Job::Explain {
            faces,
            params,
            model,
        } => {
            // Another recogniser's maps: its pipeline, kept alive for the job.
            let other = match other_pipeline(p, others, model.as_deref()) {
                Ok(o) => o,
                Err(e) => {
                    return Event::Explained {
                        generation,
                        result: Err(e),
                    };
                }
            };
            let embedder = &other.as_deref().unwrap_or(p).embedder;
            // Without FaceMesh the maps are still computed, only regions and tables are missing.
            let fm = assessor_of(p, assessor, ctl).ok().map(|a| &a.facemesh);
            let mut on_update = |u: Update| {
                #[cfg(test)]
                fault::hit(JobKind::Explain);
                let part = match u {
                    Update::Regions(r) => Partial::Regions(Box::new(r.clone())),
                    Update::XMaps(x) => Partial::XMaps(Box::new(x.clone())),
                    Update::Mery(s) => Partial::Mery(Box::new(s.clone())),
                    Update::Greedy(g) => Partial::Greedy(Box::new(g.clone())),
                    Update::Faithfulness(f) => Partial::Faithfulness(Box::new(f.clone())),
                };
                send(Event::ExplainPartial { generation, part });
            };
            let result = explain::explain(
                embedder,
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
        Job::Ask { .. } | Job::WhatIf { .. } | Job::ModelFaces { .. } => {
            Origin::of(generation, &job)
                .failed("questions, what-ifs and other models' faces are answered elsewhere".into())
        }
        Job::ExportReport(r) => Event::ReportExported {
            generation,
            result: super::report_export::write(*r),
        },
        Job::Explore {
            dataset,
            pairs,
            max_impostors,
            seed,
        } => crate::app::explorer::run_job(
            crate::explore::Models {
                pipeline: p,
                // Without FaceMesh the table is built all the same, without verdicts.
                quality: assessor_of(p, assessor, ctl).ok(),
            },
            generation,
            dataset,
            pairs,
            max_impostors,
            seed,
            ctl,
            send,
        ),
    }
}

/// Faults injected by the tests: the next jobs of a kind panic inside their
/// body (an image job between loading and detection, an explanation inside
/// the explanation's first update). Compiled only into the unit tests.
#[cfg(test)]
pub(crate) mod fault {
    use super::JobKind;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static IMAGE: AtomicUsize = AtomicUsize::new(0);
    static EXPLAIN: AtomicUsize = AtomicUsize::new(0);

    fn counter(kind: JobKind) -> Option<&'static AtomicUsize> {
        match kind {
            JobKind::Image => Some(&IMAGE),
            JobKind::Explain => Some(&EXPLAIN),
            JobKind::Ask
            | JobKind::WhatIf
            | JobKind::Explore
            | JobKind::Models
            | JobKind::Export => None,
        }
    }

    /// Make the next `n` jobs of `kind` panic.
    pub fn arm(kind: JobKind, n: usize) {
        if let Some(c) = counter(kind) {
            c.store(n, Ordering::SeqCst);
        }
    }

    /// Panic if a fault is armed for `kind`.
    pub fn hit(kind: JobKind) {
        if let Some(c) = counter(kind)
            && c.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            panic!("injected fault in a {kind:?} job");
        }
    }
}
