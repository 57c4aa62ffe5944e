//! The analysis of a pair as the CLI and the app both make it: the
//! pipeline's comparison plus the threshold, confidences and likelihood
//! ratio a calibration gives; one recogniser's verdict on a similarity
//! ([`judge`]), which the side-by-side of several models is made of.

use super::Calibration;
use crate::pipeline::{FaceAnalysis, Pipeline, embed::cosine};
use crate::record::{Analysis, Decision, ModelRef, ModelVerdict};

/// The threshold in force and where it comes from: `threshold_override`,
/// else the calibration's, else the model manifest's `default`.
pub fn threshold_for(
    calibration: Option<&Calibration>,
    default: f32,
    threshold_override: Option<f32>,
) -> (f32, String) {
    match (threshold_override, calibration) {
        (Some(t), _) => (t, "user override".to_string()),
        (None, Some(c)) => (c.threshold(), c.threshold_source()),
        (None, None) => (default, "model manifest default".to_string()),
    }
}

/// One recogniser's verdict on `similarity`: threshold ([`threshold_for`]),
/// decision, and the calibrated confidences and likelihood ratio.
pub fn judge(
    id: &str,
    model: ModelRef,
    similarity: f32,
    calibration: Option<&Calibration>,
    default_threshold: f32,
    threshold_override: Option<f32>,
) -> ModelVerdict {
    let (threshold, threshold_source) =
        threshold_for(calibration, default_threshold, threshold_override);
    let decision = Decision::at(similarity, threshold);
    ModelVerdict {
        id: id.into(),
        model,
        similarity,
        threshold,
        threshold_source,
        decision,
        confidence: calibration.map(|c| c.confidence(similarity, decision)),
        evidence: calibration.and_then(|c| c.evidence(similarity)),
    }
}

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
        let v = judge(
            pipeline.recogniser.id(),
            pipeline.model.clone(),
            cosine(&a.embedding, &b.embedding),
            calibration,
            pipeline.default_threshold,
            threshold_override,
        );
        Analysis::of_verdict(v, a, b)
    }

    /// The record of a comparison judged by [`judge`].
    pub fn of_verdict(v: ModelVerdict, a: &FaceAnalysis, b: &FaceAnalysis) -> Analysis {
        let mut analysis = Analysis::new(
            v.model,
            a,
            b,
            v.similarity,
            v.threshold,
            &v.threshold_source,
        );
        analysis.confidence = v.confidence;
        analysis.evidence = v.evidence;
        analysis
    }
}
