//! From scores to a fitted calibration (threshold, C-Score sigmoid, PIC
//! densities), and from a labelled dataset to those scores and the
//! calibration file `facexplain calibrate` writes.

use super::FitError;
use super::cscore;
use super::dataset::{Dataset, Pair, PairList, read_pairs};
use super::embedding::{Embedded, EmbeddingCache, Sources, embed_images};
use super::embedding_files::EmbeddingFiles;
use super::lr_fit::fit_lr_model;
use super::metrics::ScoreSet;
use super::pairs::{all_pairs, images_of, listed_pairs, pair_score, score_pairs};
use crate::calibration::file::SkippedImage;
use crate::calibration::file::{DatasetInfo, PairInfo, PairsFileInfo, Tool};
use crate::calibration::pic::PicModel;
use crate::calibration::{
    CALIBRATION_SCHEMA, CScoreModel, CalibrationError, CalibrationFile, Fitted, Result, Threshold,
};
use crate::pipeline::Pipeline;
use crate::progress::Ctl;
use crate::quality::Assessor;
use crate::record::{DataSetRef, ModelRef, Verdict};
use crate::resources::hash::sha256_hex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the decision threshold is chosen from the scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThresholdRule {
    /// At the equal error rate.
    Eer,
    /// The lowest threshold whose false match rate is at most this.
    Fmr(f64),
}

impl Fitted {
    /// Choose the threshold, fit the C-Score sigmoid and the PIC densities.
    pub fn fit(scores: &ScoreSet, rule: ThresholdRule, bins: usize) -> Result<Fitted> {
        let (ng, ni) = (scores.genuine.len(), scores.impostor.len());
        if ng < 2 || ni < 2 {
            return Err(CalibrationError::TooFewPairs(format!(
                "{ng} genuine and {ni} impostor pairs; at least two of each are needed"
            )));
        }
        let eer = scores
            .eer()
            .ok_or_else(|| CalibrationError::TooFewPairs("no EER without both classes".into()))?;
        let (at, rule_name) = match rule {
            ThresholdRule::Eer => (eer.at, "eer".to_string()),
            ThresholdRule::Fmr(target) => {
                if !scores.fmr_measurable(target) {
                    return Err(CalibrationError::NotMeasurable(format!(
                        "--fmr {target}: the dataset has {ni} impostor pairs; an FMR of {target} needs at least {:.0}",
                        (1.0 / target).ceil()
                    )));
                }
                let p = scores.at_fmr(target).ok_or_else(|| {
                    CalibrationError::NotMeasurable(format!("no threshold reaches FMR {target}"))
                })?;
                (p, format!("fmr<={target}"))
            }
        };
        let threshold = Threshold {
            similarity: at.threshold,
            distance: 1.0 - at.threshold,
            rule: rule_name,
            fmr: at.fmr,
            fnmr: at.fnmr,
            eer: eer.eer,
        };
        let dist = |v: &[f64]| v.iter().map(|s| 1.0 - s).collect::<Vec<f64>>();
        let fit = cscore::fit_cscore(
            &dist(&scores.genuine),
            &dist(&scores.impostor),
            threshold.distance,
            bins,
        )?;
        let pic = PicModel::fit(&scores.genuine, &scores.impostor)?;
        Ok(Fitted {
            threshold,
            c_score: CScoreModel { bins, fit },
            pic,
            likelihood_ratio: None,
        })
    }
}

/// A dataset scanned, embedded and turned into genuine/impostor scores.
pub struct Collected {
    pub dataset: Dataset,
    pub info: DatasetInfo,
    pub pairs: PairInfo,
    pub scores: ScoreSet,
    /// Every scored pair with its similarity, in the order of `scores`
    /// (for splits by a property of the images, e.g. their quality).
    pub scored: Vec<(Pair, f64)>,
    pub cache_hits: usize,
    /// Images whose result came from embeddings files.
    pub from_files: usize,
    /// Each image's quality verdict, when an assessor was given (`None`:
    /// not asked for, no face, or not assessable).
    pub quality: Vec<Option<Verdict>>,
    /// Images with a face whose quality could not be assessed, and why.
    pub quality_failed: Vec<SkippedImage>,
}

impl Collected {
    /// The set as the likelihood-ratio records name it.
    pub fn data_ref(&self) -> DataSetRef {
        DataSetRef {
            name: self.info.name.clone(),
            sha256: self.info.sha256.clone(),
            genuine_pairs: self.pairs.genuine,
            impostor_pairs: self.pairs.impostor,
            pairs_file: self.info.pairs_file.as_ref().map(|p| p.name.clone()),
        }
    }
}

/// Options for [`collect`].
#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// An LFW-style pairs list instead of all pairs.
    pub pairs_file: Option<PathBuf>,
    pub max_impostors: usize,
    pub seed: u64,
    pub cache: EmbeddingCache,
    /// Embeddings files to take the images' results from before the cache.
    pub files: Option<Arc<EmbeddingFiles>>,
}

impl CollectOptions {
    /// Where results are looked for before a model runs.
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            cache: &self.cache,
            files: self.files.as_deref(),
        }
    }
}

/// A dataset scanned and embedded, with its pairs (before scoring): what
/// [`collect`] scores and what the explorer lists pair by pair.
pub struct Paired {
    pub dataset: Dataset,
    pub list: Option<PairList>,
    pub embedded: Embedded,
    pub pairs: Vec<Pair>,
    pub info: PairInfo,
}

impl Paired {
    /// What the calibration and evaluation records say about the data.
    pub fn dataset_info(&self) -> DatasetInfo {
        let (ds, embedded) = (&self.dataset, &self.embedded);
        DatasetInfo {
            name: ds.name.clone(),
            sha256: ds.sha256.clone(),
            identities: ds.identities.len(),
            images: ds.images.len(),
            images_used: embedded.embeddings.iter().filter(|e| e.is_some()).count(),
            pairs_file: self.list.as_ref().map(|l| PairsFileInfo {
                name: l.name.clone(),
                sha256: l.sha256.clone(),
            }),
            skipped: embedded.skipped.clone(),
        }
    }
}

/// Scan `dir`, embed every image needed (cached; with `assessor`, each
/// face's quality judged too) and form the pairs.
pub fn pair_up(
    pipeline: &Pipeline,
    dir: &Path,
    opts: &CollectOptions,
    assessor: Option<&Assessor>,
    ctl: Ctl,
) -> Result<Paired, FitError> {
    let dataset = Dataset::scan(dir, ctl)?;
    let list = opts
        .pairs_file
        .as_deref()
        .map(|p| {
            let l = read_pairs(p, &dataset)?;
            // A calibration is of the pairs listed, every one of them.
            l.require_all(p).map(|_| l)
        })
        .transpose()?;
    let wanted = match &list {
        Some(l) => images_of(&l.pairs),
        None => (0..dataset.images.len()).collect(),
    };
    let embedded = embed_images(pipeline, &dataset, &wanted, opts.sources(), assessor, ctl)?;
    let (pairs, info) = match &list {
        Some(l) => listed_pairs(l, &embedded),
        None => all_pairs(&dataset, &embedded, opts.max_impostors, opts.seed),
    };
    Ok(Paired {
        dataset,
        list,
        embedded,
        pairs,
        info,
    })
}

/// Scan `dir`, embed every image needed (cached; with `assessor`, each
/// face's quality judged too), form the pairs and score them.
pub fn collect(
    pipeline: &Pipeline,
    dir: &Path,
    opts: &CollectOptions,
    assessor: Option<&Assessor>,
    ctl: Ctl,
) -> Result<Collected, FitError> {
    let p = pair_up(pipeline, dir, opts, assessor, ctl)?;
    let scores = score_pairs(&p.pairs, &p.embedded);
    let scored = p
        .pairs
        .iter()
        .filter_map(|pair| Some((*pair, pair_score(pair, &p.embedded)?)))
        .collect();
    let info = p.dataset_info();
    Ok(Collected {
        info,
        pairs: p.info,
        scores,
        scored,
        cache_hits: p.embedded.cache_hits,
        from_files: p.embedded.from_files,
        quality: p.embedded.quality,
        quality_failed: p.embedded.quality_failed,
        dataset: p.dataset,
    })
}

/// The calibration file for collected scores: threshold by `rule`, C-Score
/// sigmoid on `bins` histogram bins, PIC densities, LR calibrators.
pub fn calibrate(
    pipeline: &Pipeline,
    c: &Collected,
    rule: ThresholdRule,
    bins: usize,
) -> Result<CalibrationFile, FitError> {
    calibrate_sets(pipeline, std::slice::from_ref(c), rule, bins)
}

/// The same over several sets pooled: their scores together, each set named
/// with its size and hash in the file (`likelihood_ratio.data`); `dataset`
/// and `pairs` then describe the pool ("orl+lfw", SHA-256 over the sets' hashes).
pub fn calibrate_sets(
    pipeline: &Pipeline,
    sets: &[Collected],
    rule: ThresholdRule,
    bins: usize,
) -> Result<CalibrationFile, FitError> {
    let (info, pairs, scores) = pool(sets)?;
    let mut fitted = Fitted::fit(&scores, rule, bins)?;
    let data = sets.iter().map(Collected::data_ref).collect();
    fitted.likelihood_ratio = Some(fit_lr_model(&scores, data, 0, Ctl::none())?);
    let detector = pipeline.store.manifest.entry("yunet").map(|e| ModelRef {
        name: e.name.clone(),
        sha256: e.sha256.clone(),
    })?;
    Ok(CalibrationFile {
        schema: CALIBRATION_SCHEMA.into(),
        tool: Tool::default(),
        model: pipeline.model.clone(),
        detector,
        dataset: info,
        pairs,
        fitted,
    })
}

/// Several collected sets as one: info, pairs and scores of the pool.
fn pool(sets: &[Collected]) -> Result<(DatasetInfo, PairInfo, ScoreSet)> {
    let first = sets
        .first()
        .ok_or_else(|| CalibrationError::TooFewPairs("no dataset given".into()))?;
    if sets.len() == 1 {
        return Ok((
            first.info.clone(),
            first.pairs.clone(),
            first.scores.clone(),
        ));
    }
    let names: Vec<&str> = sets.iter().map(|c| c.info.name.as_str()).collect();
    let hashes: String = sets
        .iter()
        .map(|c| format!("{} {}\n", c.info.sha256, c.info.name))
        .collect();
    let sum = |f: &dyn Fn(&Collected) -> usize| sets.iter().map(f).sum::<usize>();
    let info = DatasetInfo {
        name: names.join("+"),
        sha256: sha256_hex(hashes.as_bytes()),
        identities: sum(&|c| c.info.identities),
        images: sum(&|c| c.info.images),
        images_used: sum(&|c| c.info.images_used),
        pairs_file: None,
        skipped: sets
            .iter()
            .flat_map(|c| {
                c.info.skipped.iter().map(|s| SkippedImage {
                    path: format!("{}/{}", c.info.name, s.path),
                    reason: s.reason.clone(),
                })
            })
            .collect(),
    };
    let pairs = PairInfo {
        genuine: sum(&|c| c.pairs.genuine),
        impostor: sum(&|c| c.pairs.impostor),
        impostor_available: sets.iter().map(|c| c.pairs.impostor_available).sum(),
        selection: sets
            .iter()
            .map(|c| format!("{}: {}", c.info.name, c.pairs.selection))
            .collect::<Vec<_>>()
            .join("; "),
        seed: first.pairs.seed,
        dropped: sum(&|c| c.pairs.dropped),
    };
    let scores = ScoreSet::new(
        sets.iter().flat_map(|c| c.scores.genuine.clone()).collect(),
        sets.iter()
            .flat_map(|c| c.scores.impostor.clone())
            .collect(),
    );
    Ok((info, pairs, scores))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Decision;

    fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[test]
    fn threshold_rules_and_their_limits() {
        let s = ScoreSet::new(linspace(0.3, 1.0, 500), linspace(-0.3, 0.5, 5000));
        let eer = Fitted::fit(&s, ThresholdRule::Eer, 400).unwrap();
        assert_eq!(eer.threshold.similarity, s.eer().unwrap().at.threshold);
        assert_eq!(eer.threshold.rule, "eer");
        let f = Fitted::fit(&s, ThresholdRule::Fmr(0.01), 400).unwrap();
        // 1 % of 5000 impostors: the 50 highest are accepted, the 51st is not.
        let imp = &s.impostor;
        assert!(f.threshold.similarity > imp[4949] && f.threshold.similarity <= imp[4950]);
        assert_eq!(f.threshold.fmr, 0.01);
        assert_eq!(f.threshold.rule, "fmr<=0.01");
        assert!((f.threshold.distance - (1.0 - f.threshold.similarity)).abs() < 1e-15);
        let e = Fitted::fit(&s, ThresholdRule::Fmr(1e-5), 400).unwrap_err();
        assert!(
            matches!(e, CalibrationError::NotMeasurable(_)) && e.to_string().contains("100000"),
            "{e}"
        );
        let tiny = ScoreSet::new(vec![0.9], vec![0.1, 0.2]);
        assert!(matches!(
            Fitted::fit(&tiny, ThresholdRule::Eer, 400),
            Err(CalibrationError::TooFewPairs(_))
        ));
    }

    #[test]
    fn confidences_are_high_far_from_the_threshold_and_follow_the_decision() {
        let s = ScoreSet::new(linspace(0.3, 1.0, 500), linspace(-0.3, 0.5, 5000));
        let f = Fitted::fit(&s, ThresholdRule::Eer, 400).unwrap();
        let hi = f.scores(0.95, f.decide(0.95));
        let lo = f.scores(-0.2, f.decide(-0.2));
        assert_eq!(f.decide(0.95), Decision::Match);
        assert!(hi.c_score > 0.95 && hi.decision_confidence > 0.95, "{hi:?}");
        assert!(
            lo.c_score > 0.95 && lo.decision_confidence > 0.95 && lo.pic_score < 0.05,
            "{lo:?}"
        );
        // Near the threshold the classes overlap: neither score is sure.
        let t = f.threshold.similarity;
        let mid = f.scores(t, f.decide(t));
        assert!(
            mid.c_score < 0.9 && mid.decision_confidence < 0.9,
            "{mid:?}"
        );
    }
}
