//! Fitting and validating the score-to-LR calibrators of a calibration file:
//! KDE (the PIC-Score densities), logistic regression and PAV, each
//! cross-validated on k stratified folds (fit on k − 1, LRs of the held-out
//! fold). The held-out LRs give each calibrator its ELUB bounds and its
//! costs (Cllr, Cllr_min, Cllr_cal); the default is the calibrator with the
//! lowest held-out Cllr after bounding.

use super::cllr::costs_ranked;
use super::elub::elub_ranked;
use super::evaluate::{FoldPics, folds_of};
use super::logreg::Logistic;
use super::metrics::ScoreSet;
use super::order::order;
use super::pav::{Isotonic, labelled_sorted};
use super::ranked::Ranked;
use crate::calibration::lr::{Calibrator, Costs, LrModel, MIN_PAIRS_PER_CLASS, Method};
use crate::calibration::pic::PicModel;
use crate::calibration::{CalibrationError, Result};
use crate::progress::Ctl;
use crate::record::DataSetRef;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Folds of the cross-validation behind bounds, costs and the default.
pub const LR_FOLDS: usize = 5;
/// The calibrators, in the order they are reported.
pub const CALIBRATORS: [&str; 3] = ["kde", "logistic", "pav"];

/// Fit one calibrator on a score set.
pub fn fit_method(name: &str, s: &ScoreSet) -> Result<(Method, Option<PicModel>)> {
    Ok(match name {
        "kde" => (Method::Kde, Some(PicModel::fit(&s.genuine, &s.impostor)?)),
        "logistic" => (logistic(&s.genuine, &s.impostor, None)?, None),
        "pav" => (pav(&labelled_sorted(&s.genuine, &s.impostor)), None),
        other => {
            return Err(CalibrationError::LrFit(format!(
                "unknown calibrator {other:?}; expected one of {CALIBRATORS:?}"
            )));
        }
    })
}

/// Logistic regression, Newton's method started at `start`'s line if given.
fn logistic(hp: &[f64], hd: &[f64], start: Option<&Method>) -> Result<Method> {
    let start = match start {
        Some(&Method::Logistic { intercept, slope }) => Some(Logistic { intercept, slope }),
        _ => None,
    };
    let l = Logistic::fit_from(hp, hd, start)?;
    Ok(Method::Logistic {
        intercept: l.intercept,
        slope: l.slope,
    })
}

/// The PAV calibrator (one misleading pair per class) of labelled, sorted scores.
fn pav(sorted: &[(f64, bool)]) -> Method {
    let k = Isotonic::fit_sorted(sorted, 1).knots();
    Method::Pav {
        similarity: k.x,
        prob_hp: k.p,
    }
}

/// Held-out log10 LRs of every genuine and impostor score under calibrator
/// `name`. Each fold's calibrator is the one fitted on its training part
/// alone, found the short way where there is one: the KDE densities come
/// from `reuse` when it holds these folds' fits (`eval`'s cross-validation
/// fitted them already), PAV sorts the scores once for every fold, and
/// logistic regression starts from `whole` (the fit on every score). The
/// folds are fitted side by side.
pub fn held_out_lrs(
    name: &str,
    scores: &ScoreSet,
    folds: usize,
    seed: u64,
    reuse: Option<&FoldPics>,
    whole: Option<&Method>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let fg = folds_of(scores.genuine.len(), folds, &mut rng);
    let fi = folds_of(scores.impostor.len(), folds, &mut rng);
    // PAV's scores sorted once, each with its fold.
    let sorted: Vec<(f64, bool, usize)> = if name == "pav" {
        let (g, i) = (&scores.genuine, &scores.impostor);
        order(g.iter().chain(i).copied())
            .into_iter()
            .map(|k| match k.checked_sub(g.len()) {
                None => (g[k], true, fg[k]),
                Some(k) => (i[k], false, fi[k]),
            })
            .collect()
    } else {
        Vec::new()
    };
    let placeholder = empty_pic();
    let fit_fold = |fold: usize| -> Result<(Method, Cow<'_, PicModel>)> {
        let pick = |v: &[f64], f: &[usize]| -> Vec<f64> {
            v.iter()
                .zip(f)
                .filter(|&(_, &x)| x != fold)
                .map(|(&s, _)| s)
                .collect()
        };
        let reused = reuse.and_then(|r| r.get(scores, folds, seed, fold));
        Ok(match (name, reused) {
            ("kde", Some(p)) => (Method::Kde, Cow::Borrowed(p)),
            ("pav", _) => {
                let train: Vec<(f64, bool)> = sorted
                    .iter()
                    .filter(|p| p.2 != fold)
                    .map(|p| (p.0, p.1))
                    .collect();
                (pav(&train), Cow::Borrowed(&placeholder))
            }
            ("logistic", _) => (
                logistic(
                    &pick(&scores.genuine, &fg),
                    &pick(&scores.impostor, &fi),
                    whole,
                )?,
                Cow::Borrowed(&placeholder),
            ),
            _ => {
                let train = ScoreSet::new(pick(&scores.genuine, &fg), pick(&scores.impostor, &fi));
                let (m, pic) = fit_method(name, &train)?;
                (m, pic.map_or(Cow::Borrowed(&placeholder), Cow::Owned))
            }
        })
    };
    let fitted = side_by_side(folds, fit_fold)?;
    let mut lg = vec![0.0; scores.genuine.len()];
    let mut li = vec![0.0; scores.impostor.len()];
    for (out, (v, f)) in [
        (&mut lg, (&scores.genuine, &fg)),
        (&mut li, (&scores.impostor, &fi)),
    ] {
        for (i, (&s, &x)) in v.iter().zip(f.iter()).enumerate() {
            let (m, pic) = &fitted[x];
            out[i] = m.log10_lr(pic, s);
        }
    }
    Ok((lg, li))
}

/// `f(0) … f(n − 1)` on scoped threads, in order; the first error, if any.
/// Each call computes what it would alone, so the results do not depend on it.
fn side_by_side<T: Send>(n: usize, f: impl Fn(usize) -> Result<T> + Sync) -> Result<Vec<T>> {
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n).map(|i| scope.spawn(move || f(i))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(CalibrationError::LrFit(
                        "a calibrator's fit panicked".into(),
                    ))
                })
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .collect()
}

/// A placeholder for calibrators that do not read densities.
fn empty_pic() -> PicModel {
    use crate::calibration::kde::LogDensityGrid;
    let g = LogDensityGrid {
        start: 0.0,
        step: 1.0,
        values: vec![0.0, 0.0],
    };
    PicModel {
        prior_genuine: 0.5,
        bandwidth_rule: String::new(),
        bandwidth_genuine: 0.0,
        bandwidth_impostor: 0.0,
        genuine: g.clone(),
        impostor: g,
    }
}

/// Bounds and costs of held-out LRs: (lower, upper, costs, costs bounded).
pub fn validate(lg: &[f64], li: &[f64]) -> (f64, f64, Costs, Costs) {
    let r = Ranked::new(lg, li);
    let (lo, hi) = elub_ranked(&r);
    (lo, hi, costs_ranked(&r), costs_ranked(&r.clamped(lo, hi)))
}

/// Fit and validate every calibrator on `scores`, which came from the sets
/// `data`. The KDE calibrator reads the file's PIC-Score densities (fitted on
/// the same scores), so it stores no parameters of its own.
pub fn fit_lr_model(
    scores: &ScoreSet,
    data: Vec<DataSetRef>,
    seed: u64,
    ctl: Ctl,
) -> Result<LrModel> {
    Ok(fit_lr_model_with_held_out(scores, data, seed, None, ctl)?.0)
}

/// Log10 LRs of the Hp (genuine) and of the Hd (impostor) pairs.
pub type Lrs = (Vec<f64>, Vec<f64>);

/// Held-out log10 LRs of each fitted calibrator.
pub type HeldOut = BTreeMap<String, Lrs>;

/// [`fit_lr_model`] and the held-out LRs its validation computed, so that a
/// caller needing them (`eval`'s plots) does not fit the folds again;
/// `reuse`: the folds' KDE densities when the caller has fitted them. The
/// calibrators are independent and run side by side on scoped threads; each
/// computes exactly what it would alone, so the numbers do not depend on it.
pub fn fit_lr_model_with_held_out(
    scores: &ScoreSet,
    data: Vec<DataSetRef>,
    seed: u64,
    reuse: Option<&FoldPics>,
    ctl: Ctl,
) -> Result<(LrModel, HeldOut)> {
    let (ng, ni) = (scores.genuine.len(), scores.impostor.len());
    if ng < MIN_PAIRS_PER_CLASS || ni < MIN_PAIRS_PER_CLASS {
        return Err(CalibrationError::TooFewPairs(format!(
            "{ng} genuine and {ni} impostor pairs; likelihood ratios need at least {MIN_PAIRS_PER_CLASS} of each"
        )));
    }
    ctl.check()?;
    ctl.report("likelihood-ratio calibrators", 0, CALIBRATORS.len());
    // Each calibrator fitted on every score, its held-out LRs and their
    // validation (bounds and costs).
    let fit_one = |name: &str| -> Result<(Calibrator, Lrs)> {
        let method = match name {
            "kde" => Method::Kde,
            _ => fit_method(name, scores)?.0,
        };
        let (lg, li) = held_out_lrs(name, scores, LR_FOLDS, seed, reuse, Some(&method))?;
        let (lo, hi, raw, bounded) = validate(&lg, &li);
        let c = Calibrator {
            method,
            log10_lower_bound: lo,
            log10_upper_bound: hi,
            validation: raw,
            validation_bounded: bounded,
        };
        Ok((c, (lg, li)))
    };
    // Every result, so that a calibrator that cannot be fitted is left out
    // below rather than failing the others.
    let results = side_by_side(CALIBRATORS.len(), |k| Ok(fit_one(CALIBRATORS[k])))?;
    ctl.check()?;
    let mut calibrators = BTreeMap::new();
    let mut held = HeldOut::new();
    let mut not_fitted = Vec::new();
    for (name, fitted) in CALIBRATORS.iter().zip(results) {
        // A calibrator that cannot be fitted here (logistic regression on
        // classes that do not overlap) is left out, saying why.
        match fitted {
            Ok((c, h)) => {
                calibrators.insert(name.to_string(), c);
                held.insert(name.to_string(), h);
            }
            Err(CalibrationError::LrFit(why)) => not_fitted.push(format!("{name} left out: {why}")),
            Err(e) => return Err(e),
        }
    }
    ctl.report(
        "likelihood-ratio calibrators",
        CALIBRATORS.len(),
        CALIBRATORS.len(),
    );
    let (best, _) = calibrators
        .iter()
        .min_by(|a, b| {
            a.1.validation_bounded
                .cllr
                .total_cmp(&b.1.validation_bounded.cllr)
        })
        .map(|(n, c)| (n.clone(), c.clone()))
        .ok_or_else(|| CalibrationError::LrFit("no calibrator could be fitted".into()))?;
    let mut reason = format!(
        "lowest {LR_FOLDS}-fold held-out Cllr after ELUB bounding on {}: {}",
        data.iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        calibrators
            .iter()
            .map(|(n, c)| format!("{n} {:.5}", c.validation_bounded.cllr))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for n in not_fitted {
        reason.push_str("; ");
        reason.push_str(&n);
    }
    let model = LrModel {
        default: best,
        default_reason: reason,
        folds: LR_FOLDS,
        seed,
        calibrators,
        data,
    };
    Ok((model, held))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::fit::logreg::tests::std_normal;

    fn gaussians() -> ScoreSet {
        // Hp ~ N(0.6, 0.1²), Hd ~ N(0.1, 0.1²): log10 LR(s) = (50 s − 17.5) / ln 10.
        let g = std_normal(11, 2000).iter().map(|v| 0.6 + 0.1 * v).collect();
        let i = std_normal(12, 8000).iter().map(|v| 0.1 + 0.1 * v).collect();
        ScoreSet::new(g, i)
    }

    #[test]
    fn every_calibrator_recovers_the_known_lr_of_two_gaussians() {
        let s = gaussians();
        let pic = PicModel::fit(&s.genuine, &s.impostor).unwrap();
        for name in CALIBRATORS {
            let (m, p) = fit_method(name, &s).unwrap();
            let p = p.unwrap_or_else(|| pic.clone());
            // Where both classes have data the LR is known to within sampling
            // error; the KDE estimates each density convolved with its kernel,
            // N(μ, σ² + h²), so its known answer is that of the widened pair.
            let (sg, si) = match name {
                "kde" => (
                    (0.01 + p.bandwidth_genuine.powi(2)).sqrt(),
                    (0.01 + p.bandwidth_impostor.powi(2)).sqrt(),
                ),
                _ => (0.1, 0.1),
            };
            let known = |x: f64| {
                let ln = |mu: f64, sd: f64| -0.5 * ((x - mu) / sd).powi(2) - sd.ln();
                (ln(0.6, sg) - ln(0.1, si)) * std::f64::consts::LOG10_E
            };
            // PAV is a step function fitted to few scores in the tails: it is
            // checked where both classes are dense.
            let probes: &[f64] = if name == "pav" {
                &[0.3, 0.35, 0.4]
            } else {
                &[0.25, 0.3, 0.35, 0.4, 0.45]
            };
            for &x in probes {
                let got = m.log10_lr(&p, x);
                let tol = if name == "pav" { 0.5 } else { 0.15 };
                assert!(
                    (got - known(x)).abs() < tol,
                    "{name} at {x}: {got} vs {}",
                    known(x)
                );
            }
        }
    }

    /// Held-out LRs the plain way: each fold's calibrator fitted afresh on
    /// the other folds, from a cold start.
    fn plain_held_out(name: &str, s: &ScoreSet, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let fg = folds_of(s.genuine.len(), LR_FOLDS, &mut rng);
        let fi = folds_of(s.impostor.len(), LR_FOLDS, &mut rng);
        let (mut lg, mut li) = (vec![0.0; fg.len()], vec![0.0; fi.len()]);
        for fold in 0..LR_FOLDS {
            let pick = |v: &[f64], f: &[usize]| -> Vec<f64> {
                v.iter()
                    .zip(f)
                    .filter(|p| *p.1 != fold)
                    .map(|p| *p.0)
                    .collect()
            };
            let train = ScoreSet::new(pick(&s.genuine, &fg), pick(&s.impostor, &fi));
            let (m, pic) = fit_method(name, &train).unwrap();
            let pic = pic.unwrap_or_else(empty_pic);
            for (out, v, f) in [(&mut lg, &s.genuine, &fg), (&mut li, &s.impostor, &fi)] {
                for i in (0..v.len()).filter(|&i| f[i] == fold) {
                    out[i] = m.log10_lr(&pic, v[i]);
                }
            }
        }
        (lg, li)
    }

    #[test]
    fn held_out_lrs_the_short_way_are_those_of_fitting_each_fold_afresh() {
        let s = gaussians();
        let seed = 7;
        let bits = |v: &(Vec<f64>, Vec<f64>)| {
            v.0.iter()
                .chain(&v.1)
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        // KDE densities from the cross-validation of the same folds: the same bits.
        let (_, pics) =
            super::super::evaluate::cross_validate(&s, LR_FOLDS, seed, 20, Ctl::none()).unwrap();
        let reused = held_out_lrs("kde", &s, LR_FOLDS, seed, Some(&pics), None).unwrap();
        assert_eq!(bits(&reused), bits(&plain_held_out("kde", &s, seed)));
        // Fits of other folds (another seed) are not taken for these.
        let other = held_out_lrs("kde", &s, LR_FOLDS, seed + 1, Some(&pics), None).unwrap();
        assert_eq!(bits(&other), bits(&plain_held_out("kde", &s, seed + 1)));
        // PAV sorts once for every fold: the same bits.
        let pav = held_out_lrs("pav", &s, LR_FOLDS, seed, None, None).unwrap();
        assert_eq!(bits(&pav), bits(&plain_held_out("pav", &s, seed)));
        // Logistic regression started from the whole set's fit reaches the
        // same optimum, to the precision the loss resolves.
        let whole = fit_method("logistic", &s).unwrap().0;
        let warm = held_out_lrs("logistic", &s, LR_FOLDS, seed, None, Some(&whole)).unwrap();
        let cold = plain_held_out("logistic", &s, seed);
        for (a, b) in warm
            .0
            .iter()
            .chain(&warm.1)
            .zip(cold.0.iter().chain(&cold.1))
        {
            assert!((a - b).abs() <= 1e-7 * b.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn the_model_is_bounded_validated_and_picks_the_lowest_cllr() {
        let s = gaussians();
        let data = vec![DataSetRef {
            name: "two-gaussians".into(),
            sha256: "0".repeat(64),
            genuine_pairs: 2000,
            impostor_pairs: 8000,
            pairs_file: None,
        }];
        let m = fit_lr_model(&s, data, 0, Ctl::none()).unwrap();
        m.check().unwrap();
        let best = &m.calibrators[&m.default];
        for c in m.calibrators.values() {
            assert!(best.validation_bounded.cllr <= c.validation_bounded.cllr);
            // Bounds within what 2000 / 8000 pairs can support.
            assert!(c.log10_upper_bound <= 8001f64.log10() + 0.01);
            assert!(c.log10_lower_bound >= -(2001f64.log10()) - 0.01);
            assert!(c.validation.cllr_min <= c.validation.cllr);
        }
        // Well-separated Gaussians: far better than the neutral 1 bit.
        assert!(
            best.validation_bounded.cllr < 0.1,
            "{:?}",
            best.validation_bounded
        );
        assert!(m.default_reason.contains("two-gaussians"));
        let too_few = ScoreSet::new(s.genuine[..2].to_vec(), s.impostor.clone());
        assert!(matches!(
            fit_lr_model(&too_few, vec![], 0, Ctl::none()),
            Err(CalibrationError::TooFewPairs(_))
        ));
    }
}
