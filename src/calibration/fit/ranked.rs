//! A labelled set of values (the log10 LRs of Hp and Hd pairs) ordered
//! once: its PAV transform (Cllr_min), ELUB bounds, Tippett and ECE curves
//! and its bounded copy all read that one order instead of sorting again.

use super::order::{order, total_key};
use super::pav::{Isotonic, log10_odds};

/// Hp and Hd values and their order.
#[derive(Clone, Debug)]
pub struct Ranked {
    pub hp: Vec<f64>,
    pub hd: Vec<f64>,
    /// Positions (Hp pair k at k, Hd pair k at hp.len() + k) in ascending
    /// `f64::total_cmp` order, equal values by position: the order a stable
    /// sort of the Hp then the Hd values gives.
    order: Vec<usize>,
}

impl Ranked {
    pub fn new(hp: &[f64], hd: &[f64]) -> Ranked {
        Ranked {
            order: order(hp.iter().chain(hd).copied()),
            hp: hp.to_vec(),
            hd: hd.to_vec(),
        }
    }

    /// Positions in order (see the field).
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied()
    }

    fn value(&self, k: usize) -> f64 {
        match k.checked_sub(self.hp.len()) {
            None => self.hp[k],
            Some(j) => self.hd[j],
        }
    }

    /// Every value with its label (true for Hp), in order.
    pub fn labelled(&self) -> Vec<(f64, bool)> {
        self.order
            .iter()
            .map(|&k| (self.value(k), k < self.hp.len()))
            .collect()
    }

    /// The Hp (`hp`) or the Hd values, ascending.
    pub fn class_sorted(&self, hp: bool) -> Vec<f64> {
        self.class_in_order(hp, |k| self.value(k))
    }

    /// `f` of each position of one class, in order.
    fn class_in_order(&self, hp: bool, f: impl Fn(usize) -> f64) -> Vec<f64> {
        let n = self.hp.len();
        self.order
            .iter()
            .filter(|&&k| (k < n) == hp)
            .map(|&k| f(k))
            .collect()
    }

    /// Every value clamped to [lo, hi], ordered without sorting again:
    /// clamping keeps the order, and only the values it makes equal (at
    /// each bound) need their positions put back in order.
    pub fn clamped(&self, lo: f64, hi: f64) -> Ranked {
        let clamp = |v: &[f64]| v.iter().map(|x| x.clamp(lo, hi)).collect::<Vec<f64>>();
        let (hp, hd) = (clamp(&self.hp), clamp(&self.hd));
        let n = hp.len();
        let key = |k: usize| total_key(if k < n { hp[k] } else { hd[k - n] });
        let mut order = self.order.clone();
        let mut start = 0;
        while start < order.len() {
            let at = key(order[start]);
            let mut end = start + 1;
            while end < order.len() && key(order[end]) == at {
                end += 1;
            }
            // −0.0 clamped to a bound of +0.0 stays −0.0 and may now sort
            // before values that preceded it: then sort afresh.
            if end < order.len() && key(order[end]) < at {
                return Ranked::new(&hp, &hd);
            }
            in_position_order(&mut order[start..end], self.order.len());
            start = end;
        }
        Ranked { hp, hd, order }
    }

    /// The PAV-transformed log10 LRs of the values, each at its own value
    /// (`pav::pav_log10_lrs`): each value takes its own pooled point's fit.
    pub fn pav_log10_lrs(&self) -> (Vec<f64>, Vec<f64>) {
        let pts = self.labelled();
        let iso = Isotonic::fit_sorted(&pts, 0);
        let n = self.hp.len();
        let (mut out_hp, mut out_hd) = (vec![0.0; n], vec![0.0; self.hd.len()]);
        // Walk the points as the fit pooled them: a new point at each new value.
        let mut j = 0;
        for (i, &k) in self.order.iter().enumerate() {
            if i > 0 && pts[i - 1].0 != pts[i].0 {
                j += 1;
            }
            let l = log10_odds(iso.p[j]);
            match k.checked_sub(n) {
                None => out_hp[k] = l,
                Some(k) => out_hd[k] = l,
            }
        }
        (out_hp, out_hd)
    }

    /// The PAV transform of one class in order (ascending, as PAV is monotone).
    pub fn pav_class_sorted(&self, pav: (&[f64], &[f64]), hp: bool) -> Vec<f64> {
        let n = self.hp.len();
        self.class_in_order(hp, |k| if k < n { pav.0[k] } else { pav.1[k - n] })
    }

    /// (value, PAV value) of every pair, in order.
    pub fn with_pav(&self, pav: (&[f64], &[f64])) -> Vec<(f64, f64)> {
        let n = self.hp.len();
        self.order
            .iter()
            .map(|&k| {
                let p = if k < n { pav.0[k] } else { pav.1[k - n] };
                (self.value(k), p)
            })
            .collect()
    }
}

/// Sort a run of positions out of `n` ascending: a mark per position and one
/// scan when the run is long (a bound's clamped values, most of a class).
fn in_position_order(run: &mut [usize], n: usize) {
    if run.is_sorted() {
        return;
    }
    if run.len() < 256 {
        run.sort_unstable();
        return;
    }
    let mut mark = vec![false; n];
    for &k in run.iter() {
        mark[k] = true;
    }
    let marked = mark.iter().enumerate().filter(|(_, m)| **m);
    for (slot, (k, _)) in run.iter_mut().zip(marked) {
        *slot = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: &[(f64, bool)]) -> Vec<(u64, bool)> {
        v.iter().map(|p| (p.0.to_bits(), p.1)).collect()
    }

    #[test]
    fn the_order_is_a_stable_sort_of_hp_then_hd() {
        let hp = [0.5, -0.0, 2.0, f64::NAN, 0.5, f64::NEG_INFINITY];
        let hd = [0.0, 0.5, -1e-300, 2.0, f64::INFINITY, -f64::NAN, 0.5];
        let mut want: Vec<(f64, bool)> = hp
            .iter()
            .map(|&s| (s, true))
            .chain(hd.iter().map(|&s| (s, false)))
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        let r = Ranked::new(&hp, &hd);
        assert_eq!(bits(&r.labelled()), bits(&want));
        assert_eq!(r.order[..4], [11, 5, 8, 1]);
        assert_eq!(r.class_sorted(true)[1..4], [-0.0, 0.5, 0.5]);
    }

    #[test]
    fn clamping_orders_as_ranking_the_clamped_values() {
        // Many values beyond each bound, ties at the bounds and inside, and
        // ±0 at a bound of 0.
        let hp: Vec<f64> = (0..900)
            .map(|i| ((i * 37) % 101) as f64 / 10.0 - 5.0)
            .collect();
        let hd: Vec<f64> = (0..700)
            .map(|i| ((i * 53) % 89) as f64 / 8.0 - 6.0)
            .collect();
        let r = Ranked::new(&hp, &hd);
        for (lo, hi) in [
            (-3.25, 4.8),
            (-1.0, 1.0),
            (0.0, 2.0),
            (-5.0, 0.0),
            (-9.0, 9.0),
        ] {
            let c = r.clamped(lo, hi);
            let fresh = Ranked::new(&c.hp, &c.hd);
            assert_eq!(c.order, fresh.order, "[{lo}, {hi}]");
        }
        let signed = Ranked::new(&[-0.0, -1.0, 0.0], &[-0.0, 3.0, -2.0]);
        let c = signed.clamped(0.0, 1.0);
        assert_eq!(c.order, Ranked::new(&c.hp, &c.hd).order);
    }
}
