//! Performance of LRs over a labelled validation set: the log-likelihood-
//! ratio cost Cllr (Brümmer & du Preez 2006, "Application-independent
//! evaluation of speaker detection"), its discrimination part Cllr_min (after
//! the optimal monotone re-calibration by PAV) and calibration part
//! Cllr_cal = Cllr − Cllr_min; the empirical cross-entropy (ECE) over prior
//! log-odds (Ramos 2007) and the Tippett plot's curves. Every input is a
//! log10 LR; Hp = same person, Hd = different people.

use super::order::sorted;
use super::ranked::Ranked;
use serde::{Deserialize, Serialize};

/// Cllr in bits: ½ mean over Hp of log2(1 + 1/LR) + ½ mean over Hd of log2(1 + LR).
pub fn cllr(hp: &[f64], hd: &[f64]) -> f64 {
    let mean = |v: &[f64], sign: f64| {
        v.iter().map(|&l| log2_1p_pow10(sign * l)).sum::<f64>() / v.len() as f64
    };
    0.5 * (mean(hp, -1.0) + mean(hd, 1.0))
}

/// [`cllr`] of log10 LRs `v` (Hp, Hd) that ascend along `r`'s order (its
/// own values, or their PAV transform). Bounded and PAV-transformed LRs
/// repeat by the thousand: each distinct value's cost is computed once, and
/// the costs are summed in the pairs' order, as [`cllr`] sums them.
fn cllr_ranked(r: &Ranked, v: (&[f64], &[f64])) -> f64 {
    let (np, nd) = (v.0.len(), v.1.len());
    let (mut cp, mut cd) = (vec![0.0; np], vec![0.0; nd]);
    // The last value seen and its costs as an Hp and as an Hd pair.
    let mut last: Option<(u64, f64, f64)> = None;
    for k in r.positions() {
        let x = if k < np { v.0[k] } else { v.1[k - np] };
        let (_, to_hp, to_hd) = match last {
            Some(l) if l.0 == x.to_bits() => l,
            _ => {
                let l = (x.to_bits(), log2_1p_pow10(-x), log2_1p_pow10(x));
                last = Some(l);
                l
            }
        };
        if k < np {
            cp[k] = to_hp;
        } else {
            cd[k - np] = to_hd;
        }
    }
    let mean = |c: &[f64]| c.iter().sum::<f64>() / c.len() as f64;
    0.5 * (mean(&cp) + mean(&cd))
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
    costs_ranked(&Ranked::new(hp, hd))
}

/// [`costs`] of log10 LRs already ranked.
pub fn costs_ranked(r: &Ranked) -> Costs {
    let c = cllr_ranked(r, (&r.hp, &r.hd));
    let (php, phd) = r.pav_log10_lrs();
    let m = cllr_ranked(r, (&php, &phd));
    Costs {
        cllr: c,
        cllr_min: m,
        cllr_cal: c - m,
    }
}

/// Empirical cross-entropy (bits) at each prior log10 odds:
/// P(Hp)·mean_Hp −log2 P(Hp | LR) + P(Hd)·mean_Hd −log2 P(Hd | LR).
/// Each distinct LR is costed once and weighed by how often it occurs
/// (bounded LRs sit at their bounds by the thousand).
pub fn ece(hp: &[f64], hd: &[f64], prior_log10_odds: &[f64]) -> Vec<f64> {
    ece_sorted(&sorted(hp), &sorted(hd), prior_log10_odds)
}

/// [`ece`] of each class's log10 LRs sorted ascending.
fn ece_sorted(hp: &[f64], hd: &[f64], prior_log10_odds: &[f64]) -> Vec<f64> {
    let (rp, rd) = (runs(hp), runs(hd));
    let mean = |r: &[(f64, f64)], n: usize, f: &dyn Fn(f64) -> f64| {
        r.iter().map(|&(l, c)| c * f(l)).sum::<f64>() / n as f64
    };
    prior_log10_odds
        .iter()
        .map(|&o| {
            let p = 1.0 / (1.0 + 10f64.powf(-o));
            let ep = mean(&rp, hp.len(), &|l| log2_1p_pow10(-(l + o)));
            let ed = mean(&rd, hd.len(), &|l| log2_1p_pow10(l + o));
            p * ep + (1.0 - p) * ed
        })
        .collect()
}

/// The distinct values of `v` (sorted), each with how often it occurs.
fn runs(v: &[f64]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &x in v {
        match out.last_mut() {
            Some((y, c)) if *y == x => *c += 1.0,
            _ => out.push((x, 1.0)),
        }
    }
    out
}

/// ECE curves of the LRs, of their PAV transform and of the neutral LR = 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EceCurves {
    pub prior_log10_odds: Vec<f64>,
    pub lrs: Vec<f64>,
    pub pav: Vec<f64>,
    pub neutral: Vec<f64>,
}

/// ECE curves over prior log10 odds −3 … 3 in steps of 0.05 of ranked
/// log10 LRs and their PAV transform `pav` ([`Ranked::pav_log10_lrs`]).
pub fn ece_curves(r: &Ranked, pav: (&[f64], &[f64])) -> EceCurves {
    let x: Vec<f64> = (0..=120).map(|i| -3.0 + 0.05 * i as f64).collect();
    let class = |hp: bool| (r.class_sorted(hp), r.pav_class_sorted(pav, hp));
    let ((lp, pp), (ld, pd)) = (class(true), class(false));
    EceCurves {
        lrs: ece_sorted(&lp, &ld, &x),
        pav: ece_sorted(&pp, &pd, &x),
        neutral: ece(&[0.0], &[0.0], &x),
        prior_log10_odds: x,
    }
}

/// The Tippett plot's curves: for each log10 LR x, the share of Hp and of
/// Hd pairs whose log10 LR is at least x. Points at each distinct value.
pub fn tippett(v: &[f64]) -> Vec<(f64, f64)> {
    tippett_sorted(&sorted(v))
}

/// [`tippett`] of log10 LRs sorted ascending.
pub fn tippett_sorted(s: &[f64]) -> Vec<(f64, f64)> {
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
    fn costs_of_ranked_lrs_are_the_same_to_the_bit() {
        // Bounded LRs: most at a bound, the rest spread, Hp and Hd interleaved.
        let hp: Vec<f64> = (0..700)
            .map(|i| (((i * 31) % 97) as f64 / 9.0 - 2.0).clamp(-3.25, 4.88))
            .collect();
        let hd: Vec<f64> = (0..900)
            .map(|i| (((i * 17) % 83) as f64 / -7.0 + 1.5).clamp(-3.25, 4.88))
            .collect();
        let r = Ranked::new(&hp, &hd);
        let c = costs_ranked(&r);
        assert_eq!(c.cllr.to_bits(), cllr(&hp, &hd).to_bits());
        let (php, phd) = crate::calibration::fit::pav::pav_log10_lrs(&hp, &hd);
        assert_eq!(c.cllr_min.to_bits(), cllr(&php, &phd).to_bits());
        assert_eq!(costs(&hp, &hd), c);
    }

    #[test]
    fn ece_weighs_repeated_lrs_as_the_sum_over_every_pair() {
        let hp: Vec<f64> = (0..500).map(|i| [4.0, 1.5, -0.5, 4.0][i % 4]).collect();
        let hd: Vec<f64> = (0..700).map(|i| [-3.0, -3.0, 0.25][i % 3]).collect();
        let priors = [-2.0, -0.3, 0.0, 1.7];
        for (o, got) in priors.iter().zip(ece(&hp, &hd, &priors)) {
            let p = 1.0 / (1.0 + 10f64.powf(-o));
            let each = |v: &[f64], sign: f64| {
                v.iter()
                    .map(|&l| log2_1p_pow10(sign * (l + o)))
                    .sum::<f64>()
                    / v.len() as f64
            };
            let want = p * each(&hp, -1.0) + (1.0 - p) * each(&hd, 1.0);
            assert!(
                (got - want).abs() <= 1e-13 * want,
                "prior {o}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn tippett_counts_at_least() {
        let t = tippett(&[0.5, -1.0, 0.5, 2.0]);
        assert_eq!(t, vec![(-1.0, 1.0), (0.5, 0.75), (2.0, 0.25)]);
    }
}
