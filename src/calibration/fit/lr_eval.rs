//! Likelihood ratios measured on a labelled set: each calibrator's held-out
//! validation on the set itself, and how a fixed calibration's LRs transfer
//! to it (its bounded LRs scored by Cllr, how often they are clipped or
//! misleading, and the bounds this set would support).

use super::cllr::{cllr, costs_ranked};
use super::elub::elub_ranked;
use super::evaluate::FoldPics;
use super::lr_fit::{Lrs, fit_lr_model_with_held_out};
use super::metrics::ScoreSet;
use super::ranked::Ranked;
use crate::calibration::lr::{Costs, LrModel};
use crate::calibration::{Calibration, Result};
use crate::progress::Ctl;
use crate::record::DataSetRef;
use serde::Serialize;

/// A fixed calibration's LRs on another set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transfer {
    pub calibration: String,
    pub calibration_sha256: String,
    pub calibrator: String,
    /// The sets it was fitted on.
    pub fitted_on: Vec<DataSetRef>,
    /// Its bounds (log10) and those this set's LRs would get.
    pub bounds: (f64, f64),
    pub bounds_supported_here: (f64, f64),
    /// Costs of its bounded LRs on this set.
    pub costs: Costs,
    /// Share of pairs whose LR was clipped to a bound.
    pub clipped: f64,
    /// Share of Hp pairs with LR < 1 and of Hd pairs with LR > 1.
    pub misleading_hp: f64,
    pub misleading_hd: f64,
}

/// The set's own validation and, given a calibration with LRs, the transfer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LrEvaluation {
    pub on_this_set: LrModel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
    /// Held-out, bounded log10 LRs of the default calibrator (for plots).
    #[serde(skip)]
    pub held_out: (Vec<f64>, Vec<f64>),
}

/// Validate every calibrator on `s` by cross-validation and, when
/// `calibration` has LRs, measure its transfer to `s`. `reuse`: the KDE
/// densities of the same folds, when the caller has fitted them.
pub fn evaluate_lrs(
    s: &ScoreSet,
    data: DataSetRef,
    seed: u64,
    calibration: Option<&Calibration>,
    reuse: Option<&FoldPics>,
    ctl: Ctl,
) -> Result<LrEvaluation> {
    let (model, mut held) = fit_lr_model_with_held_out(s, vec![data], seed, reuse, ctl)?;
    let best = &model.calibrators[&model.default];
    let (lg, li) = held.remove(&model.default).unwrap_or_default();
    let bounds = (best.log10_lower_bound, best.log10_upper_bound);
    let held_out = (clip(&lg, bounds), clip(&li, bounds));
    let transfer = calibration.and_then(|c| transfer(c, s));
    Ok(LrEvaluation {
        on_this_set: model,
        transfer,
        held_out,
    })
}

/// `cal`'s default calibrator (its name and bounds) and its unbounded log10
/// LRs of `s`'s genuine and impostor scores (`None` without LRs).
fn raw_lrs<'a>(cal: &'a Calibration, s: &ScoreSet) -> Option<(&'a str, (f64, f64), Lrs)> {
    let lr = cal.file.fitted.likelihood_ratio.as_ref()?;
    let c = lr.calibrators.get(&lr.default)?;
    let pic = &cal.file.fitted.pic;
    let raw = |v: &[f64]| {
        v.iter()
            .map(|&x| c.method.log10_lr(pic, x))
            .collect::<Vec<f64>>()
    };
    Some((
        lr.default.as_str(),
        (c.log10_lower_bound, c.log10_upper_bound),
        (raw(&s.genuine), raw(&s.impostor)),
    ))
}

fn clip(v: &[f64], (lo, hi): (f64, f64)) -> Vec<f64> {
    v.iter().map(|x| x.clamp(lo, hi)).collect()
}

/// Cllr of `cal`'s bounded LRs on `s` (`None` without LRs): the one figure
/// of [`transfer`] a subset of pairs reports.
pub fn bounded_cllr(cal: &Calibration, s: &ScoreSet) -> Option<f64> {
    let (_, bounds, (rg, ri)) = raw_lrs(cal, s)?;
    Some(cllr(&clip(&rg, bounds), &clip(&ri, bounds)))
}

/// How `cal`'s default calibrator does on `s` (`None` without LRs).
pub fn transfer(cal: &Calibration, s: &ScoreSet) -> Option<Transfer> {
    let (calibrator, (lo, hi), (rg, ri)) = raw_lrs(cal, s)?;
    let lr = cal.file.fitted.likelihood_ratio.as_ref()?;
    let n = (rg.len() + ri.len()).max(1) as f64;
    let clipped = rg.iter().chain(&ri).filter(|&&x| x < lo || x > hi).count() as f64 / n;
    let r = Ranked::new(&rg, &ri);
    let bounded = r.clamped(lo, hi);
    let (bg, bi) = (&bounded.hp, &bounded.hd);
    let share = |v: &[f64], f: &dyn Fn(f64) -> bool| {
        v.iter().filter(|&&x| f(x)).count() as f64 / v.len().max(1) as f64
    };
    Some(Transfer {
        calibration: cal.name.clone(),
        calibration_sha256: cal.sha256.clone(),
        calibrator: calibrator.to_string(),
        fitted_on: lr.data.clone(),
        bounds: (lo, hi),
        bounds_supported_here: elub_ranked(&r),
        costs: costs_ranked(&bounded),
        clipped,
        misleading_hp: share(bg, &|x| x < 0.0),
        misleading_hd: share(bi, &|x| x > 0.0),
    })
}
