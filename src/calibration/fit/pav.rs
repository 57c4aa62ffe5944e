//! Pool-adjacent-violators (PAV): the weighted isotonic regression of the
//! class label on the score, as a score-to-LR calibrator and as the optimal
//! monotone re-calibration behind Cllr_min (Brümmer & du Preez 2006).
//!
//! Each class weighs the same in total (Hp pairs weigh the Hd share and vice
//! versa), so the fitted probability is a posterior at even prior odds and
//! its log-odds is the log10 LR. Equal scores are pooled first; between the
//! fitted points the probability is interpolated linearly and clamped at the
//! ends — the behaviour of NFI's `lir` `IsotonicCalibrator`, which the tests
//! check against.

use super::ranked::Ranked;

/// A fitted isotonic map: ascending distinct scores and the probability of
/// Hp fitted at each.
#[derive(Clone, Debug, PartialEq)]
pub struct Isotonic {
    pub x: Vec<f64>,
    pub p: Vec<f64>,
}

/// log10 of p / (1 − p) (±∞ at 1 and 0).
pub fn log10_odds(p: f64) -> f64 {
    p.log10() - (1.0 - p).log10()
}

impl Isotonic {
    /// Fit on Hp (`hp`) and Hd (`hd`) scores. `add_misleading` adds that many
    /// Hd scores one above the highest score and Hp scores one below the
    /// lowest, which keeps every fitted LR finite (as `lir`'s option does).
    /// Needs at least one score of each class.
    pub fn fit(hp: &[f64], hd: &[f64], add_misleading: usize) -> Isotonic {
        Isotonic::fit_sorted(&labelled_sorted(hp, hd), add_misleading)
    }

    /// [`Isotonic::fit`] of scores already labelled and sorted as
    /// [`labelled_sorted`] sorts them (or any subset of such a list, which
    /// is sorted the same way): cross-validation sorts once for every fold.
    pub fn fit_sorted(pts: &[(f64, bool)], add_misleading: usize) -> Isotonic {
        let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let hi = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let n_hp = pts.iter().filter(|p| p.1).count() + add_misleading;
        let n_hd = pts.len() + 2 * add_misleading - n_hp;
        let prior = n_hp as f64 / (n_hp + n_hd) as f64;
        // (score, label, weight), Hp weighs (1 − prior), Hd weighs prior;
        // the misleading Hp scores come first, the misleading Hd ones last.
        let weighted = |&(s, hp): &(f64, bool)| {
            if hp {
                (s, 1.0, 1.0 - prior)
            } else {
                (s, 0.0, prior)
            }
        };
        let low = std::iter::repeat_n((lo - 1.0, true), add_misleading);
        let high = std::iter::repeat_n((hi + 1.0, false), add_misleading);
        // Pool equal scores: weighted mean label, summed weight.
        let n = pts.len() + 2 * add_misleading;
        let mut xs: Vec<f64> = Vec::with_capacity(n);
        let mut ys: Vec<f64> = Vec::with_capacity(n);
        let mut ws: Vec<f64> = Vec::with_capacity(n);
        for (s, y, w) in low
            .chain(pts.iter().copied())
            .chain(high)
            .map(|p| weighted(&p))
        {
            if xs.last() == Some(&s) {
                let k = xs.len() - 1;
                ys[k] += y * w;
                ws[k] += w;
            } else {
                xs.push(s);
                ys.push(y * w);
                ws.push(w);
            }
        }
        for (y, w) in ys.iter_mut().zip(&ws) {
            *y /= w;
        }
        let p = pav(&ys, &ws);
        Isotonic { x: xs, p }
    }

    /// The fitted probability of Hp at score `s`: linear between fitted
    /// points, clamped to the first and last.
    pub fn prob(&self, s: f64) -> f64 {
        let n = self.x.len();
        if n == 0 {
            return f64::NAN;
        }
        if s <= self.x[0] {
            return self.p[0];
        }
        if s >= self.x[n - 1] {
            return self.p[n - 1];
        }
        let i = self.x.partition_point(|&v| v <= s);
        let (x0, x1, p0, p1) = (self.x[i - 1], self.x[i], self.p[i - 1], self.p[i]);
        p0 + (p1 - p0) * (s - x0) / (x1 - x0)
    }

    /// log10 LR at score `s`.
    pub fn log10_lr(&self, s: f64) -> f64 {
        log10_odds(self.prob(s))
    }

    /// Only the points where the fitted value changes (the ends of each
    /// constant block): the same map, fewer points to store.
    pub fn knots(&self) -> Isotonic {
        let n = self.x.len();
        let keep = |i: usize| {
            i == 0 || i + 1 == n || self.p[i - 1] != self.p[i] || self.p[i] != self.p[i + 1]
        };
        let idx: Vec<usize> = (0..n).filter(|&i| keep(i)).collect();
        Isotonic {
            x: idx.iter().map(|&i| self.x[i]).collect(),
            p: idx.iter().map(|&i| self.p[i]).collect(),
        }
    }
}

/// Hp (`hp`) and Hd (`hd`) scores labelled (true for Hp) and sorted
/// ascending; equal scores keep Hp before Hd, each in the given order.
pub fn labelled_sorted(hp: &[f64], hd: &[f64]) -> Vec<(f64, bool)> {
    Ranked::new(hp, hd).labelled()
}

/// Weighted pool-adjacent-violators: the non-decreasing sequence closest to
/// `y` in weighted least squares.
pub fn pav(y: &[f64], w: &[f64]) -> Vec<f64> {
    // Blocks as (mean, weight, length), merged while they violate the order.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(y.len());
    for (&v, &wt) in y.iter().zip(w) {
        let mut cur = (v, wt, 1usize);
        while let Some(&(m, bw, len)) = blocks.last() {
            if m <= cur.0 {
                break;
            }
            blocks.pop();
            let tw = bw + cur.1;
            cur = ((m * bw + cur.0 * cur.1) / tw, tw, len + cur.2);
        }
        blocks.push(cur);
    }
    let mut out = Vec::with_capacity(y.len());
    for (m, _, len) in blocks {
        out.resize(out.len() + len, m);
    }
    out
}

/// The PAV-transformed log10 LRs of a labelled set of log10 LRs (or scores),
/// each at its own value: the optimal monotone re-calibration (Cllr_min).
pub fn pav_log10_lrs(hp: &[f64], hd: &[f64]) -> (Vec<f64>, Vec<f64>) {
    Ranked::new(hp, hd).pav_log10_lrs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pav_pools_violators_by_weight() {
        assert_eq!(
            pav(&[1.0, 3.0, 2.0, 4.0], &[1.0; 4]),
            vec![1.0, 2.5, 2.5, 4.0]
        );
        // Weight 3 on the 2: (3 + 2·3) / 4 = 2.25.
        assert_eq!(pav(&[3.0, 2.0], &[1.0, 3.0]), vec![2.25, 2.25]);
        // A cascade: 5 pools with 1 (mean 3), then with −3 (mean 1 ≥ 0).
        let p = pav(&[0.0, 5.0, 1.0, -3.0], &[1.0; 4]);
        assert!(p.windows(2).all(|w| w[0] <= w[1]));
        assert!((p.iter().sum::<f64>() - 3.0).abs() < 1e-12);
        assert_eq!(p, vec![0.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn separable_classes_give_zero_and_infinite_lrs() {
        let iso = Isotonic::fit(&[0.8, 0.9], &[0.1, 0.2, 0.3], 0);
        assert_eq!(iso.p, vec![0.0, 0.0, 0.0, 1.0, 1.0]);
        assert_eq!(iso.log10_lr(0.95), f64::INFINITY);
        assert_eq!(iso.log10_lr(0.0), f64::NEG_INFINITY);
        // Halfway between 0.3 (p 0) and 0.8 (p 1): p 0.5, LR 1.
        assert!(iso.log10_lr(0.55).abs() < 1e-12);
        // With one misleading score on each side every LR is finite.
        let m = Isotonic::fit(&[0.8, 0.9], &[0.1, 0.2, 0.3], 1);
        assert!(m.log10_lr(5.0).is_finite() && m.log10_lr(-5.0).is_finite());
        assert!(m.log10_lr(0.95) > 0.0 && m.log10_lr(0.0) < 0.0);
    }

    #[test]
    fn pav_log10_lrs_are_the_fit_read_at_each_value() {
        let hp = [0.5, 0.7, -0.2, 0.5, 3.0, f64::INFINITY];
        let hd = [0.1, 0.5, 0.5, -1.0, 0.6, 0.7, f64::NEG_INFINITY, -0.0, 0.0];
        let iso = Isotonic::fit(&hp, &hd, 0);
        let (php, phd) = pav_log10_lrs(&hp, &hd);
        for (v, p) in hp.iter().zip(&php).chain(hd.iter().zip(&phd)) {
            assert_eq!(p.to_bits(), iso.log10_lr(*v).to_bits(), "at {v}");
        }
    }

    #[test]
    fn balanced_weights_make_the_fit_a_likelihood_ratio() {
        // Hp {0.5, 0.7}, Hd {0.1, 0.5, 0.5, 0.5}: at 0.5 one Hp (weight 4/6)
        // and three Hd (weight 2/6 each): p = (4/6) / (4/6 + 1) = 0.4, and the
        // LR is (1/2 of Hp) / (3/4 of Hd) = 2/3 = 0.4 / 0.6.
        let iso = Isotonic::fit(&[0.5, 0.7], &[0.1, 0.5, 0.5, 0.5], 0);
        assert!((iso.prob(0.5) - 0.4).abs() < 1e-12);
        assert!((iso.log10_lr(0.5) - (2.0f64 / 3.0).log10()).abs() < 1e-12);
        let k = iso.knots();
        for s in [0.0, 0.1, 0.3, 0.5, 0.6, 0.7, 0.9] {
            assert_eq!(k.prob(s), iso.prob(s));
        }
    }
}
