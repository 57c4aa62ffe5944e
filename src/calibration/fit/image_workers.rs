//! Each image's result, from the embeddings files, the cache or computed,
//! with one worker thread per embedder lane ([`crate::pipeline::ImageWorker`]:
//! its own single-threaded detector, FaceMesh and embedder lane), so on two
//! cores two images are loaded, detected, embedded and assessed side by
//! side and no session's threads wait for another's. Results are handed on
//! in the data set's order, whichever worker finished first, and a worker's
//! numbers are the pipeline's bit for bit, so nothing depends on timing.

use super::FitError;
use super::dataset::Dataset;
use super::embedding::{Origin, Sources};
use crate::pipeline::{ImageWorker, Pipeline, PipelineError};
use crate::progress::Ctl;
use crate::quality::{Assessor, QualityError};
use crate::record::embeddings::{Embedding, ImageResult};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// The stage name of the progress events.
const STAGE: &str = "embedding faces";

/// One image's result and where it came from, or a model failure.
type Outcome = Result<(ImageResult, Origin), FitError>;

/// `on_image(i, result, origin)` for every image `i` of `wanted`, in order
/// (with `assessor`, each face's quality judged too). The embeddings files
/// of `sources` are asked first: an image they do not hold is refused
/// unless they allow embedding it ([`super::embedding_files::EmbeddingFiles::check`]).
/// Cancel is looked at after every image.
pub fn for_each_image(
    pipeline: &Pipeline,
    dataset: &Dataset,
    wanted: &BTreeSet<usize>,
    sources: Sources<'_>,
    assessor: Option<&Assessor>,
    ctl: Ctl,
    on_image: &mut dyn FnMut(usize, &ImageResult, Origin),
) -> Result<(), FitError> {
    let thresholds = assessor.map(|a| a.thresholds.identity.as_str());
    if let Some(f) = sources.files {
        f.check(dataset, wanted, thresholds)?;
    }
    let order: Vec<usize> = wanted.iter().copied().collect();
    let total = order.len();
    ctl.report(STAGE, 0, total);
    let workers = pipeline.worker_count().min(total);
    let (next, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let job = Job {
        pipeline,
        dataset,
        sources,
        assessor,
        thresholds,
    };
    std::thread::scope(|scope| {
        for lane in 0..workers {
            let (tx, next, stop, order, job) = (tx.clone(), &next, &stop, &order, &job);
            scope.spawn(move || {
                let mut worker = None;
                while !stop.load(Ordering::Relaxed) {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let outcome = job.resolve(i, lane, &mut worker);
                    let failed = outcome.is_err();
                    if tx.send((k, outcome)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results that came before their turn wait here.
        let mut early: HashMap<usize, (ImageResult, Origin)> = HashMap::new();
        let mut done = 0;
        let mut result = Ok(());
        for (k, outcome) in &rx {
            match outcome {
                Ok(r) => early.insert(k, r),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            while let Some((r, o)) = early.remove(&done) {
                on_image(order[done], &r, o);
                done += 1;
            }
            ctl.report(STAGE, done, total);
            if let Err(c) = ctl.check() {
                result = Err(c.into());
                break;
            }
        }
        // The workers finish the image in hand and stop.
        stop.store(true, Ordering::Relaxed);
        result
    })
}

/// What every worker shares.
struct Job<'a> {
    pipeline: &'a Pipeline,
    dataset: &'a Dataset,
    sources: Sources<'a>,
    assessor: Option<&'a Assessor>,
    thresholds: Option<&'a str>,
}

/// A worker's own sessions, made when it first has an image to compute.
struct Worker<'p> {
    image: ImageWorker<'p>,
    /// Its own FaceMesh (`None`: the shared assessor's, for a single worker).
    assessor: Option<Assessor>,
}

impl<'a> Job<'a> {
    /// Image `i`'s result: from the files, the cache, or computed by the
    /// worker of lane `lane` (made on first use) and then cached.
    fn resolve(&self, i: usize, lane: usize, worker: &mut Option<Worker<'a>>) -> Outcome {
        let im = &self.dataset.images[i];
        if let Some(r) = self.sources.files.and_then(|f| f.get(&im.rel, &im.sha256)) {
            return Ok((r.clone(), Origin::File));
        }
        let cached = self.sources.cache.get(&im.sha256);
        if let Some(r) = cached.filter(|r| r.serves(self.thresholds)) {
            return Ok((r, Origin::Cache));
        }
        let w = match worker {
            Some(w) => w,
            None => worker.insert(self.worker(lane)?),
        };
        let (r, keep) = compute(&w.image, w.assessor.as_ref().or(self.assessor), &im.path)?;
        if keep {
            self.sources.cache.put(&im.sha256, &r);
        }
        Ok((r, Origin::Computed))
    }

    fn worker(&self, lane: usize) -> Result<Worker<'a>, FitError> {
        let image = self.pipeline.worker(lane)?;
        let assessor = match (self.assessor, image.owns_sessions()) {
            (Some(a), true) => Some(a.for_worker(&self.pipeline.store, image.threads())?),
            _ => None,
        };
        Ok(Worker { image, assessor })
    }
}

/// The message of a bad-input error without the absolute path in front.
fn reason_for(e: &dyn std::fmt::Display, path: &Path) -> String {
    let msg = e.to_string();
    msg.strip_prefix(&format!("{}: ", path.display()))
        .map(str::to_string)
        .unwrap_or(msg)
}

/// Load, detect, embed the largest face and, with `assessor`, judge its
/// quality as the viewer does (`Assessor::assess` of the analysis); and
/// whether to cache the result (an image without a face is remembered, an
/// unreadable one is read again next time, cheaply). A model failure is an
/// error; an image at fault is a result saying why.
fn compute(
    worker: &ImageWorker,
    assessor: Option<&Assessor>,
    path: &Path,
) -> Result<(ImageResult, bool), FitError> {
    let fa = match worker.analyze_file(path) {
        Ok(fa) => fa,
        Err(e) if e.is_bad_input() => {
            let keep = matches!(e, PipelineError::NoFace { .. });
            return Ok((ImageResult::failed(0, reason_for(&e, path)), keep));
        }
        Err(e) => return Err(e.into()),
    };
    let (quality, quality_failed) = match assessor.map(|a| a.assess(&fa)) {
        None => (None, None),
        Some(Ok(q)) => (Some(q), None),
        Some(Err(QualityError::Pipeline(e))) if !e.is_bad_input() => return Err(e.into()),
        Some(Err(e)) => (None, Some(reason_for(&e, path))),
    };
    let face = Some(fa.face().clone());
    let r = ImageResult {
        faces_found: fa.faces.len(),
        face_index: fa.chosen,
        face,
        embedding: Some(Embedding(fa.embedding)),
        quality,
        quality_failed,
        failed: None,
    };
    Ok((r, true))
}
