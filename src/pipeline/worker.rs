//! Images analysed side by side: one worker per embedder lane, each with a
//! single-threaded detector of its own and its own lane of the embedder, so
//! two workers on two cores never wait on each other's sessions (the
//! pipeline's own detector runs one image on every core's thread instead).
//! A worker's analysis is the pipeline's bit for bit: ONNX Runtime's CPU
//! kernels share a node's outputs out among the threads, each output summed
//! in the same order whatever the thread count (`tests/explore_parallel.rs`
//! checks it on ORL faces, for YuNet, SFace and FaceMesh).

use super::error::Result;
use super::{DetectedImage, Detector, FaceAnalysis, Pipeline, load_image};
use std::path::Path;

/// One of the workers of [`Pipeline::worker`].
pub struct ImageWorker<'p> {
    pipeline: &'p Pipeline,
    /// Its own detector (`None`: the only worker, which uses the pipeline's).
    detector: Option<Detector>,
    /// The embedder lane it runs its faces on.
    pub lane: usize,
}

impl Pipeline {
    /// How many images can be analysed side by side: one per embedder lane
    /// (`FACEXPLAIN_LANES` sets how many).
    pub fn worker_count(&self) -> usize {
        self.embedder.lanes().max(1)
    }

    /// The worker of embedder lane `lane`: with several, its own detector
    /// with as many threads as a lane has; the only worker uses the
    /// pipeline's own detector, as [`Pipeline::analyze_file`] does.
    pub fn worker(&self, lane: usize) -> Result<ImageWorker<'_>> {
        let detector = match self.worker_count() {
            1 => None,
            _ => Some(Detector::load_threads(
                &self.store,
                self.embedder.lane_threads(),
            )?),
        };
        Ok(ImageWorker {
            pipeline: self,
            detector,
            lane: lane.min(self.worker_count() - 1),
        })
    }
}

impl ImageWorker<'_> {
    /// Load, detect, align and embed the largest face of one file, as
    /// [`Pipeline::analyze_file`] does.
    pub fn analyze_file(&self, path: &Path) -> Result<FaceAnalysis> {
        let p = self.pipeline;
        let image = load_image(path)?;
        let detector = self.detector.as_ref().unwrap_or(&p.detector);
        let detected = DetectedImage {
            faces: detector.detect_in(&image)?,
            image,
        };
        p.analyze_on(detected, None, self.lane)
    }

    /// Whether the worker has sessions of its own (it is one of several):
    /// then other models it runs beside them need their own too.
    pub fn owns_sessions(&self) -> bool {
        self.detector.is_some()
    }

    /// How many threads this worker's sessions run (1 unless it is the only worker).
    pub fn threads(&self) -> usize {
        match self.detector {
            Some(_) => self.pipeline.embedder.lane_threads(),
            None => super::runtime::cores(),
        }
    }
}
