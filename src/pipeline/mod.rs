//! The verification pipeline: load → detect → align → embed → compare
//! No UI; long work takes a [`crate::progress::Ctl`].
//! May call: `record`, `progress`, `resources` (nothing above it).

pub mod align;

pub mod compare;
pub mod detect;
pub mod embed;
pub mod error;
pub mod facemesh;
pub mod load;
pub mod recogniser;
pub mod runtime;
pub mod worker;

pub use align::{AlignedFace, CROP};
pub use compare::{Comparison, Decision};
pub use detect::{Detector, Face};
pub use embed::Embedder;
pub use error::{PipelineError, Result};
pub use load::{LoadedImage, load_image};
pub use recogniser::Recogniser;
pub use worker::ImageWorker;

use crate::resources::ModelStore;
use std::path::Path;

/// Version of the load → detect → align → embed recipe. Bump it whenever a
/// change alters the embedding of any image, so caches keyed on it are renewed.
pub const RECIPE_VERSION: u32 = 3;

/// A loaded image with every face found in it (largest first).
#[derive(Clone, Debug)]
pub struct DetectedImage {
    pub image: LoadedImage,
    pub faces: Vec<Face>,
}

/// One chosen face of an image: aligned crop and embedding.
#[derive(Clone, Debug)]
pub struct FaceAnalysis {
    pub image: LoadedImage,
    pub faces: Vec<Face>,
    /// Index into `faces` of the face used.
    pub chosen: usize,
    pub aligned: AlignedFace,
    /// L2-normalised embedding.
    pub embedding: Vec<f32>,
}

impl FaceAnalysis {
    pub fn face(&self) -> &Face {
        &self.faces[self.chosen]
    }
}

pub use crate::record::ModelRef;

/// The loaded detector and embedder with their identities.
pub struct Pipeline {
    pub store: ModelStore,
    pub detector: Detector,
    pub embedder: Embedder,
    /// The recogniser's identity (name and SHA-256 of the file loaded).
    pub model: ModelRef,
    /// Threshold from the manifest, used when no calibration gives one.
    pub default_threshold: f32,
    /// The recogniser the embedder runs, as its manifest describes it.
    pub recogniser: Recogniser,
}

impl Pipeline {
    /// Load the models from the first models folder of the search order.
    pub fn load() -> Result<Pipeline> {
        Self::load_from(ModelStore::locate()?)
    }

    pub fn load_from(store: ModelStore) -> Result<Pipeline> {
        let recogniser = Recogniser::in_store(&store, recogniser::DEFAULT_RECOGNISER)?;
        Self::with_recogniser(store, recogniser)
    }

    /// Load the detector and the recogniser called `name` (shipped or the user's).
    pub fn load_model(name: &str) -> Result<Pipeline> {
        let store = ModelStore::locate()?;
        let recogniser = Recogniser::find(&store, name)?;
        Self::with_recogniser(store, recogniser)
    }

    /// The detector of `store` with `recogniser`'s embedder.
    pub fn with_recogniser(store: ModelStore, recogniser: Recogniser) -> Result<Pipeline> {
        let detector = Detector::load(&store)?;
        let embedder = Embedder::for_recogniser(
            &recogniser,
            embed::Lanes::auto(),
            runtime::DEFAULT_OPT_LEVEL,
        )?;
        Ok(Pipeline {
            store,
            detector,
            embedder,
            model: recogniser.model_ref(),
            default_threshold: recogniser.default_threshold(),
            recogniser,
        })
    }

    /// Align a face of `image` as this pipeline's recogniser expects.
    pub fn align(&self, image: &LoadedImage, face: &Face) -> AlignedFace {
        let s = &self.recogniser.spec;
        align::align_to(&image.rgb, &face.landmarks5, &s.alignment, s.input_size)
    }

    /// Load an image and find its faces; no face is an error naming the file.
    pub fn detect_file(&self, path: &Path) -> Result<DetectedImage> {
        let image = load_image(path)?;
        self.detect_image(image)
    }

    pub fn detect_image(&self, image: LoadedImage) -> Result<DetectedImage> {
        let faces = self.detector.detect_in(&image)?;
        Ok(DetectedImage { image, faces })
    }

    /// Align and embed face `index` (default: the largest) of a detected image.
    pub fn analyze(&self, detected: DetectedImage, index: Option<usize>) -> Result<FaceAnalysis> {
        self.analyze_on(detected, index, 0)
    }

    /// As [`Pipeline::analyze`], the face embedded on embedder lane `lane`.
    fn analyze_on(
        &self,
        detected: DetectedImage,
        index: Option<usize>,
        lane: usize,
    ) -> Result<FaceAnalysis> {
        let chosen = index.unwrap_or(0);
        if chosen >= detected.faces.len() {
            return Err(PipelineError::FaceIndex {
                path: detected.image.path.clone(),
                index: chosen,
                found: detected.faces.len(),
            });
        }
        let aligned = self.align(&detected.image, &detected.faces[chosen]);
        let embedding = self
            .embedder
            .embed_on_lane(lane, &[&aligned.crop])?
            .row(0)
            .to_vec();
        Ok(FaceAnalysis {
            image: detected.image,
            faces: detected.faces,
            chosen,
            aligned,
            embedding,
        })
    }

    /// The face `f` (detected already, maybe by another pipeline) aligned
    /// and embedded by this pipeline's recogniser.
    pub fn reanalyze(&self, f: &FaceAnalysis) -> Result<FaceAnalysis> {
        let detected = DetectedImage {
            image: f.image.clone(),
            faces: f.faces.clone(),
        };
        self.analyze(detected, Some(f.chosen))
    }

    /// Load, detect, align and embed one file.
    pub fn analyze_file(&self, path: &Path, index: Option<usize>) -> Result<FaceAnalysis> {
        self.analyze(self.detect_file(path)?, index)
    }

    /// Compare two analysed faces at `threshold`.
    pub fn compare(&self, a: &FaceAnalysis, b: &FaceAnalysis, threshold: f32) -> Comparison {
        Comparison::new(embed::cosine(&a.embedding, &b.embedding), threshold)
    }
}

impl crate::record::ImageRecord {
    /// The record of one analysed image and the face used from it.
    pub fn from_face(f: &FaceAnalysis) -> crate::record::ImageRecord {
        crate::record::ImageRecord {
            path: f.image.path.display().to_string(),
            sha256: f.image.sha256.clone(),
            width: f.image.width(),
            height: f.image.height(),
            file_size: f.image.file_size,
            faces_found: f.faces.len(),
            face_index: f.chosen,
            face: f.face().clone(),
            quality: None,
        }
    }
}

impl crate::record::Analysis {
    /// The record of a basic comparison of two analysed faces.
    pub fn new(
        model: ModelRef,
        a: &FaceAnalysis,
        b: &FaceAnalysis,
        similarity: f32,
        threshold: f32,
        threshold_source: &str,
    ) -> crate::record::Analysis {
        use crate::record::{Analysis, ImageRecord};
        Analysis::from_parts(
            model,
            [ImageRecord::from_face(a), ImageRecord::from_face(b)],
            similarity,
            threshold,
            threshold_source,
        )
    }
}
