//! The explorer of the X-Maps paper's platform: every pair of a data set
//! in one table (files, identities, label, each face's quality verdict,
//! similarity, decision, C-Score, PIC-Score, likelihood ratio), sorted,
//! filtered and summarised. No egui:
//! the app and `facexplain explore` both draw on it.
//!
//! The pairs, the embedding cache and the error rates are those of
//! `calibration::fit` (the same functions `eval` runs), so the explorer's
//! counts and EER are `eval`'s. Pairs whose image failed (no face,
//! unreadable) stay in the table, marked with the reason and without a score.

pub mod bench;
mod build;
mod export;
pub mod histogram;
pub mod shard;
pub mod throughput;
mod view;

pub use build::{CHUNK, build_paired};
pub use export::{EXPLORE_SCHEMA, ExploreError};
pub use view::{Column, Filter, Summary, scores_of, sorted_view};

use crate::calibration::Calibration;
use crate::calibration::file::{DatasetInfo, PairInfo, SkippedImage};
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::embedding::EmbeddingCache;
use crate::pipeline::Pipeline;
use crate::progress::Ctl;
use crate::quality::Assessor;
use crate::record::{Decision, Verdict};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The models that open a data set: the pipeline that detects and embeds,
/// and the quality assessor (`None`: no quality verdicts).
#[derive(Clone, Copy)]
pub struct Models<'a> {
    pub pipeline: &'a Pipeline,
    pub quality: Option<&'a Assessor>,
}

impl<'a> From<&'a Pipeline> for Models<'a> {
    /// The pipeline alone: no quality verdicts.
    fn from(pipeline: &'a Pipeline) -> Models<'a> {
        Models {
            pipeline,
            quality: None,
        }
    }
}

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
    /// Quality verdict of each image's face (`None`: not assessed).
    pub quality_a: Option<Verdict>,
    pub quality_b: Option<Verdict>,
    /// Cosine similarity of the two embeddings (`None`: an image failed).
    pub similarity: Option<f64>,
    /// The decision at the table's threshold.
    pub decision: Option<Decision>,
    /// Whether the decision agrees with the label.
    pub correct: Option<bool>,
    /// C-Score of the decision (where a calibration is in use).
    pub c_score: Option<f64>,
    /// PIC-Score: probability of a genuine pair (where a calibration is in use).
    pub pic_score: Option<f64>,
    /// log10 of the likelihood ratio (where the calibration has LR calibrators).
    pub log10_lr: Option<f64>,
    /// The LR's verbal equivalent on the calibration's scale.
    pub verbal: Option<String>,
    /// Why the pair has no score (an image had no face or could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl Row {
    /// The row of a pair of `files` of `identities`, nothing scored yet.
    pub fn unscored(id: usize, files: [String; 2], identities: [String; 2], genuine: bool) -> Row {
        let ([file_a, file_b], [identity_a, identity_b]) = (files, identities);
        Row {
            id,
            file_a,
            file_b,
            identity_a,
            identity_b,
            genuine,
            quality_a: None,
            quality_b: None,
            similarity: None,
            decision: None,
            correct: None,
            c_score: None,
            pic_score: None,
            log10_lr: None,
            verbal: None,
            failed: None,
        }
    }

    /// "genuine" or "impostor".
    pub fn label(&self) -> &'static str {
        if self.genuine { "genuine" } else { "impostor" }
    }

    /// The pair's quality verdict: the worse of its two faces' (as `eval`
    /// groups pairs); `None` unless both were assessed.
    pub fn quality(&self) -> Option<Verdict> {
        Some(self.quality_a?.max(self.quality_b?))
    }

    /// An error at the threshold: a false match or a false non-match.
    pub fn is_error(&self) -> bool {
        self.correct == Some(false)
    }

    /// The likelihood ratio and its words from the calibration (they do
    /// not depend on the threshold).
    fn evidence(&mut self, cal: Option<&Calibration>) {
        let (Some(c), Some(s)) = (cal, self.similarity) else {
            return;
        };
        let e = c.evidence(s as f32);
        self.log10_lr = e.as_ref().map(|e| e.log10_lr);
        self.verbal = e.map(|e| e.verbal);
    }

    /// Decide the pair at `threshold`, with C-Score and PIC-Score.
    pub fn decide(&mut self, threshold: f64, cal: Option<&Calibration>) {
        let Some(s) = self.similarity else {
            return;
        };
        let d = if s >= threshold {
            Decision::Match
        } else {
            Decision::NonMatch
        };
        self.decision = Some(d);
        self.correct = Some((d == Decision::Match) == self.genuine);
        if let Some(c) = cal {
            // As `Calibration::confidence` scores an analysis: at f32 precision.
            let scores = c.file.fitted.scores(s as f32 as f64, d);
            self.c_score = Some(scores.c_score);
            self.pic_score = Some(scores.pic_score);
        }
    }

    /// A scored row, evidence and decision filled in.
    pub fn scored(mut self, threshold: Option<f64>, cal: Option<&Calibration>) -> Row {
        self.evidence(cal);
        if let Some(t) = threshold {
            self.decide(t, cal);
        }
        self
    }
}

/// The table of a data set's pairs and how it was made.
#[derive(Clone, Debug)]
pub struct Table {
    /// The data set folder (row files are relative to it).
    pub root: PathBuf,
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
    /// Images whose embedding (or "no face") came from the cache.
    pub cache_hits: usize,
    /// Images whose embedding (or "no face") came from embeddings files.
    pub from_files: usize,
    /// Images that ran the models (not in the cache, or edited since).
    pub computed: usize,
    /// The thresholds that decided the quality verdicts (`None`: not assessed).
    pub quality: Option<String>,
    /// Images with a face whose quality could not be assessed, and why.
    pub quality_failed: Vec<SkippedImage>,
}

impl Table {
    /// Scan and embed the data set (cached; with `models.quality`, each
    /// face's quality verdict too), form its pairs as `calibrate`
    /// and `eval` do, and score every pair. `threshold` overrides the
    /// calibration's; without either, the data set's EER threshold is used.
    pub fn build(
        models: Models<'_>,
        dir: &Path,
        opts: &CollectOptions,
        calibration: Option<Calibration>,
        threshold: Option<f64>,
        ctl: Ctl,
    ) -> Result<Table, ExploreError> {
        Table::build_streaming(models, dir, opts, calibration, threshold, ctl, &mut |_| {})
    }

    /// As [`Table::build`], handing the rows to `on_rows` as their images are
    /// embedded (a preview, in arrival order, with provisional ids; decided
    /// at the given or the calibration's threshold). The returned table is
    /// the final one, in pair order.
    pub fn build_streaming(
        models: Models<'_>,
        dir: &Path,
        opts: &CollectOptions,
        calibration: Option<Calibration>,
        threshold: Option<f64>,
        ctl: Ctl,
        on_rows: &mut dyn FnMut(Vec<Row>),
    ) -> Result<Table, ExploreError> {
        let preview_t = threshold.or(calibration.as_ref().map(|c| c.threshold() as f64));
        let cal = calibration.as_ref();
        let mut emit =
            |rows: Vec<Row>| on_rows(rows.into_iter().map(|r| r.scored(preview_t, cal)).collect());
        let p = build_paired(models, dir, opts, ctl, &mut emit)?;
        let rows = build::rows_of(&p);
        let mut table = Table {
            root: p.paired.dataset.root.clone(),
            dataset: p.paired.dataset_info(),
            pairs: p.paired.info.clone(),
            threshold: 0.0,
            threshold_source: String::new(),
            cache_hits: p.paired.embedded.cache_hits,
            from_files: p.paired.embedded.from_files,
            computed: p.wanted.len() - p.paired.embedded.cache_hits - p.paired.embedded.from_files,
            quality: models.quality.map(|a| a.thresholds.identity.clone()),
            quality_failed: p.paired.embedded.quality_failed.clone(),
            rows: rows.into_iter().map(|r| r.scored(None, cal)).collect(),
            calibration,
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

    /// What the app opens: `dir` (with `pairs`, a pairs list) through the
    /// pipeline's embedding cache, each image's quality judged when
    /// `models` has an assessor, with the model's built-in calibration if
    /// it has one, impostors sampled above `max_impostors` with `seed`.
    pub fn open(
        models: Models<'_>,
        dir: &Path,
        pairs: Option<PathBuf>,
        max_impostors: usize,
        seed: u64,
        ctl: Ctl,
        on_rows: &mut dyn FnMut(Vec<Row>),
    ) -> Result<Table, ExploreError> {
        let opts = CollectOptions {
            pairs_file: pairs,
            max_impostors,
            seed,
            cache: EmbeddingCache::for_pipeline(models.pipeline),
            files: None,
        };
        let calibration = Calibration::default_for(&models.pipeline.model).ok();
        Table::build_streaming(models, dir, &opts, calibration, None, ctl, on_rows)
    }

    /// Decide every pair at `threshold` (a view setting: similarities and
    /// LRs do not change) and recompute C-Score and PIC-Score.
    pub fn set_threshold(&mut self, threshold: f64, source: String) {
        self.threshold = threshold;
        self.threshold_source = source;
        let cal = self.calibration.as_ref();
        for r in &mut self.rows {
            r.decide(threshold, cal);
        }
    }

    /// The two image files of a row.
    pub fn files(&self, r: &Row) -> [PathBuf; 2] {
        [self.root.join(&r.file_a), self.root.join(&r.file_b)]
    }
}
