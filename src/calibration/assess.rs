//! The analysis of a pair as the CLI and the app both make it: the
//! pipeline's comparison plus the threshold, confidences and likelihood
//! ratio a calibration gives.

use super::Calibration;
use crate::pipeline::{FaceAnalysis, Pipeline};
use crate::record::Analysis;

impl Analysis {
    /// The analysis of two analysed faces: similarity; threshold from
    /// `threshold_override`, else the calibration, else the model manifest's
    /// default; decision; calibrated confidences.
    pub fn of_pair(
        pipeline: &Pipeline,
        calibration: Option<&Calibration>,
        a: &FaceAnalysis,
        b: &FaceAnalysis,
        threshold_override: Option<f32>,
    ) -> Analysis {
        let (threshold, source) = match (threshold_override, calibration) {
            (Some(t), _) => (t, "user override".to_string()),
            (None, Some(c)) => (c.threshold(), c.threshold_source()),
            (None, None) => (
                pipeline.default_threshold,
                "model manifest default".to_string(),
            ),
        };
        let cmp = pipeline.compare(a, b, threshold);
        let mut analysis = Analysis::new(
            pipeline.model.clone(),
            a,
            b,
            cmp.similarity,
            threshold,
            &source,
        );
        analysis.confidence = calibration.map(|c| c.confidence(cmp.similarity, cmp.decision));
        analysis.evidence = calibration.and_then(|c| c.evidence(cmp.similarity));
        analysis
    }
}
