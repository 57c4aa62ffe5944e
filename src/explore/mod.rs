//! The explorer of the X-Maps paper's platform: every pair of a data set
//! in one table (files, identities, label, similarity, decision, C-Score,
//! PIC-Score, likelihood ratio), sorted, filtered and summarised. No egui:
//! the app and `facexplain explore` both draw on it.
//!
//! The pairs, the embedding cache and the error rates are those of
//! `calibration::fit` (the same functions `eval` runs), so the explorer's
//! counts and EER are `eval`'s.

mod export;
mod view;

pub use export::{EXPLORE_SCHEMA, ExploreError};
pub use view::{Column, Filter, Summary};

use crate::calibration::Calibration;
use crate::calibration::file::{DatasetInfo, PairInfo};
use crate::calibration::fit::calibrate::{CollectOptions, pair_up};
use crate::calibration::fit::pairs::pair_score;
use crate::pipeline::Pipeline;
use crate::progress::Ctl;
use crate::record::Decision;
use serde::Serialize;
use std::path::Path;

/// One pair of the data set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Position of the pair in the data set's pair order (stable across sorts).
    pub id: usize,
    pub file_a: String,
    pub file_b: String,
    pub identity_a: String,
    pub identity_b: String,
    /// True for a genuine (same identity) pair.
    pub genuine: bool,
    /// Cosine similarity of the two embeddings.
    pub similarity: f64,
    /// The decision at the table's threshold.
    pub decision: Decision,
    /// Whether the decision agrees with the label.
    pub correct: bool,
    /// C-Score of the decision (where a calibration is in use).
    pub c_score: Option<f64>,
    /// PIC-Score: probability of a genuine pair (where a calibration is in use).
    pub pic_score: Option<f64>,
    /// log10 of the likelihood ratio (where the calibration has LR calibrators).
    pub log10_lr: Option<f64>,
    /// The LR's verbal equivalent on the calibration's scale.
    pub verbal: Option<String>,
}

impl Row {
    /// "genuine" or "impostor".
    pub fn label(&self) -> &'static str {
        if self.genuine { "genuine" } else { "impostor" }
    }
}

/// The table of a data set's pairs and how it was made.
#[derive(Clone, Debug)]
pub struct Table {
    pub dataset: DatasetInfo,
    /// How the pairs were formed (all, seeded impostor sample, pairs list).
    pub pairs: PairInfo,
    /// The decision threshold on cosine similarity the rows use.
    pub threshold: f64,
    /// Where the threshold came from.
    pub threshold_source: String,
    /// The calibration behind C-Score, PIC-Score and LR, if any.
    pub calibration: Option<Calibration>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Scan and embed the data set (cached), form its pairs as `calibrate`
    /// and `eval` do, and score every pair. `threshold` overrides the
    /// calibration's; without either, the data set's EER threshold is used.
    pub fn build(
        pipeline: &Pipeline,
        dir: &Path,
        opts: &CollectOptions,
        calibration: Option<Calibration>,
        threshold: Option<f64>,
        ctl: Ctl,
    ) -> Result<Table, ExploreError> {
        let p = pair_up(pipeline, dir, opts, ctl)?;
        let name = |i: usize| p.dataset.images[i].rel.clone();
        let identity = |i: usize| p.dataset.identities[p.dataset.images[i].identity].clone();
        let rows: Vec<Row> = p
            .pairs
            .iter()
            .enumerate()
            .filter_map(|(id, pair)| {
                Some(Row {
                    id,
                    file_a: name(pair.a),
                    file_b: name(pair.b),
                    identity_a: identity(pair.a),
                    identity_b: identity(pair.b),
                    genuine: pair.genuine,
                    similarity: pair_score(pair, &p.embedded)?,
                    decision: Decision::NonMatch,
                    correct: false,
                    c_score: None,
                    pic_score: None,
                    log10_lr: None,
                    verbal: None,
                })
            })
            .collect();
        let mut table = Table {
            dataset: p.dataset_info(),
            pairs: p.info,
            threshold: 0.0,
            threshold_source: String::new(),
            calibration,
            rows,
        };
        let (t, source) = match (threshold, &table.calibration) {
            (Some(t), _) => (t, "--threshold".to_string()),
            (None, Some(c)) => (c.threshold() as f64, c.threshold_source()),
            (None, None) => match table.scores().eer() {
                Some(e) => (e.at.threshold, "EER threshold of this data set".into()),
                None => (0.5, "no calibration and no EER: fixed 0.5".into()),
            },
        };
        table.set_threshold(t, source);
        Ok(table)
    }

    /// Decide every pair at `threshold` (a view setting: similarities and
    /// LRs do not change) and recompute C-Score and PIC-Score.
    pub fn set_threshold(&mut self, threshold: f64, source: String) {
        self.threshold = threshold;
        self.threshold_source = source;
        let cal = self.calibration.as_ref();
        for r in &mut self.rows {
            r.decision = if r.similarity >= threshold {
                Decision::Match
            } else {
                Decision::NonMatch
            };
            r.correct = (r.decision == Decision::Match) == r.genuine;
            if let Some(c) = cal {
                let conf = c.confidence(r.similarity as f32, r.decision);
                r.c_score = Some(conf.c_score);
                r.pic_score = Some(conf.pic_score);
                let e = c.evidence(r.similarity as f32);
                r.log10_lr = e.as_ref().map(|e| e.log10_lr);
                r.verbal = e.map(|e| e.verbal);
            }
        }
    }
}
