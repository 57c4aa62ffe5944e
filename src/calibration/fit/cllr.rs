//! Performance of LRs over a labelled validation set: the log-likelihood-
//! ratio cost Cllr (Brümmer & du Preez 2006, "Application-independent
//! evaluation of speaker detection"), its discrimination part Cllr_min (after
//! the optimal monotone re-calibration by PAV) and calibration part
//! Cllr_cal = Cllr − Cllr_min; the empirical cross-entropy (ECE) over prior
//! log-odds (Ramos 2007) and the Tippett plot's curves. Every input is a
//! log10 LR; Hp = same person, Hd = different people.

use super::pav::pav_log10_lrs;
use serde::{Deserialize, Serialize};

/// Cllr in bits: ½ mean over Hp of log2(1 + 1/LR) + ½ mean over Hd of log2(1 + LR).
pub fn cllr(hp: &[f64], hd: &[f64]) -> f64 {
    let mean = |v: &[f64], sign: f64| {
        v.iter().map(|&l| log2_1p_pow10(sign * l)).sum::<f64>() / v.len() as f64
    };
    0.5 * (mean(hp, -1.0) + mean(hd, 1.0))
}

/// log2(1 + 10^x) without overflow.
fn log2_1p_pow10(x: f64) -> f64 {
    let ln10 = std::f64::consts::LN_10;
    let y = x * ln10;
    let sp = if y > 0.0 {
        y + (-y).exp().ln_1p()
    } else {
        y.exp().ln_1p()
    };
    sp / std::f64::consts::LN_2
}

pub use crate::calibration::lr::Costs;

/// Cllr, Cllr_min and Cllr_cal.
pub fn costs(hp: &[f64], hd: &[f64]) -> Costs {
    let c = cllr(hp, hd);
    let (php, phd) = pav_log10_lrs(hp, hd);
    let m = cllr(&php, &phd);
    Costs {
        cllr: c,
        cllr_min: m,
        cllr_cal: c - m,
    }
}

/// Empirical cross-entropy (bits) at each prior log10 odds:
/// P(Hp)·mean_Hp −log2 P(Hp | LR) + P(Hd)·mean_Hd −log2 P(Hd | LR).
pub fn ece(hp: &[f64], hd: &[f64], prior_log10_odds: &[f64]) -> Vec<f64> {
    prior_log10_odds
        .iter()
        .map(|&o| {
            let p = 1.0 / (1.0 + 10f64.powf(-o));
            let ep = hp.iter().map(|&l| log2_1p_pow10(-(l + o))).sum::<f64>() / hp.len() as f64;
            let ed = hd.iter().map(|&l| log2_1p_pow10(l + o)).sum::<f64>() / hd.len() as f64;
            p * ep + (1.0 - p) * ed
        })
        .collect()
}

/// ECE curves of the LRs, of their PAV transform and of the neutral LR = 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EceCurves {
    pub prior_log10_odds: Vec<f64>,
    pub lrs: Vec<f64>,
    pub pav: Vec<f64>,
    pub neutral: Vec<f64>,
}

/// ECE curves over prior log10 odds −3 … 3 in steps of 0.05.
pub fn ece_curves(hp: &[f64], hd: &[f64]) -> EceCurves {
    let x: Vec<f64> = (0..=120).map(|i| -3.0 + 0.05 * i as f64).collect();
    let (php, phd) = pav_log10_lrs(hp, hd);
    EceCurves {
        lrs: ece(hp, hd, &x),
        pav: ece(&php, &phd, &x),
        neutral: ece(&[0.0], &[0.0], &x),
        prior_log10_odds: x,
    }
}

/// The Tippett plot's curves: for each log10 LR x, the share of Hp and of
/// Hd pairs whose log10 LR is at least x. Points at each distinct value.
pub fn tippett(v: &[f64]) -> Vec<(f64, f64)> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        out.push((s[i], (s.len() - i) as f64 / n));
        let x = s[i];
        while i < s.len() && s[i] == x {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cllr_of_known_sets() {
        // The neutral LR costs exactly 1 bit; LR = 10 on Hp and 0.1 on Hd
        // costs log2(1.1) each.
        assert!((cllr(&[0.0, 0.0], &[0.0]) - 1.0).abs() < 1e-15);
        assert!((cllr(&[1.0], &[-1.0]) - 1.1f64.log2()).abs() < 1e-15);
        // Wrong and sure: LR 1000 on an Hd pair alone costs ½ log2(1001).
        assert!(
            (cllr(&[9.0], &[3.0]) - 0.5 * (1e-9f64.ln_1p() + 1001f64.ln()) / 2f64.ln()).abs()
                < 1e-12
        );
        // Far tails stay finite.
        assert!(cllr(&[-400.0], &[0.0]).is_finite());
    }

    #[test]
    fn cllr_min_of_separated_sets_is_zero_and_cal_is_the_rest() {
        let c = costs(&[0.5, 0.6], &[0.1, 0.2, 0.3]);
        assert_eq!(c.cllr_min, 0.0);
        assert!((c.cllr_cal - c.cllr).abs() < 1e-15);
        // Fully overlapping: PAV gives LR 1 everywhere → Cllr_min = 1.
        let c = costs(&[0.3, 0.3], &[0.3]);
        assert!((c.cllr_min - 1.0).abs() < 1e-12, "{c:?}");
        // PAV is optimal among monotone maps: never above Cllr.
        let c = costs(&[1.0, -0.5, 2.0, 0.2], &[-1.0, 0.5, -2.0]);
        assert!(c.cllr_min <= c.cllr && c.cllr_cal >= 0.0, "{c:?}");
    }

    #[test]
    fn ece_at_even_odds_is_cllr_and_neutral_is_the_prior_entropy() {
        let (hp, hd) = ([1.0, 0.3, -0.2], [-1.5, 0.4]);
        let e = ece(&hp, &hd, &[0.0]);
        assert!((e[0] - cllr(&hp, &hd)).abs() < 1e-12);
        let n = ece(&[0.0], &[0.0], &[1.0]);
        let p: f64 = 10.0 / 11.0;
        assert!((n[0] + p * p.log2() + (1.0 - p) * (1.0 - p).log2()).abs() < 1e-12);
    }

    #[test]
    fn tippett_counts_at_least() {
        let t = tippett(&[0.5, -1.0, 0.5, 2.0]);
        assert_eq!(t, vec![(-1.0, 1.0), (0.5, 0.75), (2.0, 0.25)]);
    }
}
