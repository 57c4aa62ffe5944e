//! Fitting and validating the score-to-LR calibrators of a calibration file:
//! KDE (the PIC-Score densities), logistic regression and PAV, each
//! cross-validated on k stratified folds (fit on k − 1, LRs of the held-out
//! fold). The held-out LRs give each calibrator its ELUB bounds and its
//! costs (Cllr, Cllr_min, Cllr_cal); the default is the calibrator with the
//! lowest held-out Cllr after bounding.

use super::cllr::costs;
use super::elub::elub;
use super::evaluate::folds_of;
use super::logreg::Logistic;
use super::metrics::ScoreSet;
use super::pav::Isotonic;
use crate::calibration::lr::{Calibrator, Costs, LrModel, MIN_PAIRS_PER_CLASS, Method};
use crate::calibration::pic::PicModel;
use crate::calibration::{CalibrationError, Result};
use crate::progress::Ctl;
use crate::record::DataSetRef;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Folds of the cross-validation behind bounds, costs and the default.
pub const LR_FOLDS: usize = 5;
/// The calibrators, in the order they are reported.
pub const CALIBRATORS: [&str; 3] = ["kde", "logistic", "pav"];

/// Fit one calibrator on a score set.
pub fn fit_method(name: &str, s: &ScoreSet) -> Result<(Method, Option<PicModel>)> {
    Ok(match name {
        "kde" => (Method::Kde, Some(PicModel::fit(&s.genuine, &s.impostor)?)),
        "logistic" => {
            let l = Logistic::fit(&s.genuine, &s.impostor)?;
            (
                Method::Logistic {
                    intercept: l.intercept,
                    slope: l.slope,
                },
                None,
            )
        }
        "pav" => {
            let k = Isotonic::fit(&s.genuine, &s.impostor, 1).knots();
            (
                Method::Pav {
                    similarity: k.x,
                    prob_hp: k.p,
                },
                None,
            )
        }
        other => {
            return Err(CalibrationError::LrFit(format!(
                "unknown calibrator {other:?}; expected one of {CALIBRATORS:?}"
            )));
        }
    })
}

/// Held-out log10 LRs of every genuine and impostor score under calibrator `name`.
pub fn held_out_lrs(
    name: &str,
    scores: &ScoreSet,
    folds: usize,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let fg = folds_of(scores.genuine.len(), folds, &mut rng);
    let fi = folds_of(scores.impostor.len(), folds, &mut rng);
    let mut lg = vec![0.0; scores.genuine.len()];
    let mut li = vec![0.0; scores.impostor.len()];
    for fold in 0..folds {
        let pick = |v: &[f64], f: &[usize]| -> Vec<f64> {
            v.iter()
                .zip(f)
                .filter(|&(_, &x)| x != fold)
                .map(|(&s, _)| s)
                .collect()
        };
        let train = ScoreSet::new(pick(&scores.genuine, &fg), pick(&scores.impostor, &fi));
        let (m, pic) = fit_method(name, &train)?;
        let pic = pic.unwrap_or_else(empty_pic);
        for (out, (v, f)) in [
            (&mut lg, (&scores.genuine, &fg)),
            (&mut li, (&scores.impostor, &fi)),
        ] {
            for (i, (&s, &x)) in v.iter().zip(f.iter()).enumerate() {
                if x == fold {
                    out[i] = m.log10_lr(&pic, s);
                }
            }
        }
    }
    Ok((lg, li))
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
    let (lo, hi) = elub(lg, li);
    let clip = |v: &[f64]| v.iter().map(|x| x.clamp(lo, hi)).collect::<Vec<_>>();
    (lo, hi, costs(lg, li), costs(&clip(lg), &clip(li)))
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
    Ok(fit_lr_model_with_held_out(scores, data, seed, ctl)?.0)
}

/// Held-out log10 LRs (genuine, impostor) of each fitted calibrator.
pub type HeldOut = BTreeMap<String, (Vec<f64>, Vec<f64>)>;

/// [`fit_lr_model`] and the held-out LRs its validation computed, so that a
/// caller needing them (`eval`'s plots) does not fit the folds again. The
/// calibrators are independent and run side by side on scoped threads; each
/// computes exactly what it would alone, so the numbers do not depend on it.
pub fn fit_lr_model_with_held_out(
    scores: &ScoreSet,
    data: Vec<DataSetRef>,
    seed: u64,
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
    let fit_one = |name: &str| {
        held_out_lrs(name, scores, LR_FOLDS, seed).and_then(|h| {
            let m = match name {
                "kde" => Method::Kde,
                _ => fit_method(name, scores)?.0,
            };
            Ok((h, m))
        })
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = CALIBRATORS
            .iter()
            .map(|name| scope.spawn(move || fit_one(name)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(CalibrationError::LrFit(
                        "a calibrator's fit panicked".into(),
                    ))
                })
            })
            .collect()
    });
    ctl.check()?;
    let mut calibrators = BTreeMap::new();
    let mut held = HeldOut::new();
    let mut not_fitted = Vec::new();
    for (name, fitted) in CALIBRATORS.iter().zip(results) {
        // A calibrator that cannot be fitted here (logistic regression on
        // classes that do not overlap) is left out, saying why.
        let ((lg, li), method) = match fitted {
            Ok(v) => v,
            Err(CalibrationError::LrFit(why)) => {
                not_fitted.push(format!("{name} left out: {why}"));
                continue;
            }
            Err(e) => return Err(e),
        };
        let (lo, hi, raw, bounded) = validate(&lg, &li);
        calibrators.insert(
            name.to_string(),
            Calibrator {
                method,
                log10_lower_bound: lo,
                log10_upper_bound: hi,
                validation: raw,
                validation_bounded: bounded,
            },
        );
        held.insert(name.to_string(), (lg, li));
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
