//! The session without a window or a worker thread: commands are run, the
//! jobs they send are recorded, and the worker's results are computed here
//! with the real models on real images and applied as events.

use super::*;
use crate::pipeline::Pipeline;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::OnceLock;

/// What the session asked of the worker.
#[derive(Default)]
struct Log {
    sent: Vec<(u64, Job)>,
    cancelled: Vec<Vec<JobKind>>,
}

/// A job queue that records jobs instead of running them.
struct Recorder {
    log: Rc<RefCell<Log>>,
    next: u64,
}

impl JobQueue for Recorder {
    fn start(&mut self) {}
    fn send(&mut self, job: Job) -> u64 {
        self.next += 1;
        self.log.borrow_mut().sent.push((self.next, job));
        self.next
    }
    fn cancel(&self, kinds: &[JobKind]) {
        self.log.borrow_mut().cancelled.push(kinds.to_vec());
    }
    fn in_flight(&self) -> usize {
        0
    }
    fn poll(&mut self) -> Vec<Event> {
        Vec::new()
    }
}

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::load().expect("the models (scripts/setup.sh fetches them)"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// What the worker's image job computes for `path`.
fn analysed(path: &Path) -> Result<Arc<FaceAnalysis>, String> {
    let p = pipeline();
    p.detect_file(path)
        .and_then(|d| p.analyze(d, None))
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// A session with the models loaded, and its job log.
fn session() -> (Session, Rc<RefCell<Log>>) {
    let log = Rc::new(RefCell::new(Log::default()));
    let jobs = Recorder {
        log: log.clone(),
        next: 0,
    };
    let mut s = Session::new(Box::new(jobs), Settings::default());
    s.apply(Event::ModelsReady(Ok(Box::new(ModelInfo::of(pipeline())))));
    (s, log)
}

/// The generation and path of the last image job sent for `slot`.
fn last_load(log: &Rc<RefCell<Log>>, slot: Slot) -> (u64, PathBuf) {
    log.borrow()
        .sent
        .iter()
        .rev()
        .find_map(|(g, j)| match j {
            Job::LoadImage { slot: s, path, .. } if *s == slot => Some((*g, path.clone())),
            _ => None,
        })
        .expect("an image job")
}

/// Run the last image job of `slot` as the worker would and apply its result.
fn finish_load(s: &mut Session, log: &Rc<RefCell<Log>>, slot: Slot) {
    let (generation, path) = last_load(log, slot);
    s.apply(Event::SlotDone {
        generation,
        slot,
        result: analysed(&path),
        quality: None,
    });
}

fn explain_jobs(log: &Rc<RefCell<Log>>) -> Vec<u64> {
    log.borrow()
        .sent
        .iter()
        .filter(|(_, j)| j.kind() == JobKind::Explain)
        .map(|(g, _)| *g)
        .collect()
}

/// The two photographs of the same person, dropped together.
fn open_sample_pair() -> Command {
    Command::OpenFiles {
        paths: vec![
            data("face_recognition/obama.jpg"),
            data("face_recognition/obama2.jpg"),
        ],
        target: None,
    }
}

#[test]
fn a_pair_is_analysed_once_and_explained_once() {
    let (mut s, log) = session();
    s.run(open_sample_pair());
    assert!(s.busy());
    finish_load(&mut s, &log, Slot::Probe);
    assert!(
        s.current_analysis().is_none(),
        "the reference is still loading"
    );
    assert!(explain_jobs(&log).is_empty());
    finish_load(&mut s, &log, Slot::Reference);
    assert!(!s.busy());

    let [a, b] = s.faces().unwrap();
    let an = s.analysis().expect("the analysis of the pair");
    assert_eq!(an.similarity, cosine(&a.embedding, &b.embedding));
    assert_eq!(an.decision, crate::record::Decision::Match);
    assert!(an.confidence.is_some(), "the built-in calibration applies");
    assert_eq!(
        explain_jobs(&log).len(),
        1,
        "a new pair is explained at once"
    );
    assert!(s.explaining());

    // Frames and unrelated commands do not rebuild the record.
    let version = s.analysis_version();
    for _ in 0..10 {
        s.refresh();
        s.poll();
    }
    let mut view = s.settings.view.clone();
    view.labels = !view.labels;
    s.run(Command::SetView(view));
    assert_eq!(s.analysis_version(), version);

    // A threshold override rebuilds it exactly once.
    let mut settings = s.settings.clone();
    settings.threshold_override = Some(0.99);
    s.run(Command::SetSettings(Box::new(settings)));
    s.refresh();
    assert_eq!(s.analysis_version(), version + 1);
    let an = s.current_analysis().unwrap();
    assert_eq!(an.threshold_source, "user override");
    assert_eq!(an.decision, crate::record::Decision::NonMatch);
}

#[test]
fn stale_results_are_dropped_and_failures_keep_the_previous_result() {
    let (mut s, log) = session();
    s.run(open_sample_pair());
    finish_load(&mut s, &log, Slot::Probe);
    finish_load(&mut s, &log, Slot::Reference);
    let similarity = s.analysis().unwrap().similarity;
    let explaining = explain_jobs(&log)[0];

    // Biden asked for, then a blank image before Biden's result arrives.
    s.run(Command::OpenInSlot(
        Slot::Reference,
        data("face_recognition/biden.jpg"),
    ));
    assert!(
        log.borrow()
            .cancelled
            .last()
            .is_some_and(|k| k.contains(&JobKind::Explain)),
        "an image job interrupts the explanation"
    );
    let (biden, _) = last_load(&log, Slot::Reference);
    let tmp = tempfile::tempdir().unwrap();
    let blank = tmp.path().join("blank.png");
    image::RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]))
        .save(&blank)
        .unwrap();
    s.run(Command::OpenInSlot(Slot::Reference, blank.clone()));
    s.apply(Event::SlotDone {
        generation: biden,
        slot: Slot::Reference,
        result: analysed(&data("face_recognition/biden.jpg")),
        quality: None,
    });
    assert_eq!(
        s.analysis().unwrap().similarity,
        similarity,
        "Biden's result was superseded by the blank image"
    );
    assert!(s.busy());

    // The explanation of the old pair was cancelled by the image job.
    s.apply(Event::Cancelled {
        generation: explaining,
    });
    assert!(!s.explaining());

    // The blank image fails: inline error, previous result kept, and the
    // interrupted explanation of the same pair resumes.
    finish_load(&mut s, &log, Slot::Reference);
    let err = s.slots[1].error.clone().expect("an inline error");
    assert!(
        err.contains("blank.png") && err.contains("no face"),
        "{err}"
    );
    assert_eq!(s.analysis().unwrap().similarity, similarity);
    let jobs = explain_jobs(&log);
    assert_eq!(jobs.len(), 2, "the explanation resumed");
    assert!(s.explaining());

    // A result of the cancelled explanation is dropped; the running one's failure shows.
    s.apply(Event::Explained {
        generation: explaining,
        result: Err("late".into()),
    });
    assert!(s.banner.is_none() && s.explaining());
    s.apply(Event::Panicked {
        what: "explaining".into(),
        cause: "boom".into(),
    });
    s.apply(Event::Explained {
        generation: jobs[1],
        result: Err("internal error: boom".into()),
    });
    assert!(!s.explaining());
    assert_eq!(
        s.banner.as_deref(),
        Some("The explanation failed: internal error: boom")
    );
    assert!(s.fault.as_deref().is_some_and(|f| f.contains("boom")));
    assert_eq!(s.analysis().unwrap().similarity, similarity);
    s.run(Command::DismissBanner);
    assert!(s.banner.is_none());
    s.run(Command::Explain);
    assert!(s.fault.is_none(), "a new job clears the fault");
}

/// The start-over flag of each Ask job sent so far.
fn asks_start_over(log: &Rc<RefCell<Log>>) -> Vec<bool> {
    log.borrow()
        .sent
        .iter()
        .filter_map(|(_, j)| match j {
            Job::Ask { start_over, .. } => Some(*start_over),
            _ => None,
        })
        .collect()
}

#[test]
fn start_over_clears_the_chat_and_the_next_question_starts_a_new_conversation() {
    let (mut s, log) = session();
    s.run(open_sample_pair());
    finish_load(&mut s, &log, Slot::Probe);
    finish_load(&mut s, &log, Slot::Reference);
    s.run(Command::Ask("Which region mattered most?".into()));
    s.run(Command::Ask("and the nose?".into()));
    assert_eq!(s.chat.turns.len(), 2);
    s.run(Command::StartOverChat);
    assert!(s.chat.turns.is_empty(), "the history is cleared");
    s.run(Command::Ask("and the chin?".into()));
    s.run(Command::Ask("What is the decision?".into()));
    assert_eq!(asks_start_over(&log), [false, false, true, false]);
    assert_eq!(s.chat.turns.len(), 2);
}

#[test]
fn questions_go_with_the_current_analysis_and_a_new_pair_clears_the_chat() {
    let (mut s, log) = session();
    s.run(Command::Ask("What is the decision?".into()));
    assert!(s.chat.turns.is_empty(), "no analysis yet");
    s.run(open_sample_pair());
    finish_load(&mut s, &log, Slot::Probe);
    finish_load(&mut s, &log, Slot::Reference);
    s.run(Command::Ask("  What is the decision? ".into()));
    let (generation, asked, question) = match log.borrow().sent.last() {
        Some((
            g,
            Job::Ask {
                analysis, question, ..
            },
        )) => (*g, (**analysis).clone(), question.clone()),
        _ => panic!("an Ask job"),
    };
    assert_eq!(&asked, s.current_analysis().unwrap());
    assert_eq!(question, "What is the decision?");
    assert_eq!(s.chat.turns.len(), 1);
    assert_eq!(s.chat.turns[0].question, "What is the decision?");
    s.apply(Event::Answered {
        generation: generation + 100,
        result: Err("not ours".into()),
    });
    assert!(
        s.chat.turns[0].answer.is_none(),
        "another job's answer is not this turn's"
    );
    s.run(Command::Cancel);
    s.apply(Event::Cancelled { generation });
    assert_eq!(
        s.chat.turns[0]
            .answer
            .as_ref()
            .unwrap()
            .as_ref()
            .err()
            .map(String::as_str),
        Some("cancelled")
    );

    s.run(Command::OpenInSlot(
        Slot::Reference,
        data("face_recognition/biden.jpg"),
    ));
    finish_load(&mut s, &log, Slot::Reference);
    assert!(
        s.chat.turns.is_empty(),
        "the conversation was about the old pair"
    );
    assert_eq!(
        s.current_analysis().unwrap().decision,
        crate::record::Decision::NonMatch
    );
}

#[test]
fn the_analysis_record_carries_each_face_quality_from_its_image_job() {
    use crate::quality::{Assessor, Thresholds};
    use crate::record::Verdict;
    let assessor = Assessor::load(&pipeline().store, Thresholds::builtin()).unwrap();
    let (mut s, log) = session();
    s.run(Command::OpenFiles {
        paths: vec![
            data("face_recognition/obama.jpg"),
            data("opencv/squirrel_cls.jpg"),
        ],
        target: None,
    });
    for slot in Slot::BOTH {
        let (generation, path) = last_load(&log, slot);
        let result = analysed(&path);
        let quality = result
            .as_ref()
            .ok()
            .map(|f| assessor.assess(f).map_err(|e| e.to_string()));
        s.apply(Event::SlotDone {
            generation,
            slot,
            result,
            quality,
        });
    }
    let an = s.analysis().expect("both analysed");
    let verdicts: Vec<_> = an
        .images
        .iter()
        .map(|i| i.quality.as_ref().map(|q| q.verdict))
        .collect();
    assert_eq!(verdicts, [Some(Verdict::Fit), Some(Verdict::Unfit)]);
    // A failed load of the reference keeps its analysis and its quality.
    s.run(Command::OpenInSlot(Slot::Reference, data("missing.jpg")));
    let (generation, _) = last_load(&log, Slot::Reference);
    s.apply(Event::SlotDone {
        generation,
        slot: Slot::Reference,
        result: Err("missing.jpg: cannot read".into()),
        quality: None,
    });
    let kept = s.analysis().unwrap();
    assert_eq!(
        kept.images[1].quality.as_ref().map(|q| q.verdict),
        Some(Verdict::Unfit)
    );
}

/// The jobs sent for other recognisers' faces: (generation, model, faces).
fn model_jobs(log: &Rc<RefCell<Log>>) -> Vec<(u64, String, [Arc<FaceAnalysis>; 2])> {
    (log.borrow().sent.iter())
        .filter_map(|(g, j)| match j {
            Job::ModelFaces { model, faces } => Some((*g, model.clone(), faces.clone())),
            _ => None,
        })
        .collect()
}

/// The last explanation job: (generation, model, faces).
fn last_explain(log: &Rc<RefCell<Log>>) -> (u64, Option<String>, [Arc<FaceAnalysis>; 2]) {
    (log.borrow().sent.iter().rev())
        .find_map(|(g, j)| match j {
            Job::Explain { model, faces, .. } => Some((*g, model.clone(), faces.clone())),
            _ => None,
        })
        .expect("an explanation job")
}

/// What the worker's explanation job computes (one coarse X-Map, no regions).
fn explained(p: &Pipeline, faces: &[Arc<FaceAnalysis>; 2]) -> Arc<crate::explain::Explanation> {
    let mut params = crate::explain::ExplainParams::default();
    if let Some(x) = &mut params.xmap {
        x.patch_sizes = vec![28];
        x.stride = 28;
    }
    params.mery = None;
    let faces = [faces[0].as_ref(), faces[1].as_ref()];
    let ex = crate::explain::explain(
        &p.embedder,
        None,
        faces,
        &params,
        crate::progress::Ctl::none(),
        &mut |_| {},
    );
    Arc::new(ex.expect("an explanation"))
}

#[test]
fn another_model_runs_once_per_pair_and_the_maps_of_each_are_kept() {
    let (mut s, log) = session();
    s.run(open_sample_pair());
    finish_load(&mut s, &log, Slot::Probe);
    finish_load(&mut s, &log, Slot::Reference);
    let (sface_job, model, _) = last_explain(&log);
    assert_eq!(model, None, "the analysis's own model is explained first");
    assert!(model_jobs(&log).is_empty(), "no other model is enabled");

    // Enabling MobileFaceNet asks the worker for its faces, once.
    s.run(Command::SetModels(vec!["mobilefacenet".into()]));
    for _ in 0..3 {
        s.refresh();
    }
    let jobs = model_jobs(&log);
    assert_eq!(jobs.len(), 1);
    let (generation, model, faces) = jobs[0].clone();
    assert_eq!(model, "mobilefacenet");
    assert!(
        s.analysis().unwrap().models.is_empty(),
        "no second verdict yet"
    );
    assert!(matches!(s.model_runs()[1].1, ModelRun::Computing));

    // Its faces as the worker computes them: both verdicts in the record.
    let mfn = Pipeline::load_model("mobilefacenet").unwrap();
    let mfn_faces = [0, 1].map(|i| Arc::new(mfn.reanalyze(&faces[i]).unwrap()));
    s.apply(Event::ModelFaces {
        generation,
        result: Ok(mfn_faces.clone()),
    });
    let an = s.analysis().unwrap();
    let ids: Vec<&str> = an.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["sface", "mobilefacenet"]);
    assert_eq!(
        an.models[1].similarity,
        cosine(&mfn_faces[0].embedding, &mfn_faces[1].embedding)
    );
    assert_ne!(an.models[1].similarity, an.similarity);
    assert!(
        crate::record::disagreement(&an.models).is_none(),
        "both match the sample pair"
    );

    // SFace's maps arrive; the viewer switches to MobileFaceNet: it is explained with its own faces.
    let sface_maps = explained(pipeline(), &s.faces().unwrap());
    s.apply(Event::Explained {
        generation: sface_job,
        result: Ok(sface_maps.clone()),
    });
    let version = s.analysis_version();
    s.run(Command::ShowModel(Some("mobilefacenet".into())));
    let (mfn_job, model, faces) = last_explain(&log);
    assert_eq!(model.as_deref(), Some("mobilefacenet"));
    assert!(Arc::ptr_eq(&faces[0], &mfn_faces[0]) && Arc::ptr_eq(&faces[1], &mfn_faces[1]));
    assert!(s.explanation().is_none() && s.explaining());
    assert!(
        s.primary_explanation()
            .is_some_and(|e| Arc::ptr_eq(e, &sface_maps))
    );
    assert_eq!(
        s.analysis_version(),
        version,
        "the record is SFace's: unchanged"
    );
    let mfn_maps = explained(&mfn, &mfn_faces);
    s.apply(Event::Explained {
        generation: mfn_job,
        result: Ok(mfn_maps.clone()),
    });
    assert!(s.explanation().is_some_and(|e| Arc::ptr_eq(e, &mfn_maps)));

    // Back and forth: the kept maps come back, nothing is recomputed.
    let sent = log.borrow().sent.len();
    s.run(Command::ShowModel(None));
    assert!(s.explanation().is_some_and(|e| Arc::ptr_eq(e, &sface_maps)));
    s.run(Command::ShowModel(Some("mobilefacenet".into())));
    assert!(s.explanation().is_some_and(|e| Arc::ptr_eq(e, &mfn_maps)));
    assert!(!s.explaining());
    assert_eq!(log.borrow().sent.len(), sent, "no job was sent");

    // Disabling the shown model gives the viewer back to SFace's maps.
    s.run(Command::SetModels(Vec::new()));
    assert!(s.side_by_side.shown.is_none());
    assert!(s.explanation().is_some_and(|e| Arc::ptr_eq(e, &sface_maps)));
    assert!(s.analysis().unwrap().models.is_empty());

    // A new pair: MobileFaceNet enabled again is asked for it once, and a
    // failure is said instead of a verdict.
    s.run(Command::SetModels(vec!["mobilefacenet".into()]));
    s.run(Command::OpenInSlot(
        Slot::Reference,
        data("face_recognition/biden.jpg"),
    ));
    finish_load(&mut s, &log, Slot::Reference);
    s.refresh();
    let jobs = model_jobs(&log);
    assert_eq!(jobs.len(), 2, "one more, for the new pair");
    s.apply(Event::ModelFaces {
        generation: jobs[1].0,
        result: Err("mobilefacenet cannot be loaded: test".into()),
    });
    assert!(matches!(s.model_runs()[1].1, ModelRun::Failed(e) if e.contains("test")));
    assert!(s.analysis().unwrap().models.is_empty());
    assert!(
        s.side_by_side.kept.is_empty(),
        "the old pair's maps are gone"
    );
}

/// The last what-if job: (generation, model, faces, masks, fill).
type WhatIfJob = (
    u64,
    Option<String>,
    [Arc<FaceAnalysis>; 2],
    [Option<ndarray::Array2<bool>>; 2],
    crate::explain::whatif::Fill,
);
fn last_what_if(log: &Rc<RefCell<Log>>) -> WhatIfJob {
    (log.borrow().sent.iter().rev())
        .find_map(|(g, j)| match j {
            Job::WhatIf {
                faces,
                masks,
                fill,
                model,
            } => Some((*g, model.clone(), faces.clone(), (**masks).clone(), *fill)),
            _ => None,
        })
        .expect("a what-if job")
}

/// What the worker answers to a what-if job, with `p`'s recogniser.
fn what_if_answer(p: &Pipeline, (_, _, faces, masks, fill): &WhatIfJob) -> f32 {
    let masks = [masks[0].as_ref(), masks[1].as_ref()];
    crate::explain::whatif::of_faces(&p.embedder, [&faces[0], &faces[1]], masks, *fill).unwrap()
}

#[test]
fn what_if_is_measured_by_the_model_whose_maps_are_shown() {
    use super::whatif::WhatIfCmd;
    let (mut s, log) = session();
    s.run(open_sample_pair());
    finish_load(&mut s, &log, Slot::Probe);
    finish_load(&mut s, &log, Slot::Reference);
    s.run(Command::SetModels(vec!["mobilefacenet".into()]));
    let (generation, _, faces) = model_jobs(&log)[0].clone();
    let mfn = Pipeline::load_model("mobilefacenet").unwrap();
    let mfn_faces = faces.map(|f| Arc::new(mfn.reanalyze(&f).unwrap()));
    s.apply(Event::ModelFaces {
        generation,
        result: Ok(mfn_faces.clone()),
    });
    let mfn_verdict = s.analysis().unwrap().models[1].clone();

    // Painted while SFace's maps are shown: SFace measures it.
    s.run(Command::WhatIf(WhatIfCmd::Stroke {
        face: 0,
        points: vec![[40.0, 50.0], [72.0, 50.0]],
        radius: 6.0,
    }));
    let on_sface = last_what_if(&log);
    assert_eq!(on_sface.1, None);
    let sface_sim = what_if_answer(pipeline(), &on_sface);
    s.apply(Event::WhatIfDone {
        generation: on_sface.0,
        result: Ok(sface_sim),
    });
    assert!(
        s.what_if_sentence()
            .unwrap()
            .ends_with("SFace's similarity")
    );

    // The selector shows MobileFaceNet: the same masks (its crops are SFace's
    // template at the same size) are measured again, by MobileFaceNet.
    s.run(Command::ShowModel(Some("mobilefacenet".into())));
    let on_mfn = last_what_if(&log);
    assert!(on_mfn.0 > on_sface.0);
    assert_eq!(on_mfn.1.as_deref(), Some("mobilefacenet"));
    assert!(Arc::ptr_eq(&on_mfn.2[0], &mfn_faces[0]) && Arc::ptr_eq(&on_mfn.2[1], &mfn_faces[1]));
    assert_eq!(on_mfn.3, on_sface.3, "the same pixels hidden");
    assert!(
        s.whatif.similarity().is_none(),
        "SFace's figure is not shown as MobileFaceNet's"
    );
    let mfn_sim = what_if_answer(&mfn, &on_mfn);
    assert_ne!(mfn_sim, sface_sim);
    // SFace's answer arriving late is dropped.
    s.apply(Event::WhatIfDone {
        generation: on_sface.0,
        result: Ok(sface_sim),
    });
    assert!(s.whatif.similarity().is_none());
    s.apply(Event::WhatIfDone {
        generation: on_mfn.0,
        result: Ok(mfn_sim),
    });
    assert_eq!(s.whatif.similarity(), Some(mfn_sim));
    let sentence = s.what_if_sentence().unwrap();
    assert!(
        sentence.starts_with("painted area of face A hidden (grey fill): ")
            && sentence.contains(&format!("{:.3} to {mfn_sim:.3}", mfn_verdict.similarity))
            && sentence.contains(&format!("(threshold {:.3})", mfn_verdict.threshold))
            && sentence.ends_with(" — MobileFaceNet's similarity"),
        "{sentence}"
    );

    // Painting goes on on MobileFaceNet's crops; back to SFace, SFace measures it all.
    s.run(Command::WhatIf(WhatIfCmd::Stroke {
        face: 1,
        points: vec![[56.0, 90.0]],
        radius: 5.0,
    }));
    let both = last_what_if(&log);
    assert_eq!(both.1.as_deref(), Some("mobilefacenet"));
    assert!(both.3[1].is_some());
    s.run(Command::ShowModel(None));
    let back = last_what_if(&log);
    assert_eq!((back.1.as_ref(), &back.3), (None, &both.3));
    assert!(Arc::ptr_eq(&back.2[0], &s.faces().unwrap()[0]));
}
