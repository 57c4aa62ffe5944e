//! The viewer's what-if with a user model of another input size and
//! alignment template (issue 19): the session driven without a worker, its
//! jobs recorded and run here with the real models, as the worker runs them.
//! What is painted on SFace's crops is carried to the 96-pixel model's crops,
//! measured by that model against its own verdict, hidden by its regions,
//! and carried back.

mod common;
use common::data;
use common::user_models::{add_means, looser_template_96, store, user_recogniser};
use facexplain::explain::occlusion::face_tensor;
use facexplain::explain::regions::Region;
use facexplain::explain::whatif::{self, Fill};
use facexplain::explain::xmap::XMapMethod;
use facexplain::explain::{self, ExplainParams};
use facexplain::pipeline::embed::cosine;
use facexplain::pipeline::facemesh::FaceMesh;
use facexplain::pipeline::{FaceAnalysis, Pipeline};
use facexplain::progress::Ctl;
use facexplain::session::whatif::WhatIfCmd;
use facexplain::session::{
    Command, Event, Job, JobKind, JobQueue, MapChoice, ModelInfo, RecogniserInfo, Session, Settings,
};
use ndarray::Array2;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Jobs the session sends, recorded instead of run.
struct Recorded(Rc<RefCell<Vec<(u64, Job)>>>);

impl JobQueue for Recorded {
    fn start(&mut self) {}
    fn send(&mut self, job: Job) -> u64 {
        let mut jobs = self.0.borrow_mut();
        let generation = 1000 + jobs.len() as u64;
        jobs.push((generation, job));
        generation
    }
    fn cancel(&self, _: &[JobKind]) {}
    fn in_flight(&self) -> usize {
        0
    }
    fn poll(&mut self) -> Vec<Event> {
        Vec::new()
    }
}

/// A what-if job's fields: (generation, faces, masks, fill, model).
type WhatIfJob = (
    u64,
    [Arc<FaceAnalysis>; 2],
    [Option<Array2<bool>>; 2],
    Fill,
    Option<String>,
);

/// The jobs sent since the last call.
fn take(jobs: &Rc<RefCell<Vec<(u64, Job)>>>) -> Vec<(u64, Job)> {
    jobs.borrow_mut().drain(..).collect()
}

/// The last what-if job among `sent`.
fn what_if_job(sent: Vec<(u64, Job)>) -> WhatIfJob {
    (sent.into_iter().rev())
        .find_map(|(g, j)| match j {
            Job::WhatIf {
                faces,
                masks,
                fill,
                model,
            } => Some((g, faces, *masks, fill, model)),
            _ => None,
        })
        .expect("a what-if job")
}

/// The worker's answer to a what-if job, measured with `p`'s recogniser.
fn measured(p: &Pipeline, (_, faces, masks, fill, _): &WhatIfJob) -> f32 {
    let masks = [masks[0].as_ref(), masks[1].as_ref()];
    whatif::of_faces(&p.embedder, [&faces[0], &faces[1]], masks, *fill).unwrap()
}

#[test]
fn what_if_on_a_96_pixel_user_model_in_the_viewer() {
    let (template, text) = looser_template_96();
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path(), 96, &["--template", &text]);
    let r = user_recogniser(&user, "means");
    assert_eq!(r.spec.input_size, [96, 96]);
    assert!(
        (r.spec.alignment[0][0] - template[0][0]).abs() < 1e-3,
        "{:?}",
        r.spec.alignment
    );
    let sface = Pipeline::load().unwrap();
    let means = Pipeline::with_recogniser(store(), r.clone()).unwrap();
    let jobs = Rc::new(RefCell::new(Vec::new()));
    let settings = Settings {
        auto_explain: false,
        ..Settings::default()
    };
    let mut s = Session::new(Box::new(Recorded(jobs.clone())), settings);
    let mut info = ModelInfo::of(&sface);
    info.recognisers.retain(|r| !r.user);
    info.recognisers.push(RecogniserInfo::of(&r));
    s.apply(Event::ModelsReady(Ok(Box::new(info))));

    // The pair, analysed by SFace (the analysis's own model).
    let paths = ["face_recognition/obama.jpg", "face_recognition/obama2.jpg"].map(data);
    s.run(Command::OpenFiles {
        paths: paths.to_vec(),
        target: None,
    });
    for (generation, job) in take(&jobs) {
        if let Job::LoadImage { slot, path, face } = job {
            let result = sface.analyze_file(&path, face).map(Arc::new);
            s.apply(Event::SlotDone {
                generation,
                slot,
                result: result.map_err(|e| e.to_string()),
                quality: None,
            });
        }
    }
    let sf = s.faces().expect("both faces");

    // The user's model enabled: its faces of the pair are 96-pixel crops.
    s.run(Command::SetModels(vec!["means".into()]));
    let (g, faces) = (take(&jobs).into_iter())
        .find_map(|(g, j)| match j {
            Job::ModelFaces { model, faces } if model == "means" => Some((g, faces)),
            _ => None,
        })
        .expect("the user model's faces asked for");
    let mf = faces
        .each_ref()
        .map(|f| Arc::new(means.reanalyze(f).unwrap()));
    assert_eq!(mf[0].aligned.crop.dimensions(), (96, 96));
    s.apply(Event::ModelFaces {
        generation: g,
        result: Ok(mf.clone()),
    });
    let verdict = s.analysis().unwrap().models[1].clone();
    assert_eq!(verdict.id, "means");

    // Face A's right eye painted over while SFace's maps are shown: measured by SFace.
    s.run(Command::WhatIf(WhatIfCmd::SetActive(true)));
    let eye = |f: &FaceAnalysis| f.aligned.transform.apply(f.face().landmarks5[0]);
    s.run(Command::WhatIf(WhatIfCmd::Stroke {
        face: 0,
        points: vec![eye(&sf[0])],
        radius: 8.0,
    }));
    let job = what_if_job(take(&jobs));
    assert_eq!(job.4, None);
    assert_eq!(job.2[0].as_ref().unwrap().dim(), (112, 112));
    assert!(job.2[1].is_none(), "nothing hidden on face B");
    let on_sface = s.whatif.hidden.count(0);

    // The viewer shows the user's model: the same area of the photograph is
    // hidden on its 96-pixel crop and measured again with it.
    s.run(Command::ShowModel(Some("means".into())));
    let sent = take(&jobs);
    let (eg, efaces) = (sent.iter())
        .find_map(|(g, j)| match j {
            Job::Explain { faces, model, .. } if model.as_deref() == Some("means") => {
                Some((*g, faces.clone()))
            }
            _ => None,
        })
        .expect("the user model explained");
    assert!(Arc::ptr_eq(&efaces[0], &mf[0]) && Arc::ptr_eq(&efaces[1], &mf[1]));
    let job = what_if_job(sent);
    assert_eq!(job.4.as_deref(), Some("means"));
    assert!(Arc::ptr_eq(&job.1[0], &mf[0]), "the user model's faces");
    let mask = job.2[0].as_ref().unwrap();
    assert_eq!(mask.dim(), (96, 96));
    let [x, y] = eye(&mf[0]).map(|v| v.round() as usize);
    assert!(mask[[y, x]], "the eye is hidden on the 96-pixel crop too");
    let k = s.whatif.hidden.count(0) as f32 / on_sface as f32;
    assert!(
        (0.4..0.55).contains(&k),
        "{k}: the area scales with the crop, (0.8 × 96/112)² = 0.47"
    );
    assert!(s.what_if_sentence().unwrap().contains("measuring"));
    let sim = measured(&means, &job);
    // The known answer: the filled 96-pixel crop's channel means (B, G, R less 10, 20, 30).
    let crop = face_tensor(&mf[0].aligned.crop);
    let filled = whatif::apply(&crop, mask, &whatif::fill_image(&crop, job.3));
    let m = |c: usize| filled.index_axis(ndarray::Axis(0), c).mean().unwrap();
    let want = cosine(&[m(2) - 10.0, m(1) - 20.0, m(0) - 30.0], &mf[1].embedding);
    assert!((sim - want).abs() < 1e-5, "{sim} against {want}");
    assert_ne!(sim, verdict.similarity, "hiding the eye changes the means");
    s.apply(Event::WhatIfDone {
        generation: job.0,
        result: Ok(sim),
    });
    let sentence = s.what_if_sentence().unwrap();
    assert!(
        sentence.contains(&format!("{:.3} to {sim:.3}", verdict.similarity))
            && sentence.contains(&format!("(threshold {:.3})", verdict.threshold))
            && sentence.ends_with("— means' similarity"),
        "{sentence}"
    );

    // Its maps and regions are on its crops; a region hidden from them is that region there.
    let mut params = ExplainParams::default();
    if let Some(x) = &mut params.xmap {
        x.patch_sizes = vec![28];
        x.stride = 28;
    }
    params.mery = None;
    let fm = FaceMesh::load(&store()).unwrap();
    let ex = explain::explain(
        &means.embedder,
        Some(&fm),
        [&efaces[0], &efaces[1]],
        &params,
        Ctl::none(),
        &mut |_| {},
    )
    .unwrap();
    let nose = ex.regions.as_ref().unwrap()[1].mask(Region::Nose);
    s.apply(Event::Explained {
        generation: eg,
        result: Ok(Arc::new(ex)),
    });
    let shown = s.shown_maps().unwrap();
    let x3 = shown.values(MapChoice::XMap(XMapMethod::III), 0).unwrap();
    assert_eq!(x3.dim(), (96, 96));
    s.run(Command::WhatIf(WhatIfCmd::HideRegion {
        faces: vec![0, 1],
        region: Region::Nose,
    }));
    let job = what_if_job(take(&jobs));
    assert_eq!(job.4.as_deref(), Some("means"));
    assert_eq!(job.2[1].as_ref(), Some(&nose), "face B: its nose exactly");

    // Back to SFace: carried back onto its crops and measured by it.
    s.run(Command::ShowModel(None));
    let job = what_if_job(take(&jobs));
    assert_eq!(job.4, None);
    let mask = job.2[0].as_ref().unwrap();
    assert_eq!(mask.dim(), (112, 112));
    let [x, y] = eye(&sf[0]).map(|v| v.round() as usize);
    assert!(mask[[y, x]]);
    let sim = measured(&sface, &job);
    s.apply(Event::WhatIfDone {
        generation: job.0,
        result: Ok(sim),
    });
    let sentence = s.what_if_sentence().unwrap();
    let own = s.analysis().unwrap().similarity;
    assert!(
        sentence.contains(&format!("{own:.3} to {sim:.3}"))
            && sentence.ends_with("SFace's similarity"),
        "{sentence}"
    );
    // Undo goes back to the eye alone, on SFace's crops.
    s.run(Command::WhatIf(WhatIfCmd::Undo));
    assert_eq!(s.whatif.hidden.count(1), 0);
    assert_eq!(s.whatif.hidden.sides(), [112, 112]);
}
