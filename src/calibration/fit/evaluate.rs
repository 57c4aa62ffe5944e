//! Measuring a model and its calibration on a labelled score set: EER,
//! FNMR@FMR, AUC, and the expected calibration error of C-Score and
//! PIC-Score with k-fold cross-validation (calibrate on k − 1 folds, score
//! the held-out fold).
//!
//! Both confidences assume equal priors of genuine and impostor pairs, so
//! the headline ECE weighs the two classes equally ("balanced": each genuine
//! pair 1/(2·n_gen), each impostor 1/(2·n_imp)); the ECE over pairs as they
//! come (dominated by impostors) is reported beside it.

use super::ThresholdRule;
use super::metrics::ScoreSet;
use super::metrics::{Prediction, Reliability, reliability};
use crate::calibration::pic::PicModel;
use crate::calibration::{Fitted, Result};
use crate::progress::Ctl;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// FMR targets reported by `eval`.
pub const FMR_TARGETS: [f64; 3] = [0.01, 0.001, 0.0001];
/// Reliability-diagram bins over [0, 1].
pub const ECE_BINS: usize = 10;

/// FNMR at one target FMR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FnmrAtFmr {
    pub fmr_target: f64,
    pub measurable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fnmr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The FMR actually reached at that threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// FNMR at each target FMR, or why it cannot be measured.
pub fn fnmr_at_fmrs(scores: &ScoreSet, targets: &[f64]) -> Vec<FnmrAtFmr> {
    targets
        .iter()
        .map(|&t| {
            let ni = scores.impostor.len();
            if !scores.fmr_measurable(t) {
                return FnmrAtFmr {
                    fmr_target: t,
                    measurable: false,
                    fnmr: None,
                    threshold: None,
                    fmr: None,
                    note: Some(format!(
                        "not measurable: {ni} impostor pairs, at least {:.0} needed",
                        (1.0 / t).ceil()
                    )),
                };
            }
            let p = scores.at_fmr(t);
            FnmrAtFmr {
                fmr_target: t,
                measurable: true,
                fnmr: p.map(|p| p.fnmr),
                threshold: p.map(|p| p.threshold),
                fmr: p.map(|p| p.fmr),
                note: None,
            }
        })
        .collect()
}

/// ECE of one confidence, class-balanced and over pairs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EceReport {
    pub ece_balanced: f64,
    pub ece_pairs: f64,
    /// Reliability diagram with class-balanced weights.
    pub reliability_balanced: Reliability,
}

/// Held-out confidences of one pair.
#[derive(Clone, Copy, Debug)]
struct Held {
    c_score: f64,
    decision_confidence: f64,
    correct: bool,
    genuine: bool,
}

fn held_out(fitted: &Fitted, genuine: &[f64], impostor: &[f64], out: &mut Vec<Held>) {
    for (scores, is_gen) in [(genuine, true), (impostor, false)] {
        for &s in scores {
            let decision = fitted.decide(s);
            let sc = fitted.scores(s, decision);
            let correct = (decision == crate::pipeline::Decision::Match) == is_gen;
            out.push(Held {
                c_score: sc.c_score,
                decision_confidence: sc.decision_confidence,
                correct,
                genuine: is_gen,
            });
        }
    }
}

fn ece_reports(held: &[Held]) -> (EceReport, EceReport) {
    let ng = held.iter().filter(|h| h.genuine).count().max(1) as f64;
    let ni = held.iter().filter(|h| !h.genuine).count().max(1) as f64;
    let report = |conf: &dyn Fn(&Held) -> f64| {
        let preds = |balanced: bool| -> Vec<Prediction> {
            held.iter()
                .map(|h| Prediction {
                    confidence: conf(h),
                    correct: h.correct,
                    weight: if !balanced {
                        1.0
                    } else if h.genuine {
                        0.5 / ng
                    } else {
                        0.5 / ni
                    },
                })
                .collect()
        };
        let balanced = reliability(&preds(true), ECE_BINS);
        EceReport {
            ece_balanced: balanced.ece,
            ece_pairs: reliability(&preds(false), ECE_BINS).ece,
            reliability_balanced: balanced,
        }
    };
    (report(&|h| h.c_score), report(&|h| h.decision_confidence))
}

/// Figures of a fixed calibration applied to a score set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCheck {
    pub threshold: f64,
    pub fmr: f64,
    pub fnmr: f64,
    pub c_score: EceReport,
    pub pic: EceReport,
}

/// Apply `fitted` to every pair of `scores` (no cross-validation).
pub fn check_calibration(fitted: &Fitted, scores: &ScoreSet) -> CalibrationCheck {
    let mut held = Vec::new();
    held_out(fitted, &scores.genuine, &scores.impostor, &mut held);
    let (c_score, pic) = ece_reports(&held);
    let at = scores.rates_at(fitted.threshold.similarity);
    CalibrationCheck {
        threshold: at.threshold,
        fmr: at.fmr,
        fnmr: at.fnmr,
        c_score,
        pic,
    }
}

/// k-fold cross-validated calibration error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    pub folds: usize,
    pub seed: u64,
    /// Threshold rule of each fold's calibration.
    pub rule: String,
    /// The threshold each fold's calibration chose.
    pub thresholds: Vec<f64>,
    /// Held-out FMR and FNMR pooled over the folds.
    pub fmr: f64,
    pub fnmr: f64,
    pub c_score: EceReport,
    pub pic: EceReport,
}

/// The PIC-Score densities each fold's training part fitted in
/// [`cross_validate`], kept so that a validation over the same folds of the
/// same scores (the KDE likelihood ratios, `lr_fit`) does not fit them again.
#[derive(Clone, Debug, Default)]
pub struct FoldPics {
    pub folds: usize,
    pub seed: u64,
    /// Sizes of the classes the folds were dealt from.
    pub genuine: usize,
    pub impostor: usize,
    /// One fit per fold, on every other fold's scores.
    pub pics: Vec<PicModel>,
}

impl FoldPics {
    /// The fit of `fold`'s training part, when these are folds `folds` of
    /// `scores` dealt with `seed`.
    pub fn get(
        &self,
        scores: &ScoreSet,
        folds: usize,
        seed: u64,
        fold: usize,
    ) -> Option<&PicModel> {
        let same = self.folds == folds
            && self.seed == seed
            && self.genuine == scores.genuine.len()
            && self.impostor == scores.impostor.len()
            && self.pics.len() == folds;
        same.then(|| &self.pics[fold])
    }
}

/// Fold of each of `n` items: a seeded shuffle dealt round-robin into k folds.
pub(crate) fn folds_of(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut fold = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        fold[i] = pos % k;
    }
    fold
}

/// Calibrate on k − 1 folds and score the held-out fold, for each fold;
/// folds are stratified (genuine and impostor pairs dealt separately).
/// Also returns each fold's PIC densities for reuse.
pub fn cross_validate(
    scores: &ScoreSet,
    k: usize,
    seed: u64,
    cscore_bins: usize,
    ctl: Ctl,
) -> Result<(CrossValidation, FoldPics)> {
    if k < 2 {
        return Err(crate::calibration::CalibrationError::TooFewPairs(format!(
            "cross-validation needs at least 2 folds, got {k}"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let fg = folds_of(scores.genuine.len(), k, &mut rng);
    let fi = folds_of(scores.impostor.len(), k, &mut rng);
    let split = |v: &[f64], f: &[usize], fold: usize, inside: bool| -> Vec<f64> {
        v.iter()
            .zip(f)
            .filter(|&(_, &x)| (x == fold) == inside)
            .map(|(&s, _)| s)
            .collect()
    };
    let mut held = Vec::new();
    let mut thresholds = Vec::new();
    let mut pics = FoldPics {
        folds: k,
        seed,
        genuine: scores.genuine.len(),
        impostor: scores.impostor.len(),
        pics: Vec::with_capacity(k),
    };
    for fold in 0..k {
        ctl.check()?;
        ctl.report("cross-validation", fold, k);
        let train = ScoreSet::new(
            split(&scores.genuine, &fg, fold, false),
            split(&scores.impostor, &fi, fold, false),
        );
        let fitted = Fitted::fit(&train, ThresholdRule::Eer, cscore_bins)?;
        thresholds.push(fitted.threshold.similarity);
        held_out(
            &fitted,
            &split(&scores.genuine, &fg, fold, true),
            &split(&scores.impostor, &fi, fold, true),
            &mut held,
        );
        pics.pics.push(fitted.pic);
    }
    ctl.report("cross-validation", k, k);
    let wrong = |genuine: bool| {
        held.iter()
            .filter(|h| h.genuine == genuine && !h.correct)
            .count() as f64
    };
    let (c_score, pic) = ece_reports(&held);
    let cv = CrossValidation {
        folds: k,
        seed,
        rule: "eer".into(),
        thresholds,
        fmr: wrong(false) / scores.impostor.len().max(1) as f64,
        fnmr: wrong(true) / scores.genuine.len().max(1) as f64,
        c_score,
        pic,
    };
    Ok((cv, pics))
}

/// Error rates of the pairs whose worse face has one quality verdict
/// (ISO/IEC 29794-5 measures, `quality::judge`), so a user sees how much
/// worse scores get on poorer images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualityGroup {
    /// "fit" (both faces fit), "limited", "unfit" (the worse face's
    /// verdict), "limited or unfit" (the two pooled) or "not assessed".
    pub group: String,
    pub genuine: usize,
    pub impostor: usize,
    /// EER and its threshold (`None` without both classes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eer: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eer_threshold: Option<f64>,
    pub fnmr_at_fmr: Vec<FnmrAtFmr>,
    /// Cllr of the checked calibration's bounded LRs on these pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cllr: Option<f64>,
}

impl QualityGroup {
    fn of(
        group: &str,
        s: &ScoreSet,
        calibration: Option<&crate::calibration::Calibration>,
    ) -> Self {
        let eer = s.eer();
        let both = !s.genuine.is_empty() && !s.impostor.is_empty();
        QualityGroup {
            group: group.into(),
            genuine: s.genuine.len(),
            impostor: s.impostor.len(),
            eer: eer.as_ref().map(|e| e.eer),
            eer_threshold: eer.as_ref().map(|e| e.at.threshold),
            fnmr_at_fmr: if both {
                fnmr_at_fmrs(s, &FMR_TARGETS)
            } else {
                Vec::new()
            },
            cllr: calibration
                .filter(|_| both)
                .and_then(|c| super::lr_eval::bounded_cllr(c, s)),
        }
    }

    /// Pairs in the group.
    pub fn pairs(&self) -> usize {
        self.genuine + self.impostor
    }
}

/// The pairs split by the worse verdict of their two faces: fit, limited,
/// unfit and not assessed (these four add up to every pair), then limited
/// and unfit pooled. Scores keep the order of `scored`, so the same pairs
/// give the same figures.
pub fn split_by_quality(
    scored: &[(super::dataset::Pair, f64)],
    verdicts: &[Option<crate::record::Verdict>],
    calibration: Option<&crate::calibration::Calibration>,
) -> Vec<QualityGroup> {
    use crate::record::Verdict;
    let worse =
        |a: usize, b: usize| Some(verdicts.get(a).copied()??.max(verdicts.get(b).copied()??));
    let set = |keep: &dyn Fn(Option<Verdict>) -> bool| {
        let mut s = ScoreSet::default();
        for (p, v) in scored.iter().filter(|(p, _)| keep(worse(p.a, p.b))) {
            if p.genuine {
                s.genuine.push(*v)
            } else {
                s.impostor.push(*v)
            }
        }
        s
    };
    let mut groups: Vec<QualityGroup> = [Verdict::Fit, Verdict::Limited, Verdict::Unfit]
        .into_iter()
        .map(|v| QualityGroup::of(v.as_str(), &set(&|w| w == Some(v)), calibration))
        .collect();
    let unassessed = set(&|w| w.is_none());
    if !unassessed.genuine.is_empty() || !unassessed.impostor.is_empty() {
        groups.push(QualityGroup::of("not assessed", &unassessed, calibration));
    }
    groups.push(QualityGroup::of(
        "limited or unfit",
        &set(&|w| matches!(w, Some(Verdict::Limited | Verdict::Unfit))),
        calibration,
    ));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmr_at_fmr_says_when_it_cannot_be_measured() {
        let s = ScoreSet::new(
            vec![0.9, 0.8, 0.3],
            (0..200).map(|i| i as f64 / 1000.0).collect(),
        );
        let r = fnmr_at_fmrs(&s, &FMR_TARGETS);
        assert!(r[0].measurable && !r[1].measurable && !r[2].measurable);
        // FMR ≤ 1 %: at most 2 of 200 impostors (0.198, 0.199) accepted → t just above 0.197.
        assert_eq!(r[0].fnmr, Some(0.0));
        assert_eq!(r[0].fmr, Some(0.01));
        assert!(
            r[1].note.as_deref().unwrap().contains("1000 needed"),
            "{:?}",
            r[1].note
        );
    }

    #[test]
    fn quality_split_groups_pairs_by_the_worse_face() {
        use super::super::dataset::Pair;
        use crate::record::Verdict::{Fit, Limited, Unfit};
        // Images 0–1 fit, 2 limited, 3 unfit, 4 unassessed.
        let verdicts = [Some(Fit), Some(Fit), Some(Limited), Some(Unfit), None];
        let p = |a, b, genuine| Pair { a, b, genuine };
        let scored = [
            (p(0, 1, true), 0.9),
            (p(0, 2, false), 0.1),
            (p(1, 2, true), 0.2),
            (p(2, 2, false), 0.3),
            (p(0, 3, true), 0.8),
            (p(3, 4, false), 0.5),
        ];
        let g = split_by_quality(&scored, &verdicts, None);
        let names: Vec<&str> = g.iter().map(|x| x.group.as_str()).collect();
        assert_eq!(
            names,
            [
                "fit",
                "limited",
                "unfit",
                "not assessed",
                "limited or unfit"
            ]
        );
        let counts: Vec<(usize, usize)> = g.iter().map(|x| (x.genuine, x.impostor)).collect();
        assert_eq!(counts, [(1, 0), (1, 2), (1, 0), (0, 1), (2, 2)]);
        // Limited: genuine 0.2 below both impostors 0.1, 0.3 → EER 1/2.
        assert_eq!(g[0].eer, None);
        assert!(g[0].fnmr_at_fmr.is_empty());
        assert_eq!(
            g[1].eer,
            ScoreSet::new(vec![0.2], vec![0.1, 0.3])
                .eer()
                .map(|e| e.eer)
        );
        // Pooled: genuine 0.2, 0.8 against impostors 0.1, 0.3.
        assert_eq!(
            g[4].eer,
            ScoreSet::new(vec![0.2, 0.8], vec![0.1, 0.3])
                .eer()
                .map(|e| e.eer)
        );
    }

    #[test]
    fn folds_are_balanced_and_reproducible() {
        let a = folds_of(103, 5, &mut ChaCha8Rng::seed_from_u64(1));
        let b = folds_of(103, 5, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
        for f in 0..5 {
            let n = a.iter().filter(|&&x| x == f).count();
            assert!(n == 20 || n == 21);
        }
    }
}
