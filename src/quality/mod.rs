//! Fitness for comparison: the initial assessment of each face (ENFSI
//! best-practice manual for facial image comparison), with measures after
//! ISO/IEC 29794-5 (face image quality) as BSI's OFIQ names them, a verdict
//! fit / limited / unfit and the reasons in words.
//! May call: `record`, `resources`, `pipeline`, `progress` (nothing above it).

pub mod measures;
pub mod verdict;

pub use measures::{RawMeasures, measure};
pub use verdict::{Thresholds, judge};

use crate::pipeline::align::{AlignedFace, align};
use crate::pipeline::facemesh::{FaceMesh, Mesh};
use crate::pipeline::{FaceAnalysis, PipelineError};
use crate::record::{Face, FaceQuality};
use crate::resources::ModelStore;
use image::RgbImage;
use std::path::PathBuf;

/// Errors of the quality layer.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    #[error("quality thresholds {path}: {reason}")]
    Thresholds { path: PathBuf, reason: String },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl QualityError {
    /// True when the user's input is at fault (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            QualityError::Thresholds { .. } => true,
            QualityError::Pipeline(p) => p.is_bad_input(),
        }
    }
}

/// FaceMesh plus the thresholds: assesses analysed faces.
pub struct Assessor {
    pub facemesh: FaceMesh,
    pub thresholds: Thresholds,
}

impl Assessor {
    pub fn load(store: &ModelStore, thresholds: Thresholds) -> Result<Assessor, QualityError> {
        Ok(Assessor {
            facemesh: FaceMesh::load(store)?,
            thresholds,
        })
    }

    /// The same assessor with a FaceMesh session of its own of `threads`
    /// threads, for a worker that assesses faces beside others
    /// ([`crate::pipeline::ImageWorker`]); its verdicts are this one's.
    pub fn for_worker(
        &self,
        store: &ModelStore,
        threads: usize,
    ) -> Result<Assessor, PipelineError> {
        Ok(Assessor {
            facemesh: FaceMesh::load_threads(store, threads)?,
            thresholds: self.thresholds.clone(),
        })
    }

    /// Raw measures and FaceMesh landmarks of `face` in `img`, aligned as `aligned`.
    pub fn measure(
        &self,
        img: &RgbImage,
        face: &Face,
        aligned: &AlignedFace,
    ) -> Result<(RawMeasures, Mesh), QualityError> {
        let mesh = self.facemesh.landmarks(img, face, &aligned.transform)?;
        Ok((measure(img, face, aligned, &mesh), mesh))
    }

    /// The quality record of `face` in `img` (aligns it, runs FaceMesh once).
    pub fn assess_face(&self, img: &RgbImage, face: &Face) -> Result<FaceQuality, QualityError> {
        let aligned = align(img, &face.landmarks5);
        let (raw, _) = self.measure(img, face, &aligned)?;
        Ok(judge(&raw, &self.thresholds))
    }

    /// The quality record of the chosen face of an analysed image.
    pub fn assess(&self, f: &FaceAnalysis) -> Result<FaceQuality, QualityError> {
        let (raw, _) = self.measure(&f.image.rgb, f.face(), &f.aligned)?;
        Ok(judge(&raw, &self.thresholds))
    }
}
