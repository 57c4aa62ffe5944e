//! Empirical lower and upper bounds (ELUB) of Vergeer, van Es, de Jongh,
//! Alberink & Stoel 2016 ("Numerical likelihood ratios outputted by LR
//! systems are often based on extrapolation: when to stop extrapolating?",
//! Science & Justice 56:482–491): the most extreme log10 LRs a validation set
//! supports. For each threshold LR θ the expected utility of deciding "Hp" when
//! LR > θ is compared with that of a neutral system (LR ≡ 1), with one
//! misleading LR added to each class; the bounds are the thresholds nearest
//! to 0 where the system does worse than neutral, one step inside. Grid,
//! range and misleading points as in NFI's `lir` (`elub`), which the tests
//! check against.

use super::ranked::Ranked;

/// Step of the log10 threshold grid.
pub const STEP: f64 = 0.01;
/// log10 LRs beyond ±9 are taken as ±9 (lir's substitute for 0 and ∞).
pub const EXTREME: f64 = 9.0;

/// (lower, upper) log10 LR bounds from the log10 LRs of Hp and Hd pairs.
pub fn elub(hp: &[f64], hd: &[f64]) -> (f64, f64) {
    elub_ranked(&Ranked::new(hp, hd))
}

/// [`elub`] of log10 LRs already ranked.
pub fn elub_ranked(r: &Ranked) -> (f64, f64) {
    let clamp = |v: &f64| v.clamp(-EXTREME, EXTREME);
    let hp: Vec<f64> = r.hp.iter().map(clamp).collect();
    let hd: Vec<f64> = r.hd.iter().map(clamp).collect();
    let lo = hp.iter().chain(&hd).copied().fold(f64::INFINITY, f64::min);
    let hi = hp
        .iter()
        .chain(&hd)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    // LB > −log10(n_Hp + 1), UB < log10(n_Hd + 1).
    let llr_min = lo.max(-((hp.len() + 1) as f64).log10());
    let llr_max = hi.min(((hd.len() + 1) as f64).log10());
    let k_min = ((llr_min / STEP).floor() as i64).min(0);
    let k_max = ((llr_max / STEP).floor() as i64 + 1).max(0);
    let (a, b) = (k_min as f64 * STEP, k_max as f64 * STEP);
    let m = (k_max - k_min) as usize;
    let grid: Vec<f64> = (0..=m)
        .map(|i| {
            if m == 0 {
                a
            } else if i == m {
                b
            } else {
                a + i as f64 * ((b - a) / m as f64)
            }
        })
        .collect();
    // LRs of each class sorted, to count those above a threshold (the
    // clamp and 10^x keep the log10 LRs' order).
    let lr = |hp: bool| {
        let v = r.class_sorted(hp);
        v.iter().map(|x| 10f64.powf(clamp(x))).collect::<Vec<f64>>()
    };
    let (lp, ld) = (lr(true), lr(false));
    let (np, nd) = (hp.len(), hd.len());
    let (mut lower, mut upper) = (None::<f64>, None::<f64>);
    for &t in &grid {
        let theta = 10f64.powf(t);
        // Neutral system: every LR is 1, accepted when 1 > θ.
        let neutral_acc = if 1.0 > theta { 1.0 } else { 0.0 };
        let eu_neutral = 1.0 - neutral_acc + theta * neutral_acc;
        let above = |l: &[f64]| l.len() - l.partition_point(|&x| x <= theta);
        // One misleading Hp never accepted, one misleading Hd always accepted.
        let acc_p = above(&lp) as f64 / (np + 1) as f64;
        let acc_d = (above(&ld) + 1) as f64 / (nd + 1) as f64;
        let eu_system = 1.0 - acc_p + theta * acc_d;
        if eu_neutral / eu_system < 1.0 {
            if t <= 0.0 {
                lower = Some(lower.map_or(t, |l: f64| l.max(t)));
            }
            if t >= 0.0 {
                upper = Some(upper.map_or(t, |u: f64| u.min(t)));
            }
        }
    }
    let lower = lower.map_or(grid[0], |l| l + STEP).min(0.0);
    let upper = upper.map_or(grid[m], |u| u - STEP).max(0.0);
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_separated_sets_are_bounded_by_their_sizes() {
        // All Hp at +6, all Hd at −6: no misleading LR but the added ones, so
        // the bounds are where one misleading pair in n + 1 costs as much as
        // the neutral system: close to ±log10(n + 1).
        let hp = vec![6.0; 99];
        let hd = vec![-6.0; 999];
        let (lo, hi) = elub(&hp, &hd);
        assert!((lo - (-2.0)).abs() <= 0.011, "{lo}");
        assert!((hi - 3.0).abs() <= 0.011, "{hi}");
        assert!(lo < 0.0 && hi > 0.0);
    }

    #[test]
    fn useless_lrs_are_bounded_at_one() {
        // LRs that do not separate the classes support no LR away from 1.
        let v: Vec<f64> = (0..200).map(|i| (i as f64 / 100.0) - 1.0).collect();
        let (lo, hi) = elub(&v, &v);
        assert!(lo.abs() <= 0.02 && hi.abs() <= 0.02, "{lo} {hi}");
    }

    #[test]
    fn bounds_never_exceed_the_data_and_straddle_zero() {
        let hp: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
        let hd: Vec<f64> = (0..500).map(|i| -(i as f64) / 100.0).collect();
        let (lo, hi) = elub(&hp, &hd);
        assert!(lo <= 0.0 && hi >= 0.0);
        assert!(hi <= (501f64).log10() + STEP && lo >= -(51f64).log10() - STEP);
    }
}
