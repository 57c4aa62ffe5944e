//! Likelihood ratios measured on a labelled set: each calibrator's held-out
//! validation on the set itself, and how a fixed calibration's LRs transfer
//! to it (its bounded LRs scored by Cllr, how often they are clipped or
//! misleading, and the bounds this set would support).

use super::cllr::costs;
use super::elub::elub;
use super::lr_fit::fit_lr_model_with_held_out;
use super::metrics::ScoreSet;
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
/// `calibration` has LRs, measure its transfer to `s`.
pub fn evaluate_lrs(
    s: &ScoreSet,
    data: DataSetRef,
    seed: u64,
    calibration: Option<&Calibration>,
    ctl: Ctl,
) -> Result<LrEvaluation> {
    let (model, mut held) = fit_lr_model_with_held_out(s, vec![data], seed, ctl)?;
    let best = &model.calibrators[&model.default];
    let (lg, li) = held.remove(&model.default).unwrap_or_default();
    let clip = |v: &[f64]| {
        v.iter()
            .map(|x| x.clamp(best.log10_lower_bound, best.log10_upper_bound))
            .collect::<Vec<_>>()
    };
    let held_out = (clip(&lg), clip(&li));
    let transfer = calibration.and_then(|c| transfer(c, s));
    Ok(LrEvaluation {
        on_this_set: model,
        transfer,
        held_out,
    })
}

/// How `cal`'s default calibrator does on `s` (`None` without LRs).
pub fn transfer(cal: &Calibration, s: &ScoreSet) -> Option<Transfer> {
    let lr = cal.file.fitted.likelihood_ratio.as_ref()?;
    let c = lr.calibrators.get(&lr.default)?;
    let pic = &cal.file.fitted.pic;
    let (lo, hi) = (c.log10_lower_bound, c.log10_upper_bound);
    let raw = |v: &[f64]| {
        v.iter()
            .map(|&x| c.method.log10_lr(pic, x))
            .collect::<Vec<f64>>()
    };
    let (rg, ri) = (raw(&s.genuine), raw(&s.impostor));
    let n = (rg.len() + ri.len()).max(1) as f64;
    let clipped = rg.iter().chain(&ri).filter(|&&x| x < lo || x > hi).count() as f64 / n;
    let clip = |v: &[f64]| v.iter().map(|x| x.clamp(lo, hi)).collect::<Vec<_>>();
    let (bg, bi) = (clip(&rg), clip(&ri));
    let share = |v: &[f64], f: &dyn Fn(f64) -> bool| {
        v.iter().filter(|&&x| f(x)).count() as f64 / v.len().max(1) as f64
    };
    Some(Transfer {
        calibration: cal.name.clone(),
        calibration_sha256: cal.sha256.clone(),
        calibrator: lr.default.clone(),
        fitted_on: lr.data.clone(),
        bounds: (lo, hi),
        bounds_supported_here: elub(&rg, &ri),
        costs: costs(&bg, &bi),
        clipped,
        misleading_hp: share(&bg, &|x| x < 0.0),
        misleading_hd: share(&bi, &|x| x > 0.0),
    })
}
