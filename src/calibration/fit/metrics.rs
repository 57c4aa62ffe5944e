//! Verification error rates over genuine/impostor similarity scores: FMR,
//! FNMR, EER, FNMR@FMR, AUC, the DET curve, and the expected calibration
//! error (ECE) with its reliability diagram.
//!
//! Convention: a pair is a match when `similarity ≥ threshold` (as in
//! [`crate::record::Decision::at`]). Thresholds chosen here lie halfway
//! between two adjacent distinct scores, so ties never sit on the threshold.

use serde::{Deserialize, Serialize};

/// Similarity scores of genuine (same identity) and impostor pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreSet {
    pub genuine: Vec<f64>,
    pub impostor: Vec<f64>,
}

/// One operating point: the rates a threshold gives.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    pub threshold: f64,
    /// False match rate: impostor scores ≥ threshold / impostors.
    pub fmr: f64,
    /// False non-match rate: genuine scores < threshold / genuines.
    pub fnmr: f64,
}

/// The equal error rate and the operating threshold nearest to it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eer {
    /// EER, interpolated on the DET segment that crosses FMR = FNMR.
    pub eer: f64,
    /// The operating point (a real threshold) with the smallest |FMR − FNMR|.
    pub at: OperatingPoint,
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// A threshold strictly above `lo` and at most `hi` (`lo < hi`), as close to
/// their midpoint as an `f32` allows, so decisions in `f32` agree with ours.
fn threshold_between(lo: f64, hi: f64) -> f64 {
    let mid = ((lo + hi) / 2.0) as f32 as f64;
    if mid > lo && mid <= hi { mid } else { hi }
}

impl ScoreSet {
    pub fn new(genuine: Vec<f64>, impostor: Vec<f64>) -> ScoreSet {
        ScoreSet { genuine, impostor }
    }

    /// FMR and FNMR at `threshold`.
    pub fn rates_at(&self, threshold: f64) -> OperatingPoint {
        let fm = self.impostor.iter().filter(|&&s| s >= threshold).count();
        let fnm = self.genuine.iter().filter(|&&s| s < threshold).count();
        OperatingPoint {
            threshold,
            fmr: fm as f64 / self.impostor.len().max(1) as f64,
            fnmr: fnm as f64 / self.genuine.len().max(1) as f64,
        }
    }

    /// Every distinct operating point, thresholds ascending: from "accept
    /// all" (FMR 1, FNMR 0) to "reject all" (FMR 0, FNMR 1).
    pub fn operating_points(&self) -> Vec<OperatingPoint> {
        let (g, i) = (sorted(&self.genuine), sorted(&self.impostor));
        let mut values: Vec<f64> = g.iter().chain(&i).copied().collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let (ng, ni) = (g.len().max(1) as f64, i.len().max(1) as f64);
        let mut points = Vec::with_capacity(values.len() + 1);
        let mut prev: Option<f64> = None;
        for &v in &values {
            let threshold = match prev {
                Some(p) => threshold_between(p, v),
                None => v,
            };
            let fnm = g.partition_point(|&s| s < v);
            let fm = i.len() - i.partition_point(|&s| s < v);
            points.push(OperatingPoint {
                threshold,
                fmr: fm as f64 / ni,
                fnmr: fnm as f64 / ng,
            });
            prev = Some(v);
        }
        if let Some(last) = prev {
            let above = (last as f32).next_up() as f64;
            points.push(OperatingPoint {
                threshold: above,
                fmr: 0.0,
                fnmr: g.len() as f64 / ng,
            });
        }
        points
    }

    /// The equal error rate (`None` without genuine or impostor scores).
    pub fn eer(&self) -> Option<Eer> {
        if self.genuine.is_empty() || self.impostor.is_empty() {
            return None;
        }
        let points = self.operating_points();
        let k = points.iter().position(|p| p.fnmr >= p.fmr)?;
        if k == 0 {
            return Some(Eer {
                eer: points[0].fmr.min(points[0].fnmr),
                at: points[0],
            });
        }
        let (p1, p2) = (points[k - 1], points[k]);
        let (d1, d2) = (p1.fmr - p1.fnmr, p2.fmr - p2.fnmr);
        let alpha = if d1 - d2 > 0.0 { d1 / (d1 - d2) } else { 1.0 };
        let eer = p1.fmr + alpha * (p2.fmr - p1.fmr);
        let at = if d1.abs() < d2.abs() { p1 } else { p2 };
        Some(Eer { eer, at })
    }

    /// The lowest threshold whose FMR is at most `target`.
    pub fn at_fmr(&self, target: f64) -> Option<OperatingPoint> {
        self.operating_points()
            .into_iter()
            .find(|p| p.fmr <= target)
    }

    /// True when there are enough impostor pairs to observe an FMR of `target`
    /// (at least 1/target of them).
    pub fn fmr_measurable(&self, target: f64) -> bool {
        target > 0.0 && self.impostor.len() as f64 * target >= 1.0 - 1e-9
    }

    /// Area under the ROC curve: P(genuine > impostor) + ½ P(tie).
    pub fn auc(&self) -> Option<f64> {
        if self.genuine.is_empty() || self.impostor.is_empty() {
            return None;
        }
        let i = sorted(&self.impostor);
        let mut wins = 0.0;
        for &g in &self.genuine {
            let below = i.partition_point(|&s| s < g);
            let not_above = i.partition_point(|&s| s <= g);
            wins += below as f64 + 0.5 * (not_above - below) as f64;
        }
        Some(wins / (self.genuine.len() as f64 * i.len() as f64))
    }
}

/// One bin of a reliability diagram.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub lo: f64,
    pub hi: f64,
    /// Number of predictions in the bin.
    pub count: usize,
    /// Weighted mean confidence (`None` for an empty bin).
    pub confidence: Option<f64>,
    /// Weighted fraction of correct decisions.
    pub accuracy: Option<f64>,
    /// Share of the total weight in this bin.
    pub weight: f64,
}

/// Expected calibration error and its reliability diagram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    /// ECE = Σ_bins weight · |accuracy − confidence|.
    pub ece: f64,
    pub bins: Vec<ReliabilityBin>,
}

/// A confidence that a decision is right, whether it was, and its weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    pub confidence: f64,
    pub correct: bool,
    pub weight: f64,
}

/// ECE over `n_bins` equal-width bins of [0, 1] (a confidence of exactly 1
/// falls in the last bin).
pub fn reliability(predictions: &[Prediction], n_bins: usize) -> Reliability {
    let n_bins = n_bins.max(1);
    let mut w = vec![0.0; n_bins];
    let mut wc = vec![0.0; n_bins];
    let mut wa = vec![0.0; n_bins];
    let mut count = vec![0usize; n_bins];
    for p in predictions {
        let c = p.confidence.clamp(0.0, 1.0);
        let b = ((c * n_bins as f64) as usize).min(n_bins - 1);
        w[b] += p.weight;
        wc[b] += p.weight * c;
        wa[b] += if p.correct { p.weight } else { 0.0 };
        count[b] += 1;
    }
    let total: f64 = w.iter().sum();
    let mut ece = 0.0;
    let bins = (0..n_bins)
        .map(|b| {
            let share = if total > 0.0 { w[b] / total } else { 0.0 };
            let (conf, acc) = if w[b] > 0.0 {
                (Some(wc[b] / w[b]), Some(wa[b] / w[b]))
            } else {
                (None, None)
            };
            if let (Some(c), Some(a)) = (conf, acc) {
                ece += share * (a - c).abs();
            }
            ReliabilityBin {
                lo: b as f64 / n_bins as f64,
                hi: (b + 1) as f64 / n_bins as f64,
                count: count[b],
                confidence: conf,
                accuracy: acc,
                weight: share,
            }
        })
        .collect();
    Reliability { ece, bins }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(g: &[f64], i: &[f64]) -> ScoreSet {
        ScoreSet::new(g.to_vec(), i.to_vec())
    }

    #[test]
    fn eer_of_overlapping_sets_is_exact() {
        // At any t in (0.6, 0.65]: one genuine (0.6) rejected, one impostor (0.65) accepted.
        let s = set(&[0.6, 0.7, 0.8, 0.9], &[0.1, 0.2, 0.3, 0.65]);
        let e = s.eer().unwrap();
        assert!((e.eer - 0.25).abs() < 1e-12, "{e:?}");
        assert_eq!((e.at.fmr, e.at.fnmr), (0.25, 0.25));
        assert!(e.at.threshold > 0.6 && e.at.threshold <= 0.65);
        assert_eq!(s.rates_at(e.at.threshold), e.at);
    }

    #[test]
    fn eer_of_separable_sets_is_zero() {
        let s = set(&[0.5, 0.9], &[0.1, 0.2, 0.3]);
        let e = s.eer().unwrap();
        assert_eq!(e.eer, 0.0);
        assert!(e.at.threshold > 0.3 && e.at.threshold <= 0.5);
        assert_eq!((e.at.fmr, e.at.fnmr), (0.0, 0.0));
    }

    #[test]
    fn eer_interpolates_between_operating_points() {
        // genuine {0.4, 0.8}, impostor {0.2, 0.6}: at t ∈ (0.4, 0.6] FMR = FNMR = 0.5.
        let s = set(&[0.4, 0.8], &[0.2, 0.6]);
        assert!((s.eer().unwrap().eer - 0.5).abs() < 1e-12);
        // genuine {0.5,0.5,0.9,0.9}, impostor {0.5,0.1}: tie at 0.5 across classes.
        // t ≤ 0.5: FMR 0.5, FNMR 0; t ∈ (0.5,0.9]: FMR 0, FNMR 0.5 → crossing at 0.25.
        let s = set(&[0.5, 0.5, 0.9, 0.9], &[0.5, 0.1]);
        let e = s.eer().unwrap();
        assert!((e.eer - 0.25).abs() < 1e-12, "{e:?}");
    }

    #[test]
    fn fnmr_at_fmr_with_ties_at_the_threshold() {
        // Two tied impostors at 0.5: FMR ≤ 0.25 needs both rejected, so t > 0.5,
        // which also rejects the genuine 0.5 → FNMR 2/5.
        let s = set(&[0.5, 0.45, 0.7, 0.8, 0.9], &[0.5, 0.5, 0.1, 0.2]);
        let p = s.at_fmr(0.25).unwrap();
        assert_eq!(p.fmr, 0.0);
        assert!((p.fnmr - 0.4).abs() < 1e-12);
        assert!(p.threshold > 0.5 && p.threshold <= 0.7);
        let p = s.at_fmr(0.5).unwrap();
        assert_eq!((p.fmr, p.fnmr), (0.5, 0.0));
        assert!(s.fmr_measurable(0.25) && !s.fmr_measurable(0.1));
    }

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(set(&[0.9, 0.8], &[0.1, 0.2]).auc(), Some(1.0));
        assert_eq!(set(&[0.1], &[0.9]).auc(), Some(0.0));
        assert_eq!(set(&[0.5], &[0.5]).auc(), Some(0.5));
        // 0.6 beats 0.2, ties 0.6, loses to 0.9 → (1 + 0.5 + 0) / 3.
        assert!((set(&[0.6], &[0.2, 0.6, 0.9]).auc().unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn operating_points_span_accept_all_to_reject_all() {
        let s = set(&[0.3, 0.7], &[0.3, 0.1]);
        let p = s.operating_points();
        assert_eq!((p[0].fmr, p[0].fnmr), (1.0, 0.0));
        let last = p.last().unwrap();
        assert_eq!((last.fmr, last.fnmr), (0.0, 1.0));
        for q in &p {
            assert_eq!(s.rates_at(q.threshold), *q);
        }
    }

    #[test]
    fn ece_of_known_bins() {
        // Bin [0.9,1.0): confidence 0.95, 3 of 4 right → |0.75−0.95| = 0.2, weight 4/6.
        // Bin [0.5,0.6): confidence 0.5, 1 of 2 right → 0, weight 2/6.
        let mut p: Vec<Prediction> = (0..4)
            .map(|i| Prediction {
                confidence: 0.95,
                correct: i < 3,
                weight: 1.0,
            })
            .collect();
        p.push(Prediction {
            confidence: 0.5,
            correct: true,
            weight: 1.0,
        });
        p.push(Prediction {
            confidence: 0.5,
            correct: false,
            weight: 1.0,
        });
        let r = reliability(&p, 10);
        assert!((r.ece - 0.2 * 4.0 / 6.0).abs() < 1e-12, "{}", r.ece);
        assert_eq!(r.bins[9].count, 4);
        assert_eq!(r.bins[5].accuracy, Some(0.5));
        assert_eq!(r.bins[0].accuracy, None);
        // Perfectly calibrated weights: weight the wrong one 3× → accuracy 0.5 in the top bin.
        p[3].weight = 3.0;
        assert!((reliability(&p, 10).bins[9].accuracy.unwrap() - 0.5).abs() < 1e-12);
        // Confidence exactly 1 lands in the last bin.
        assert_eq!(
            reliability(
                &[Prediction {
                    confidence: 1.0,
                    correct: true,
                    weight: 1.0
                }],
                10
            )
            .bins[9]
                .count,
            1
        );
    }
}
