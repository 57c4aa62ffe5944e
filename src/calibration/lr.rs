//! Likelihood ratios at run time: a similarity score → log10 LR by the
//! chosen calibrator (KDE densities of the PIC-Score, logistic regression,
//! or PAV), clipped to the ELUB bounds the calibration data supports, with
//! the posterior at a stated prior and the ENFSI verbal equivalent. What the
//! calibration file's `likelihood_ratio` section holds; it is fitted and
//! validated by `fit::lr_fit`.

use super::pic::PicModel;
use super::verbal::{Favours, Scale};
use crate::record::{CalibrationRef, DataSetRef, Evidence};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Prior probability of Hp behind the stated posterior and decision confidence.
pub const DEFAULT_PRIOR_HP: f64 = 0.5;
/// Fewest pairs of each class a calibration's LRs may rest on. Few pairs
/// already give narrow ELUB bounds (|log10 LR| ≤ log10(n + 1)); below this
/// even the bounds are noise.
pub const MIN_PAIRS_PER_CLASS: usize = 3;

/// Cllr, Cllr_min (after PAV) and Cllr_cal = Cllr − Cllr_min, in bits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    pub cllr: f64,
    pub cllr_min: f64,
    pub cllr_cal: f64,
}

/// How one calibrator maps a score to a log10 LR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum Method {
    /// ln of the genuine over the impostor KDE density (the PIC-Score's `pic` grids).
    Kde,
    /// ln LR = intercept + slope · similarity.
    Logistic { intercept: f64, slope: f64 },
    /// Isotonic (PAV) fit with one misleading pair per class: log10 LR at
    /// ascending similarities, linear in probability between them.
    Pav {
        similarity: Vec<f64>,
        prob_hp: Vec<f64>,
    },
}

/// A calibrator, its ELUB bounds and its cross-validated costs. (Unknown
/// fields cannot be refused here: serde does not combine that with the
/// flattened method; the method's own fields are checked.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibrator {
    #[serde(flatten)]
    pub method: Method,
    /// ELUB bounds (log10) of its held-out LRs on the calibration data.
    pub log10_lower_bound: f64,
    pub log10_upper_bound: f64,
    /// Costs of its held-out LRs before bounding.
    pub validation: Costs,
    /// The same after bounding.
    pub validation_bounded: Costs,
}

/// The `likelihood_ratio` section of a calibration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrModel {
    /// The calibrator used unless another is asked for.
    pub default: String,
    /// Why: the measurement that chose it.
    pub default_reason: String,
    /// Folds of the cross-validation behind bounds and costs.
    pub folds: usize,
    pub seed: u64,
    pub calibrators: BTreeMap<String, Calibrator>,
    /// The data sets fitted on.
    pub data: Vec<DataSetRef>,
}

/// log10 LR of a probability of Hp fitted with even class weights.
fn log10_odds(p: f64) -> f64 {
    p.log10() - (1.0 - p).log10()
}

impl Method {
    /// The unbounded log10 LR at a similarity.
    pub fn log10_lr(&self, pic: &PicModel, s: f64) -> f64 {
        match self {
            Method::Kde => (pic.genuine.at(s) - pic.impostor.at(s)) * std::f64::consts::LOG10_E,
            Method::Logistic { intercept, slope } => {
                (intercept + slope * s) * std::f64::consts::LOG10_E
            }
            Method::Pav {
                similarity: x,
                prob_hp: p,
            } => {
                let n = x.len();
                let prob = if s <= x[0] {
                    p[0]
                } else if s >= x[n - 1] {
                    p[n - 1]
                } else {
                    let i = x.partition_point(|&v| v <= s);
                    p[i - 1] + (p[i] - p[i - 1]) * (s - x[i - 1]) / (x[i] - x[i - 1])
                };
                log10_odds(prob)
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Method::Kde => Ok(()),
            Method::Logistic { intercept, slope } => {
                if intercept.is_finite() && slope.is_finite() {
                    Ok(())
                } else {
                    Err("logistic intercept and slope must be finite".into())
                }
            }
            Method::Pav {
                similarity,
                prob_hp,
            } => {
                if similarity.len() < 2 || similarity.len() != prob_hp.len() {
                    return Err(
                        "pav needs at least two similarity/prob_hp points of equal count".into(),
                    );
                }
                if similarity.iter().any(|v| !v.is_finite())
                    || similarity.windows(2).any(|w| w[0] >= w[1])
                {
                    return Err("pav similarities must be finite and strictly ascending".into());
                }
                if prob_hp.iter().any(|p| !(*p > 0.0 && *p < 1.0))
                    || prob_hp.windows(2).any(|w| w[0] > w[1])
                {
                    return Err(
                        "pav prob_hp must lie strictly between 0 and 1 and never decrease".into(),
                    );
                }
                Ok(())
            }
        }
    }
}

impl LrModel {
    /// Problems that make the section unusable, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let c = self.calibrators.get(&self.default).ok_or_else(|| {
            format!(
                "likelihood_ratio.default is {:?}, which is not among likelihood_ratio.calibrators",
                self.default
            )
        })?;
        let _ = c;
        for (name, c) in &self.calibrators {
            c.method
                .check()
                .map_err(|e| format!("likelihood_ratio.calibrators.{name}: {e}"))?;
            let (lo, hi) = (c.log10_lower_bound, c.log10_upper_bound);
            if !(lo.is_finite() && hi.is_finite() && lo <= 0.0 && hi >= 0.0) {
                return Err(format!(
                    "likelihood_ratio.calibrators.{name}: bounds {lo} … {hi} must be finite with lower ≤ 0 ≤ upper"
                ));
            }
        }
        if self.data.is_empty() {
            return Err("likelihood_ratio.data names no data set".into());
        }
        let (g, i) = self.data.iter().fold((0, 0), |(g, i), d| {
            (g + d.genuine_pairs, i + d.impostor_pairs)
        });
        if g == 0 || i == 0 {
            return Err(format!(
                "likelihood_ratio.data holds {g} genuine and {i} impostor pairs: both classes are needed"
            ));
        }
        if g < MIN_PAIRS_PER_CLASS || i < MIN_PAIRS_PER_CLASS {
            return Err(format!(
                "likelihood_ratio.data holds {g} genuine and {i} impostor pairs: too few, at least {MIN_PAIRS_PER_CLASS} of each are needed"
            ));
        }
        Ok(())
    }

    /// The evidence of a similarity score under calibrator `name` (default
    /// if `None`) at prior P(Hp) = `prior_hp`.
    pub fn evidence(
        &self,
        pic: &PicModel,
        similarity: f64,
        name: Option<&str>,
        prior_hp: f64,
        calibration: CalibrationRef,
    ) -> Option<Evidence> {
        let name = name.unwrap_or(&self.default);
        let c = self.calibrators.get(name)?;
        let raw = c.method.log10_lr(pic, similarity);
        let (lo, hi) = (c.log10_lower_bound, c.log10_upper_bound);
        let bounded = if raw.is_nan() { 0.0 } else { raw.clamp(lo, hi) };
        let clipped = raw.is_nan() || raw < lo || raw > hi;
        let scale = Scale::enfsi();
        let (band, favours) = scale.words(bounded);
        let odds = prior_hp / (1.0 - prior_hp) * 10f64.powf(bounded);
        Some(Evidence {
            hp: scale.hp.clone(),
            hd: scale.hd.clone(),
            lr: 10f64.powf(bounded),
            log10_lr: bounded,
            log10_lr_unbounded: raw,
            log10_lower_bound: lo,
            log10_upper_bound: hi,
            clipped,
            verbal: scale.sentence(bounded),
            verbal_band: band.to_string(),
            favours: match favours {
                Favours::Hp => "Hp",
                Favours::Hd => "Hd",
                Favours::Neither => "neither",
            }
            .into(),
            scale: format!("{} ({})", scale.name, scale.source),
            calibrator: name.to_string(),
            prior_hp,
            posterior_hp: odds / (1.0 + odds),
            calibration,
            data: self.data.clone(),
        })
    }
}
