//! The fitness for comparison of each image of a dataset (its largest face,
//! the one the embedding uses), for `eval`'s error rates per quality verdict.
//! One image at a time, so the verdicts never depend on batching.

use super::FitError;
use super::dataset::Dataset;
use crate::calibration::file::SkippedImage;
use crate::pipeline::{Pipeline, load};
use crate::progress::Ctl;
use crate::quality::{Assessor, QualityError};
use crate::record::Verdict;
use std::collections::BTreeSet;

/// The verdict of each dataset image (`None`: not wanted, or not assessable).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageVerdicts {
    pub verdicts: Vec<Option<Verdict>>,
    /// Wanted images whose face could not be assessed, and why.
    pub failed: Vec<SkippedImage>,
    /// The thresholds file that decided the verdicts (name and SHA-256).
    pub thresholds: String,
}

impl ImageVerdicts {
    /// How many images got each verdict.
    pub fn count(&self, v: Verdict) -> usize {
        self.verdicts.iter().filter(|x| **x == Some(v)).count()
    }
}

/// Detect the largest face of each image in `wanted` (indices into the
/// dataset) and judge its quality. Bad input (no face, unreadable) leaves
/// the image unassessed and listed; a model failure aborts.
pub fn assess_images(
    pipeline: &Pipeline,
    assessor: &Assessor,
    dataset: &Dataset,
    wanted: &BTreeSet<usize>,
    ctl: Ctl,
) -> Result<ImageVerdicts, FitError> {
    let mut out = ImageVerdicts {
        verdicts: vec![None; dataset.images.len()],
        failed: Vec::new(),
        thresholds: assessor.thresholds.identity.clone(),
    };
    let stage = "assessing image quality";
    for (n, &i) in wanted.iter().enumerate() {
        ctl.check()?;
        ctl.report(stage, n, wanted.len());
        let im = &dataset.images[i];
        let result = load::load_image(&im.path)
            .and_then(|l| pipeline.detect_image(l))
            .map_err(QualityError::from)
            .and_then(|d| match d.faces.first() {
                Some(face) => assessor.assess_face(&d.image.rgb, face),
                None => Err(crate::pipeline::PipelineError::NoFace {
                    path: im.path.clone(),
                    hint: String::new(),
                }
                .into()),
            });
        match result {
            Ok(q) => out.verdicts[i] = Some(q.verdict),
            Err(QualityError::Pipeline(e)) if !e.is_bad_input() => return Err(e.into()),
            Err(e) => out.failed.push(SkippedImage {
                path: im.rel.clone(),
                reason: e.to_string(),
            }),
        }
    }
    ctl.report(stage, wanted.len(), wanted.len());
    Ok(out)
}
